from flask import Blueprint, abort, render_template

from app.extensions import db
from app.services import texts

bp = Blueprint("library", __name__)


@bp.get("/")
def index():
    """The library: every text with its author and length."""
    return render_template("library/index.html", entries=texts.library(db.session))


@bp.get("/texts/<slug>")
def read(slug: str):
    """A text, paragraph by paragraph, with a margin for notes."""
    view = texts.reading_view(db.session, slug)
    if view is None:
        abort(404, description="There is no text at this address.")
    return render_template("library/read.html", view=view)
