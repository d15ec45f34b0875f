from flask import jsonify, request, url_for

from app.api import bp, require_user
from app.api.webannotation import parse_changes, parse_new, serialise
from app.current import viewer
from app.extensions import db
from app.services import annotations
from app.services.annotations import AnnotationError


def _json_payload():
    payload = request.get_json(silent=True)
    if payload is None:
        raise AnnotationError("Send a JSON object with Content-Type: application/json.", 400)
    return payload


@bp.get("/annotations")
def annotation_list():
    """Annotations on one text (?text=<slug>) that the caller may see, in reading order."""
    slug = request.args.get("text", "").strip()
    if not slug:
        raise AnnotationError("Say which text: ?text=<slug>.", 400)
    text, found = annotations.for_text_slug(db.session, viewer(), slug)
    spans = text.current_revision.spans()
    items = [serialise(a, spans) for a in found]
    return jsonify(
        {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "type": "AnnotationCollection",
            "total": len(items),
            "items": items,
        }
    )


@bp.post("/annotations")
def annotation_create():
    """Store a new annotation (W3C JSON-LD) and answer 201 with it."""
    user = require_user()
    annotation = annotations.create(db.session, user, parse_new(_json_payload()))
    db.session.commit()
    response = jsonify(serialise(annotation, annotation.revision.spans()))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "api.annotation", annotation_id=annotation.id, _external=True
    )
    return response


@bp.get("/annotations/<int:annotation_id>")
def annotation(annotation_id: int):
    """One annotation, if the caller may see it (404 otherwise, whoever's it is)."""
    found = annotations.get_visible(db.session, viewer(), annotation_id)
    return jsonify(serialise(found, found.revision.spans()))


@bp.route("/annotations/<int:annotation_id>", methods=["PATCH", "PUT"])
def annotation_update(annotation_id: int):
    """Edit body, tags, colour or motivation; the earlier state is kept as a version."""
    user = require_user()
    changes = parse_changes(_json_payload(), replace=request.method == "PUT")
    annotation = annotations.edit(db.session, user, annotation_id, changes)
    db.session.commit()
    return jsonify(serialise(annotation, annotation.revision.spans()))


@bp.delete("/annotations/<int:annotation_id>")
def annotation_delete(annotation_id: int):
    """Delete (restorable with POST …/restore right after)."""
    user = require_user()
    annotations.delete(db.session, user, annotation_id)
    db.session.commit()
    return "", 204


@bp.post("/annotations/<int:annotation_id>/restore")
def annotation_restore(annotation_id: int):
    """Undo a delete."""
    user = require_user()
    annotation = annotations.restore(db.session, user, annotation_id)
    db.session.commit()
    return jsonify(serialise(annotation, annotation.revision.spans()))
