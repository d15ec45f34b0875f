from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app import edge
from app.cached import CachedBody
from app.current import remember_unread_count, render_cache, viewer
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
    return texts.Filters(
        member=edge.whole_number(request.args.get("member"), "member", "a reader's number"),
        tag=request.args.get("tag") or None,
        color=_choice("color", HighlightColor),
        kind=_choice("kind", texts.Kind),
        sort=_choice("sort", texts.Sort) or texts.Sort.POSITION,
    )


# Notes per paragraph in the margin; "Show N more" opens the rest. A paragraph's row is as tall
# as its margin: with ten notes (about 280 px each, threads closed) a seminar's busy paragraph
# stood thousands of pixels above the next, which three keep near a paragraph's own height.
MARGIN_NOTES = 3
# Notes on the whole text (and those whose words are gone) listed after it; "Show N more" too.
WHOLE_TEXT_NOTES = 10
# Where the cached part goes in the page around it: markup, so no escaped text can spell it.
BODY_SLOT = Markup("<!--reading-body-->")
# Beyond any text's paragraphs; bounds the numbers a URL can ask to open.
MAX_PARAGRAPH = 99_999


def _paragraphs(name: str) -> frozenset[int]:
    """Paragraph numbers given as ``?name=3&name=5``: ``expand`` (margins listing every note),
    ``note`` and ``discuss`` (the forms a reader without JavaScript opened)."""
    raw = request.args.getlist(name)
    numbers = (edge.whole_number(n, name, "paragraph numbers", MAX_PARAGRAPH) for n in raw)
    return frozenset(n for n in numbers if n is not None)


def _page_args(lens: texts.Lens, page_request: texts.PageRequest) -> dict[str, list[str]]:
    """The page's query as its own links repeat it: made from what the page was parsed into
    (what its cache key holds), never from the request as sent, or a visitor's extra
    parameters would reach every later reader of the cached page."""
    filters = page_request.filters
    args = {"lens": [lens.key]}
    for name, value in (
        ("member", filters.member),
        ("tag", filters.tag),
        ("color", filters.color),
        ("kind", filters.kind),
        ("sort", filters.sort if filters.sort is not texts.Sort.POSITION else None),
        ("focus", page_request.focus),
    ):
        if value:
            args[name] = [str(value)]
    for name, numbers in (
        ("expand", page_request.expand),
        ("note", page_request.note_forms),
        ("discuss", page_request.discuss_forms),
    ):
        if numbers:
            args[name] = [str(n) for n in sorted(numbers)]
    return args


def _paragraph_url(
    slug: str, args: dict[str, list[str]], name: str, number: int, anchor: str | None = None
) -> str:
    """This page with paragraph ``number`` added to ``?name=``, at that paragraph."""
    args = {**args, name: sorted({*args.get(name, []), str(number)}, key=int)}
    return url_for("library.read", slug=slug, **args, _anchor=anchor or f"p{number}")


def _render_body(context: texts.ReadingContext, acting, page_request: texts.PageRequest) -> bytes:
    """The highlights, margins and forms: from the inputs ``context.body_key`` lists, only."""
    view = texts.reading_view(
        db.session,
        context.text.slug,
        acting,
        page_request=page_request,
        context=context,
        margin_limit=MARGIN_NOTES,
        whole_text_limit=WHOLE_TEXT_NOTES,
    )
    user = acting.user
    tags = annotations.tag_suggestions(db.session, acting, context.text_id) if user else []
    return render_template(
        "library/_reading_body.html",
        view=view,
        tag_suggestions=tags,
        kinds=list(texts.Kind),
        flatten=discussion.flatten,
        paragraph_url=partial(
            _paragraph_url, view.text.slug, _page_args(context.lens, page_request)
        ),
    ).encode()


@bp.get("/texts/<slug>")
def read(slug: str):
    """A text, paragraph by paragraph, with the notes of one lens in the margin.

    Rendered once per cache key and then sent as it is: the highlights and margins under
    ``ReadingContext.body_key``, the whole page under ``page_key`` (which adds what the page
    around them shows). A page with a flash message is rendered around the cached highlights
    and margins, and not kept.
    """
    acting = viewer()
    context = texts.reading_context(
        db.session, slug, acting, texts.Lens.parse(request.args.get("lens"))
    )
    if context is None:
        abort(404, description="There is no text at this address.")
    remember_unread_count(context.unread_count)
    page_request = texts.PageRequest(
        filters=_filters(),
        expand=_paragraphs("expand"),
        note_forms=_paragraphs("note"),
        discuss_forms=_paragraphs("discuss"),
        focus=edge.number(request.args.get("focus")),  # see notes.note_in_text; else ignored
    )
    if acting.user and "csrf_token" not in session:
        generate_csrf()  # the session's CSRF secret exists before it goes into the key
    csrf_secret = session.get("csrf_token")
    body_key = context.body_key(acting, page_request, csrf_secret)
    page_key = context.page_key(acting, page_request, csrf_secret)
    cache = render_cache()
    flashes = bool(session.get("_flashes"))
    cached = None if flashes else cache.get(page_key)
    if cached is not None:
        return cached.response()
    body = cache.get_or_make(body_key, partial(_render_body, context, acting, page_request), len)
    head, _, tail = render_template("library/read.html", view=context, body=BODY_SLOT).partition(
        BODY_SLOT
    )
    page = CachedBody.of(head.encode() + body + tail.encode(), "text/html")
    if not flashes:
        cache.put(page_key, page, page.size)
    return page.response()
