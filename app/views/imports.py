"""Importing a file of annotations into a text: the upload form and its report."""

from flask import Blueprint, render_template, request
from flask_login import login_required

from app import edge
from app.current import viewer
from app.errors import status_of
from app.extensions import db
from app.services import annotation_import, texts
from app.services.errors import Refused

bp = Blueprint("imports", __name__)

# A multipart form carries the file and a few fields: room for them past the file's own limit.
UPLOAD_LIMIT = annotation_import.MAX_FILE_BYTES + 64 * 1024


def _form(error: str | None = None, chosen: str | None = None, status: int = 200):
    page = render_template(
        "notes/import.html",
        entries=texts.library(db.session),
        error=error,
        chosen=chosen or request.args.get("text"),
        max_bytes=annotation_import.MAX_FILE_BYTES,
        max_items=annotation_import.MAX_ITEMS,
    )
    return page, status


@bp.get("/import")
@login_required
def form():
    """Choose a text and a file (W3C JSON-LD or a Hypothesis export)."""
    return _form()


@bp.post("/import")
@login_required
@edge.larger_body(UPLOAD_LIMIT)
def upload():
    """Import the file into the text and show the report; a refused file stores nothing and
    comes back to the form with the reason."""
    slug = request.form.get("text", "")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form("Choose a file to import.", slug, 400)
    data = upload.read(annotation_import.MAX_FILE_BYTES + 1)
    try:
        report = annotation_import.import_annotations(db.session, viewer(), slug, data)
    except Refused as error:
        db.session.rollback()
        return _form(f"{error} Nothing was imported.", slug, status_of(error)[0])
    db.session.commit()
    return render_template("notes/import_report.html", report=report)
