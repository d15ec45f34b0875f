from flask import jsonify, request, url_for

from app import edge
from app.api import bp
from app.current import viewer
from app.extensions import db
from app.services import annotations, live, revision_cache
from app.services.errors import NotFound


@bp.get("/texts/<slug>")
def text(slug: str):
    """The text's canonical content and each paragraph's offsets in it (selectors count there)."""
    text = annotations.text_for(db.session, slug)
    revision = text.current_revision
    layout = revision_cache.layout(db.session, revision)
    return jsonify(
        {
            "id": text.id,
            "slug": text.slug,
            "url": url_for("library.read", slug=slug, _external=True),
            "title": text.title,
            "author": text.author,
            "citation": text.citation,
            "revision": revision.number,
            "content": layout.content,
            "paragraphs": [
                {
                    "number": s.paragraph.number,
                    "id": s.paragraph.id,
                    "role": s.paragraph.role.value,
                    "start": s.start,
                    "end": s.end,
                }
                for s in layout.spans
            ],
        }
    )


@bp.get("/ns")
def namespace():
    """What Scholia's extension properties on an annotation mean."""
    return jsonify(
        {
            "scholia:color": "Highlight colour: yellow, green, blue, pink or purple.",
            "scholia:visibility": "Who may see it: private (its author), group or public.",
            "scholia:group": "The group that may see it, when scholia:visibility is group.",
            "scholia:groupName": "The name of that group when the annotation was exported.",
            "scholia:root": "For a reply: the first annotation of its thread.",
            "scholia:hidden": "True when an instructor or administrator has hidden it.",
            "scholia:discussion": "True for a group's thread on a paragraph (no words of its own).",
            "scholia:suggestion": "For a suggested correction (motivation editing, its body "
            "with purpose editing the words it would put in place): open, accepted or declined.",
            "scholia:orphan": "True when the annotated words are no longer in the revised text.",
            "scholia:paragraph": "Number of the paragraph where the annotation starts.",
        }
    )


@bp.get("/problems")
def problems():
    """What each kind of problem (an error's ``type``) means and what to do about it."""
    return jsonify(
        {
            "bad-request": "The request was malformed: read detail, fix it and send it again.",
            "unauthorized": "Sign in, or send a personal access token as a Bearer token.",
            "forbidden": "You may not do this to this annotation, group or text.",
            "not-found": "There is no such thing, or you may not know of it.",
            "conflict": "The request clashes with what is stored now: read it and try again.",
            "too-large": "The request or a field of it is longer than the limit.",
            "unsupported-media-type": "Send the request's body as JSON (Content-Type).",
            "unprocessable-annotation": "The annotation is well-formed but cannot be taken.",
            "too-many-requests": "Too many writes: wait for Retry-After seconds.",
            "form-expired": "A signed-in write lacked its CSRF token (X-CSRFToken).",
            "cannot-save-right-now": "The database cannot take writes now: retry later.",
            "precondition-failed": "If-Match names an older version: read it again first.",
        }
    )


@bp.get("/texts/<slug>/events")
def events(slug: str):
    """The live feed: changes after ``?after=<cursor>`` that the caller may know of.

    Without ``after`` it only returns the current cursor, to start following from now.
    Polling this is stateless, so any worker on any server answers and nothing is missed.
    """
    after = edge.whole_number(request.args.get("after"), "after", "a cursor", edge.MAX_BIG)
    found = live.news(db.session, slug, after, viewer)
    if found is None:
        raise NotFound(f"There is no text '{slug}'.")
    events, cursor = found
    return jsonify(cursor=cursor, events=[e.as_json() for e in events])
