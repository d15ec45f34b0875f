"""The search page: a form with its filters, and a page of results, without JavaScript."""

from flask import Blueprint, render_template, request, url_for

from app.current import viewer
from app.extensions import db
from app.services import groups, search
from app.services.errors import Malformed

bp = Blueprint("search", __name__)

# The arguments a page of results passes on to the next (only these: ``url_for`` reads others,
# as ``_external``, itself).
FILTERS = ("q", "text", "group", "member", "tag", "from", "to", "kind")
KIND_LABELS = {
    "paragraph": "Paragraphs",
    "note": "Notes",
    "highlight": "Highlights",
    "question": "Questions",
    "reply": "Replies",
}


def hit_url(hit: search.Hit) -> str:
    """Where a result leads: the note in its text (in a lens that shows it), or the paragraph."""
    from app.views.notes import note_in_text

    if hit.annotation is not None:
        return note_in_text(hit.annotation)
    return url_for("library.read", slug=hit.text.slug, _anchor=f"p{hit.paragraph}")


@bp.get("/search")
def index():
    """Everything the reader may see, by its words: a bad filter is a message on the page."""
    acting = viewer()
    args = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    try:
        query = search.parse(request.args, acting)
        results = search.search(db.session, acting, query)
        problem, status = None, 200
    except Malformed as refusal:
        query, results, problem, status = search.Query(), None, str(refusal), 400
    page = render_template(
        "search.html",
        query=query,
        results=results,
        problem=problem,
        texts=search.text_choices(db.session),
        group_names=groups.names(db.session, acting),
        args=args,
        any_author=url_for("search.index", **{k: v for k, v in args.items() if k != "member"}),
        hit_url=hit_url,
        kinds=KIND_LABELS,
    )
    return page, status
