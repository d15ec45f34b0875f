from urllib.parse import urlsplit

from flask import jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from app.api import bp, presenters, protocol, require_user
from app.api.presenters import Urls, serialise, xsd_datetime
from app.api.schemas import (
    GROUP_KEY,
    VISIBILITY_KEY,
    parse_audience,
    parse_body_form,
    parse_changes,
    parse_flag,
    parse_new,
    parse_paging,
    parse_reply,
    reply_target,
)
from app.cached import CachedBody
from app.current import render_cache, viewer
from app.extensions import db
from app.models import Annotation, Motivation, ReactionKind, TextRevision
from app.services import (
    annotation_pages,
    annotations,
    corrections,
    discussion,
    moderation,
    previews,
)
from app.services.access import Action, can
from app.services.errors import Conflict, Malformed, NotFound


def _json_payload():
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Send JSON ({protocol.ANNO_MEDIA_TYPE}, or application/json), not "
            f"{request.mimetype[:80] or 'a body without a Content-Type'}."
        )
    payload = request.get_json(silent=True)
    if payload is None:
        raise Malformed("Send a JSON object with Content-Type: application/json.")
    return payload


def _representation(annotation: Annotation, urls: Urls | None = None) -> bytes:
    """The annotation's JSON as the caller is served it: what its ETag is made from."""
    readable = can(viewer(), Action.READ_HIDDEN, annotation)
    spans = annotations.paragraph_spans(db.session, annotation)
    data = serialise(annotation, spans, readable, urls or Urls.of_request())
    return jsonify(data).get_data()


def _json_field(name: str, kind: type, example: str):
    """The one field ``name`` of a JSON object request, of type ``kind``; else 400 showing
    ``example``."""
    payload = _json_payload()
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, kind):
        raise Malformed(f"Send {example}.")
    return value


def _json(annotation: Annotation, status: int = 200, location: str | None = None):
    return protocol.annotation_response(_representation(annotation), status, location)


def _check_if_match(acting, annotation_id: int) -> None:
    """A write naming the version it read (``If-Match``) is refused (412) if that has moved on."""
    if request.if_match:
        current = annotations.get_visible(db.session, acting, annotation_id)
        protocol.check_if_match(_representation(current))


@bp.get("/annotations")
def annotation_list():
    """The container of the text named by ``?text=<slug>``: the path before containers had one
    of their own, kept for the clients written against it."""
    slug = request.args.get("text", "").strip()
    if not slug:
        raise Malformed("Say which text: ?text=<slug>.")
    return container(slug)


@bp.get("/texts/<slug>/annotations/")
def container(slug: str):
    """The annotations on one text that the caller may see, in reading order, paged: the
    text's W3C annotation container (see ``presenters.container``; ``Prefer`` and ``?iris=1``
    ask for a minimal container or IRIs only).

    The JSON (and its gzip) is kept in this worker's render cache under everything it is made
    from: the text and its revision, the text's change-log cursor (every change to its
    annotations moves it), the viewer's identity and group roles, the page and view asked for
    and the container's IRI (the root the IRIs are built on).
    """
    paging = parse_paging(request.args)
    view, preferred = protocol.container_view(parse_flag(request.args, "iris"))
    acting = viewer()
    state = annotation_pages.text_state(db.engine, slug)  # with the cursor, before any annotation
    urls = Urls.of_request()  # the IRIs, made from the request's root URL as the container's is
    key = ("api.container", state, acting.cache_key, paging, view, urls.container(state.slug))

    def make() -> CachedBody:
        wanted = paging.page is not None or not view.minimal
        total, found = annotation_pages.page_for_text(
            db.session, acting, state.id, paging.offset, paging.limit if wanted else 0
        )
        if view.iris:
            items: list = [urls.annotation(state.slug, a.id) for a in found]
        else:
            spans = db.session.get(TextRevision, state.revision_id).spans() if found else []
            items = [
                serialise(a, spans, can(acting, Action.READ_HIDDEN, a), urls, context=False)
                for a in found
            ]
        response = jsonify(presenters.container(urls, state, paging, total, items, view))
        return CachedBody.of(response.get_data(), response.mimetype)

    cached = render_cache().get_or_make(key, make, lambda cached: cached.size)
    content_type = protocol.media_type()
    headers = protocol.CONTAINER_HEADERS if paging.page is None else protocol.PAGE_HEADERS
    if preferred:
        headers = (*headers, ("Preference-Applied", "return=representation"))
    if request.path != urlsplit(urls.container(state.slug)).path:
        headers = (*headers, ("Content-Location", urls.container(state.slug)))
    return cached.negotiated_response(
        content_type, protocol.etag(cached.digest, content_type), headers, "Accept, Prefer"
    )


@bp.url_value_preprocessor
def _inside_its_container(endpoint: str | None, values: dict | None) -> None:
    """An annotation's IRI is inside its text's container: under another text's it is not there."""
    if values and "annotation_id" in values and "slug" in values:
        slug = values.pop("slug")
        if annotations.text_slug_of(db.session, values["annotation_id"]) != slug:
            raise NotFound("No such annotation.")


@bp.post("/annotations")
@bp.post("/texts/<slug>/annotations/")
def annotation_create(slug: str | None = None):
    """Store a new annotation or reply (W3C JSON-LD) and answer 201 with it. Posted to a
    text's container, it must be on that text."""
    acting = require_user()
    payload = _json_payload()
    parent_id = reply_target(payload)
    if parent_id is not None:
        if slug is not None:
            # The parent's text, once the caller may see it: a 409 naming "another text" for
            # a note they may not would tell them it exists, and (container by container) where.
            parent = annotations.get_visible(db.session, acting, parent_id)
            _check_posted_to(slug, parent.text.slug)
        body = parse_reply(payload)
        # A client that names the audience it saw is told if the thread has moved since.
        seen = parse_audience(payload) if VISIBILITY_KEY in payload else None
        form = parse_body_form(payload)

        def make():
            return discussion.reply(db.session, acting, parent_id, body, seen, form)
    else:
        draft = parse_new(payload, request.host)
        if slug is not None:
            _check_posted_to(slug, draft.text_slug)

        def make():
            if draft.motivation is Motivation.EDITING:
                return corrections.suggest(db.session, acting, draft)
            return annotations.create(db.session, acting, draft)

    key = request.headers.get("Idempotency-Key")
    annotation, made = annotations.once(db.session, acting, key, make)
    db.session.commit()
    iri = Urls.of_request().annotation(annotation.text.slug, annotation.id)
    response = _json(annotation, 201, iri)
    if not made:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _check_posted_to(slug: str, target_slug: str | None) -> None:
    """409 if an annotation posted to one text's container targets another text."""
    if target_slug is not None and target_slug != slug:
        raise Conflict(
            f"This container holds the annotations on '{slug}', and this one targets another "
            "text: post it to that text's container."
        )


@bp.post("/preview")
def preview():
    """A note body's Markdown as the page will show it once saved: ``{"markdown": …}`` in,
    ``{"html": …}`` out. Nothing is stored."""
    acting = require_user()
    source = _json_field("markdown", str, '{"markdown": "…"}: the note\'s words as a string')
    return jsonify(html=previews.render(acting.id, source))


@bp.get("/annotations/<int:annotation_id>")
@bp.get("/texts/<slug>/annotations/<int:annotation_id>")
def annotation(annotation_id: int):
    """One annotation, if the caller may see it (404 otherwise, whoever's it is)."""
    return _json(annotations.get_visible(db.session, viewer(), annotation_id))


@bp.route("/annotations/<int:annotation_id>", methods=["PATCH", "PUT"])
@bp.route("/texts/<slug>/annotations/<int:annotation_id>", methods=["PATCH", "PUT"])
def annotation_update(annotation_id: int):
    """Edit body, tags, colour or motivation (history kept), or the thread's audience."""
    acting = require_user()
    payload = _json_payload()
    changes = parse_changes(payload, replace=request.method == "PUT", host=request.host)
    _check_if_match(acting, annotation_id)
    annotation = annotations.edit(db.session, acting, annotation_id, changes)
    if VISIBILITY_KEY in payload or GROUP_KEY in payload:
        audience = parse_audience(payload)
        if (annotation.visibility, annotation.group_id) != audience:
            annotation = annotations.set_visibility(db.session, acting, annotation_id, *audience)
    db.session.commit()
    return _json(annotation)


@bp.delete("/annotations/<int:annotation_id>")
@bp.delete("/texts/<slug>/annotations/<int:annotation_id>")
def annotation_delete(annotation_id: int):
    """Delete (restorable with POST …/restore right after): its author deletes the annotation,
    a moderator removes it with the replies beneath it (see annotations.delete)."""
    acting = require_user()
    _check_if_match(acting, annotation_id)
    annotations.delete(db.session, acting, annotation_id)
    db.session.commit()
    return "", 204


@bp.post("/annotations/<int:annotation_id>/restore")
@bp.post("/texts/<slug>/annotations/<int:annotation_id>/restore")
def annotation_restore(annotation_id: int):
    """Undo a delete."""
    annotation = annotations.restore(db.session, require_user(), annotation_id)
    db.session.commit()
    return _json(annotation)


def _reaction_kind(kind: str) -> ReactionKind:
    try:
        return ReactionKind(kind)
    except ValueError:
        raise NotFound("Reactions are 'agree' or 'question'.") from None


REACTION = "/annotations/<int:annotation_id>/reactions/<kind>"


@bp.route(REACTION, methods=("PUT", "DELETE"))
@bp.route("/texts/<slug>" + REACTION, methods=("PUT", "DELETE"))
def annotation_react(annotation_id: int, kind: str):
    """PUT adds my agree/question (once), DELETE takes it back."""
    on = request.method == "PUT"
    discussion.react(db.session, require_user(), annotation_id, _reaction_kind(kind), on)
    db.session.commit()
    return "", 204


@bp.post("/annotations/<int:annotation_id>/flags")
@bp.post("/texts/<slug>/annotations/<int:annotation_id>/flags")
def annotation_flag(annotation_id: int):
    """{"reason": "..."}: ask the note's moderators to look at it (201; 409 while my earlier flag
    of it waits)."""
    acting = require_user()
    reason = _json_field("reason", str, '{"reason": "why this needs an instructor\'s attention"}')
    entry = moderation.flag(db.session, acting, annotation_id, reason)
    db.session.commit()
    response = jsonify(
        annotation=entry.annotation_id, reason=entry.reason, created=xsd_datetime(entry.created_at)
    )
    response.status_code = 201
    return response


@bp.post("/annotations/<int:annotation_id>/hidden")
@bp.post("/texts/<slug>/annotations/<int:annotation_id>/hidden")
def annotation_hide(annotation_id: int):
    """Moderators: {"hidden": true} hides from members, false shows again."""
    acting = require_user()
    hidden = _json_field("hidden", bool, '{"hidden": true} or {"hidden": false}')
    annotation = moderation.set_hidden(db.session, acting, annotation_id, hidden)
    db.session.commit()
    return _json(annotation)
