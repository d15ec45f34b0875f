from __future__ import annotations

import hashlib
import re
from functools import partial
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app import edge
from app.cached import CachedBody
from app.current import remember_unread_count, render_cache, viewer
from app.extensions import db
from app.models import HighlightColor
from app.services import annotations, discussion, live, moderation, prompts, texts
from app.services.access import Viewer
from app.services.texts import adding

bp = Blueprint("library", __name__)


@bp.get("/")
def index():
    """The library: every text with its author and length."""
    acting = viewer()
    return render_template(
        "library/index.html",
        entries=texts.library(db.session),
        may_add=adding.may_add(acting),
        may_edit=partial(adding.may_edit, acting),
    )


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
# Beyond any text's paragraphs; bounds the numbers a URL can ask to open.
MAX_PARAGRAPH = 99_999


def _paragraphs(name: str) -> frozenset[int]:
    """Paragraph numbers given as ``?name=3&name=5``: ``expand`` (margins listing every note),
    ``note`` and ``discuss`` (the forms a reader without JavaScript opened), ``prompt`` (an
    instructor's form for the question pinned to a paragraph)."""
    raw = request.args.getlist(name)
    numbers = (edge.whole_number(n, name, "paragraph numbers", MAX_PARAGRAPH) for n in raw)
    return frozenset(n for n in numbers if n is not None)


# The page's query as its links repeat it and an action returns to it (notes.back_to_page): the
# forms a reader opened (note, discuss, prompt) and a focus are the page's of the moment, not kept.
PAGE_ARGUMENTS = frozenset({"lens", "member", "tag", "color", "kind", "sort", "expand", "heat"})


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
        ("heat", "1" if page_request.heat else None),
    ):
        if value:
            args[name] = [str(value)]
    for name, numbers in (
        ("expand", page_request.expand),
        ("note", page_request.note_forms),
        ("discuss", page_request.discuss_forms),
        ("prompt", page_request.prompt_forms),
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


PART_BREAK = "<!--part-break-->"
WHOLE_TEXT = texts.WHOLE_TEXT_PART
# How many notes part 0 lists (the link above the text says), as its first tag has it.
WHOLE_TEXT_COUNT = re.compile(r'^\s*<div class="whole-text-part" id="part-0" data-count="(\d+)"')
# Where a reader's own form goes in part 0 (the notes on the whole text).
TEXT_NOTE_FORM_SLOT = '<div class="text-note-form-slot"></div>'


def _render_parts(
    context: texts.ReadingContext,
    reader: Viewer,
    page_request: texts.PageRequest,
    numbers: list[int],
    shared: bool,
) -> dict[int, bytes]:
    """Parts ``numbers`` as ``reader`` sees them (an audience's stand-in when ``shared``): from
    the inputs their keys list, only (services/texts/parts.py)."""
    view = texts.reading_view(
        db.session,
        context.text.slug,
        reader,
        page_request=page_request,
        context=context,
        # The print version lists every note: a printed page that stopped at three would lie.
        margin_limit=None if page_request.printing else MARGIN_NOTES,
        whole_text_limit=None if page_request.printing else WHOLE_TEXT_NOTES,
        only=frozenset(numbers) if len(numbers) < len(context.spans) else None,
    )
    html = render_template(
        "library/_parts.html",
        view=view,
        numbers=numbers,
        paragraph_views={pv.paragraph.number: pv for pv in view.paragraphs},
        reader=reader,
        shared=shared,
        default_audience=context.default_audience(reader),
        may=partial(texts.may, reader),
        may_pin=partial(prompts.may_pin, reader),
        may_author=partial(texts.may_as_author, reader) if shared else partial(texts.may, reader),
        flatten=discussion.flatten,
        paragraph_url=partial(
            _paragraph_url, view.text.slug, _page_args(context.lens, page_request)
        ),
        back_query=urlencode(
            {
                k: v
                for k, v in _page_args(context.lens, page_request).items()
                if k in PAGE_ARGUMENTS
            },
            doseq=True,
        ),
    )
    return dict(zip(numbers, (part.encode() for part in html.split(PART_BREAK)), strict=True))


def _parts(
    context: texts.ReadingContext,
    acting: Viewer,
    page_request: texts.PageRequest,
    planned: list[texts.Part],
) -> dict[int, bytes]:
    """The parts from the render cache, rendering (once per audience) the ones it lacks."""
    cache = render_cache()
    found = {part.number: cache.get(part.key) for part in planned}
    for personal in (False, True):
        missing = [p for p in planned if found[p.number] is None and p.personal is personal]
        if not missing:
            continue
        if personal:
            reader, from_context = acting, context
        else:
            reader = texts.audience_for(acting, context.lens).stand_in()
            from_context = texts.shared_context(context)
        numbers = [p.number for p in missing]
        made = _render_parts(from_context, reader, page_request, numbers, not personal)
        for part in missing:
            found[part.number] = made[part.number]
            cache.put(part.key, made[part.number], len(made[part.number]))
    return found


def _render_page(
    context: texts.ReadingContext, acting: Viewer, page_request: texts.PageRequest, csrf_secret
) -> bytes:
    # The text first, held by the context: a shared part's context (a copy) then finds it in
    # the session, whose identity map keeps an object only while something else does; loaded
    # there alone, the page read it again whenever the garbage collector ran in between.
    context.text  # noqa: B018
    spans = context.spans
    numbers = texts.part_numbers(spans)
    planned = texts.plan_parts(db.session, context, acting, page_request, numbers, csrf_secret)
    parts = _parts(context, acting, page_request, planned)
    html = {number: body.decode() for number, body in parts.items()}
    if acting.user and not page_request.printing:
        form = render_template("library/_text_note_form.html", view=context)
        filled = TEXT_NOTE_FORM_SLOT.replace("></div>", ">" + form + "</div>")
        html[WHOLE_TEXT] = html[WHOLE_TEXT].replace(TEXT_NOTE_FORM_SLOT, filled, 1)
    whole_text_count = WHOLE_TEXT_COUNT.search(html[WHOLE_TEXT])
    # Our templates' own output, put together: nothing in it is unescaped input.
    html = {number: Markup(part) for number, part in html.items()}  # noqa: S704
    by_role = {
        role: [s.paragraph.number for s in spans if s.paragraph.role in roles]
        for role, roles in texts.SECTIONS.items()
    }
    return render_template(
        "library/read.html",
        view=context,
        parts=html,
        front_matter=by_role["front_matter"],
        body_paragraphs=by_role["body"],
        citations=by_role["citations"],
        members=texts.members(db.session, acting, context.text_id, context.lens),
        filters=page_request.filters,
        kinds=list(texts.Kind),
        whole_text_count=int(whole_text_count[1]) if whole_text_count else 0,
        printing=page_request.printing,
        heat=page_request.heat,
        may_edit=adding.may_edit(acting, context.text),
        # The same lens and filters on the page and in its print version.
        lens_args=_page_args(context.lens, texts.PageRequest(filters=page_request.filters)),
        my_reactions=discussion.my_reactions(db.session, acting, context.text_id),
        my_flags=moderation.my_flagged(db.session, acting, context.text_id),
        tag_suggestions=(
            annotations.tag_suggestions(db.session, acting, context.text_id) if acting.user else []
        ),
    ).encode()


def _page_request(printing: bool = False) -> texts.PageRequest:
    """The page's query (lens aside): its filters and the margins and forms it opens. The print
    version has the filters only: it opens every margin and thread, and no form."""
    if printing:
        return texts.PageRequest(filters=_filters(), printing=True)
    return texts.PageRequest(
        filters=_filters(),
        expand=_paragraphs("expand"),
        note_forms=_paragraphs("note"),
        discuss_forms=_paragraphs("discuss"),
        prompt_forms=_paragraphs("prompt"),
        focus=edge.number(request.args.get("focus")),  # see notes.note_in_text; else ignored
        heat=request.args.get("heat") == "1",  # the heat strip, in a group's lens
    )


def _reading_request() -> tuple[texts.ReadingContext, Viewer, str | None]:
    """Who reads which text in which lens, and the CSRF secret their forms are made from: 404
    for no text."""
    acting = viewer()
    context = texts.reading_context(
        db.session, request.view_args["slug"], acting, texts.Lens.parse(request.args.get("lens"))
    )
    if context is None:
        abort(404, description="There is no text at this address.")
    if acting.user and "csrf_token" not in session:
        generate_csrf()  # the session's CSRF secret exists before it goes into the key
    return context, acting, session.get("csrf_token")


@bp.get("/texts/<slug>")
def read(slug: str):
    """A text, paragraph by paragraph, with the notes of one lens in the margin."""
    return _reading_page(_page_request())


@bp.get("/texts/<slug>/print")
def print_version(slug: str):
    """The reading page to print: the same lens and filters, every note and every reply.

    The same page, parts and access path as ``read``; ``PageRequest.printing`` lifts the margins'
    limits and opens the threads, and keys its parts and page apart from the reading page's."""
    return _reading_page(_page_request(printing=True))


def _reading_page(page_request: texts.PageRequest) -> Response:
    """The reading page for this request.

    Assembled from its parts (each rendered once for everyone who sees it alike, see
    services/texts/parts.py) around what is the reader's own; the whole page is then kept under
    ``ReadingContext.page_key``. A page with a flash message is not kept, nor a print version:
    with every note it can be megabytes, one per reader, and a class printing the week's text
    would push every other page out of the cache (its parts, shared, are kept).
    """
    context, acting, csrf_secret = _reading_request()
    remember_unread_count(context.unread_count)
    page_key = context.page_key(acting, page_request, csrf_secret)
    cache = render_cache()
    kept = not (session.get("_flashes") or page_request.printing)
    cached = cache.get(page_key) if kept else None
    if cached is not None:
        return cached.response()
    page = CachedBody.of(_render_page(context, acting, page_request, csrf_secret), "text/html")
    if kept:
        cache.put(page_key, page, page.size)
    return page.response()


@bp.get("/texts/<slug>/parts/<int(min=0):number>")
def part(slug: str, number: int):
    """One part of the reading page (a paragraph, or 0: the notes on the whole text), as the
    page with the same query shows it, at an address of its own (for scripts; the page's live
    updates get their parts in its feed, ``page_events``). Answered 304 while the part is
    unchanged for this reader."""
    page_request = _page_request()
    context, acting, csrf_secret = _reading_request()
    spans = context.spans
    if number not in texts.part_numbers(spans):
        abort(404, description="The text has no such part.")
    (planned,) = texts.plan_parts(db.session, context, acting, page_request, [number], csrf_secret)
    etag = hashlib.sha256(repr(planned.key).encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        body = _parts(context, acting, page_request, [planned])[number]
        response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/texts/<slug>/events")
def page_events(slug: str):
    """The reading page's live feed: the API's events after ``?after=<cursor>``, with the parts
    they changed as the page with the same query shows them to this reader (only those changed
    after the cursor for them). A poll is one request whatever changed, and one with nothing
    new is answered from one statement (``live.news``)."""
    after = edge.whole_number(request.args.get("after"), "after", "a cursor", edge.MAX_BIG)
    page_request = _page_request()
    found = live.news(db.session, slug, after, viewer)
    if found is None:
        abort(404, description="There is no text at this address.")
    events, cursor = found
    parts: dict[int, str] = {}
    lens = None
    named = {n for e in events for n in e.parts}
    if named and after is not None:
        context, acting, csrf_secret = _reading_request()
        lens = context.lens.key  # not the page's when the reader may no longer use that
        numbers = [n for n in texts.part_numbers(context.spans) if n in named]
        planned = texts.plan_parts(db.session, context, acting, page_request, numbers, csrf_secret)
        changed = [p for p in planned if p.version > after]
        if changed:
            parts = {
                n: body.decode()
                for n, body in _parts(context, acting, page_request, changed).items()
            }
    answer = {
        "cursor": cursor,
        "events": [e.as_json() for e in events],
        "parts": parts,
        "lens": lens,
    }
    if events:  # the revision the text is on: a page on an older one takes the whole page again
        answer["revision"] = live.current_revision_id(db.session, slug)
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readers/<int:user_id>.css")
def own_controls(user_id: int):
    """What shows a reader the controls on their own notes in parts shared with others (each
    part has them for every note, hidden): it names only the id, so anyone may have it."""
    css = (
        f'.own-controls[data-author="{user_id}"] {{ display: inline; }}\n'
        f'.not-own[data-author="{user_id}"] {{ display: none; }}\n'
    )
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"  # a day: its rules may change
    return response
