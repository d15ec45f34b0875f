from flask import jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from app import edge
from app.api import bp, require_user
from app.extensions import db
from app.services import annotation_import
from app.services.annotations.rules import MAX_IMPORT_BYTES
from app.services.errors import Malformed


@bp.post("/imports")
@edge.larger_body(MAX_IMPORT_BYTES + 1)  # (the service's own module is not loaded yet)
def import_create():
    """Import a file of annotations (the body: W3C JSON-LD or a Hypothesis export) into the text
    ``?text=<slug>``, and answer 201 with the report (see ``annotation_import.Report``)."""
    acting = require_user()
    slug = request.args.get("text", "").strip()
    if not slug:
        raise Malformed("Say which text to import into: ?text=<slug>.")
    if not request.is_json:
        raise UnsupportedMediaType(
            "Send the file as the body, with Content-Type: application/ld+json or application/json."
        )
    report = annotation_import.import_annotations(db.session, acting, slug, request.get_data())
    db.session.commit()
    response = jsonify(report.as_json())
    response.status_code = 201
    return response
