from flask import Blueprint, abort, render_template, request

from app.current import viewer
from app.extensions import db
from app.models import HighlightColor
from app.services import annotations, discussion, texts

bp = Blueprint("library", __name__)


@bp.get("/")
def index():
    """The library: every text with its author and length."""
    return render_template("library/index.html", entries=texts.library(db.session))


def _choice(name: str, enum_type):
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        abort(400, description=f"Unknown {name} {raw!r}; choose one of: {allowed}.")


def _filters() -> texts.Filters:
    member = request.args.get("member", "")
    if member and not member.isdigit():
        abort(400, description="Unknown member.")
    return texts.Filters(
        member=int(member) if member else None,
        tag=request.args.get("tag") or None,
        color=_choice("color", HighlightColor),
        kind=_choice("kind", texts.Kind),
        sort=_choice("sort", texts.Sort) or texts.Sort.POSITION,
    )


@bp.get("/texts/<slug>")
def read(slug: str):
    """A text, paragraph by paragraph, with the notes of one lens in the margin."""
    acting = viewer()
    lens = texts.Lens.parse(request.args.get("lens"))
    view = texts.reading_view(db.session, slug, acting, lens, _filters())
    if view is None:
        abort(404, description="There is no text at this address.")
    signed_in = acting.user is not None
    return render_template(
        "library/read.html",
        view=view,
        tag_suggestions=annotations.tag_suggestions(db.session, acting) if signed_in else [],
        kinds=list(texts.Kind),
        sorts=list(texts.Sort),
        colors=list(HighlightColor),
        flatten=discussion.flatten,
    )
