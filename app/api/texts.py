from flask import jsonify, url_for

from app.api import bp
from app.extensions import db
from app.services import texts
from app.services.annotations import AnnotationError


@bp.get("/texts/<slug>")
def text(slug: str):
    """The text's canonical content and each paragraph's offsets in it (selectors count there)."""
    view = texts.reading_view(db.session, slug)
    if view is None:
        raise AnnotationError(f"There is no text '{slug}'.", 404)
    return jsonify(
        {
            "id": view.text.id,
            "slug": view.text.slug,
            "url": url_for("library.read", slug=slug, _external=True),
            "title": view.text.title,
            "author": view.text.author,
            "citation": view.text.citation,
            "revision": view.revision.number,
            "content": view.revision.content,
            "paragraphs": [
                {
                    "number": s.paragraph.number,
                    "id": s.paragraph.id,
                    "role": s.paragraph.role.value,
                    "start": s.start,
                    "end": s.end,
                }
                for s in view.spans
            ],
        }
    )


@bp.get("/ns")
def namespace():
    """What Scholia's extension properties on an annotation mean."""
    return jsonify(
        {
            "scholia:color": "Highlight colour: yellow, green, blue, pink or purple.",
            "scholia:visibility": "Who may see the annotation: private (only its author).",
            "scholia:orphan": "True when the annotated words are no longer in the revised text.",
            "scholia:paragraph": "Number of the paragraph where the annotation starts.",
        }
    )
