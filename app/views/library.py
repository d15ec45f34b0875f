from flask import Blueprint, abort, render_template

from app.current import viewer
from app.extensions import db
from app.services import annotations, texts

bp = Blueprint("library", __name__)


@bp.get("/")
def index():
    """The library: every text with its author and length."""
    return render_template("library/index.html", entries=texts.library(db.session))


@bp.get("/texts/<slug>")
def read(slug: str):
    """A text, paragraph by paragraph, with a margin for notes."""
    view = texts.reading_view(db.session, slug, viewer())
    if view is None:
        abort(404, description="There is no text at this address.")
    suggestions = (
        annotations.tag_suggestions(db.session, viewer()) if viewer().user is not None else []
    )
    return render_template("library/read.html", view=view, tag_suggestions=suggestions)
