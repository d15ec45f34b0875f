"""Full-text search over the texts' paragraphs and the annotations a viewer may read.

The index holds only words (migration 0014): each paragraph's, and each annotation's body,
quote and tags, keyed by id and kept in step by database triggers. Who may find what is decided
here, at query time, by joining each annotation's row and the one access policy
(``access.readable_by``): hiding, moving, deleting a note or leaving a group takes effect at
once, with nothing to re-index. Paragraphs count only in their text's current revision.

SQLite searches with FTS5 (porter stemming, ``highlight`` to rank, ``snippet``), PostgreSQL
with tsvector, GIN, ``plainto_tsquery``, ``ts_rank`` and ``ts_headline``: one function per
backend gives the match, rank and snippet SQL (``_sqlite``, ``_postgresql``); everything else is
shared. A reader's query never reaches either engine as syntax: it is cut into words, each
quoted. A rank weighs only the row's own words, never the index's (which holds what the reader
may not read).
"""

from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    FromClause,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import Session, joinedload, lazyload

from app.models import (
    Annotation,
    AnnotationTag,
    Motivation,
    Paragraph,
    Text,
    User,
    Visibility,
)
from app.models.annotation import GROUP_KEY_PREFIX
from app.models.text import PARAGRAPH_SEPARATOR
from app.services.access import Viewer, readable_by
from app.services.annotations.rules import normalise_tag
from app.services.errors import Malformed

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
KINDS = ("paragraph", "note", "highlight", "question", "reply")
# Around each match in a snippet; the markers cannot survive into what is shown unpaired, and
# what the engines return is escaped before they become <mark>.
_START, _STOP = "\x02", "\x03"
_MARKED = re.compile(f"{_START}([^{_START}{_STOP}]*){_STOP}")
_WORDS = re.compile(r"[^\W_]+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Query:
    """What a reader asked: the words (as typed, cut to size) and the filters, checked."""

    q: str = ""
    text: str | None = None  # a text's slug
    group: int | None = None
    member: int | None = None  # an author's id
    tag: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: str | None = None
    page: int = 1

    @property
    def terms(self) -> list[str]:
        return _WORDS.findall(self.q)[:MAX_TERMS]

    @property
    def notes_only(self) -> bool:
        """Filters only annotations have: a paragraph has no author, group, tag or date."""
        return bool(
            self.group or self.member or self.tag or self.date_from or self.date_to
        ) or self.kind not in (None, "paragraph")


@dataclass
class Hit:
    kind: str  # one of KINDS
    snippet: Markup
    text: Text
    paragraph: int | None  # the ¶ number; None for a note on the whole text
    annotation: Annotation | None = None
    paragraph_id: int | None = None

    @property
    def author(self) -> str | None:
        return self.annotation.user.display_name if self.annotation else None

    @property
    def created(self) -> datetime | None:
        return self.annotation.created_at if self.annotation else None


@dataclass
class Results:
    query: Query
    total: int = 0
    hits: list[Hit] | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def _day(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        if _DAY.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise Malformed(f"'{name}' must be a date written YYYY-MM-DD.")


def _whole(raw: str, name: str, highest: int = 2**31 - 1) -> int | None:
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= highest:
        return int(raw)
    raise Malformed(f"'{name}' must be a whole number from 1 to {highest}.")


def parse(args: Mapping[str, str], viewer: Viewer) -> Query:
    """The query a request's arguments ask for; ``Malformed`` names the first bad filter."""

    def arg(name: str) -> str:
        value = args.get(name) or ""
        return value.strip() if isinstance(value, str) else ""

    cleaned = "".join(c if c.isprintable() else " " for c in arg("q")[:MAX_QUERY_CHARS])
    kind = arg("kind") or None
    if kind is not None and kind not in KINDS:
        raise Malformed(f"'kind' must be one of {', '.join(KINDS)}.")
    # An id, or a "group-<id>" key: bounded either way (an administrator's group reaches the
    # database, whose integers end at 2**31 - 1).
    group = _whole(arg("group").removeprefix(GROUP_KEY_PREFIX), "group")
    if group is not None and not (viewer.is_member(group) or viewer.is_admin):
        raise Malformed("You can search only the groups you belong to.")
    tag = normalise_tag(arg("tag")[:64]) or None
    query = Query(
        q=cleaned,
        text=arg("text")[:120] or None,
        group=group,
        member=_whole(arg("member"), "member"),
        tag=tag,
        date_from=_day(arg("from"), "from"),
        date_to=_day(arg("to"), "to"),
        kind=kind,
        page=_whole(arg("page"), "page", MAX_PAGE) or 1,
    )
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise Malformed("'from' must not be after 'to'.")
    return query


@dataclass(frozen=True)
class _Source:
    """One backend's SQL for one kind of indexed row: what to join, the match, its rank
    (lower is more relevant) and its snippet with the match between the markers."""

    joined: FromClause
    matches: ColumnElement[bool]
    rank: ColumnElement
    snippet: ColumnElement[str]


@dataclass(frozen=True)
class _Backend:
    paragraphs: _Source
    annotations: _Source


_FTS_PARAGRAPHS = table("paragraph_search", column("rowid"), column("body"))
_FTS_ANNOTATIONS = table(
    "annotation_search", column("rowid"), column("body"), column("quote"), column("tags")
)


def _sqlite_rank(fts, columns: tuple[str, ...]) -> ColumnElement:
    """How relevant a row is from its own words only, as PostgreSQL's ``ts_rank``: the words
    found in it (each marked by ``highlight``: two characters more), weighed against its length
    as BM25 weighs a term's count, with a fixed average length.

    Not FTS5's ``bm25``: it weighs each word by how many rows of the whole index hold it, and
    the index holds every note, so the order of two notes a reader may see changed with words
    in notes they may not (private, other groups', hidden, deleted).
    """
    name = literal_column(fts.name)
    found = sum(
        func.length(func.highlight(name, number, _START, _STOP)) - func.length(fts.c[column_name])
        for number, column_name in enumerate(columns)
    ) / literal_column("2.0")
    length = sum(func.length(fts.c[column_name]) for column_name in columns)
    # BM25's term frequency part, k1 = 1.2, b = 0.75, for rows of 200 characters on average.
    return -found / (found + 1.2 * (0.25 + 0.75 * length / 200.0))


def _sqlite(terms: list[str]) -> _Backend:
    """FTS5: each word a quoted string, so no MATCH syntax ("NEAR(", "*", "-", OR) reaches it."""
    words = bindparam("fts_words", " ".join(f'"{t}"' for t in terms))

    def source(fts, model, column_number: int, columns: tuple[str, ...]) -> _Source:
        name = literal_column(fts.name)
        return _Source(
            joined=fts.join(model, model.id == fts.c.rowid),
            matches=name.op("MATCH")(words),
            rank=_sqlite_rank(fts, columns),
            snippet=func.snippet(name, column_number, _START, _STOP, "…", 24),
        )

    return _Backend(
        source(_FTS_PARAGRAPHS, Paragraph, 0, ("body",)),
        source(_FTS_ANNOTATIONS, Annotation, -1, ("body", "quote", "tags")),
    )


_PG_ANNOTATIONS = table(
    "annotation_search",
    column("annotation_id"),
    column("body"),
    column("quote"),
    column("tags"),
    column("words"),
)
_PG_CONFIG = literal_column("'english'::regconfig")  # as in the GIN index's expression
_PG_HEADLINE = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2"


def _postgresql(terms: list[str]) -> _Backend:
    """plainto_tsquery: every word must match, as on SQLite; it never fails on its input and
    reads no operator in it (``websearch_to_tsquery`` read "war or peace" as war OR peace)."""
    query = func.plainto_tsquery(_PG_CONFIG, bindparam("fts_words", " ".join(terms)))
    paragraph_words = func.to_tsvector(_PG_CONFIG, Paragraph.body)
    pg = _PG_ANNOTATIONS.c
    annotation_words = pg.body + " " + pg.quote + " " + pg.tags
    return _Backend(
        _Source(
            joined=Paragraph.__table__,
            matches=paragraph_words.op("@@")(query),
            rank=-func.ts_rank(paragraph_words, query),
            snippet=func.ts_headline(_PG_CONFIG, Paragraph.body, query, _PG_HEADLINE),
        ),
        _Source(
            joined=_PG_ANNOTATIONS.join(Annotation, Annotation.id == pg.annotation_id),
            matches=pg.words.op("@@")(query),
            rank=-func.ts_rank(pg.words, query),
            snippet=func.ts_headline(_PG_CONFIG, annotation_words, query, _PG_HEADLINE),
        ),
    )


def snippet_html(raw: str | None) -> Markup:
    """The engine's snippet as HTML: everything escaped, then the marked words in <mark>
    (stray markers, which only odd stored words could give, are dropped)."""
    escaped = html.escape(raw or "", quote=False)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return Markup(marked.replace(_START, "").replace(_STOP, ""))  # noqa: S704 (escaped above)


def kind_is(kind: str) -> ColumnElement[bool]:
    is_root = Annotation.root_id.is_(None)
    question = Annotation.motivation == Motivation.QUESTIONING
    match kind:
        case "reply":
            return Annotation.root_id.is_not(None)
        case "question":
            return is_root & question
        case "note":
            return is_root & ~question & (Annotation.body_html != "")
        case _:  # highlight
            return is_root & ~question & (Annotation.body_html == "")


def _annotation_filters(query: Query, text_id: int | None) -> list[ColumnElement[bool]]:
    where = [Annotation.is_discussion.is_(False)]
    if text_id is not None:
        where.append(Annotation.text_id == text_id)
    if query.group is not None:
        where += [Annotation.visibility == Visibility.GROUP, Annotation.group_id == query.group]
    if query.member is not None:
        where.append(Annotation.user_id == query.member)
    if query.tag:
        where.append(Annotation.tags.any(AnnotationTag.name == query.tag))
    if query.date_from:
        where.append(Annotation.created_at >= datetime.combine(query.date_from, time(), UTC))
    if query.date_to and query.date_to < date.max:  # up to the last day there is: no bound
        after = datetime.combine(query.date_to + timedelta(days=1), time(), UTC)
        where.append(Annotation.created_at < after)
    if query.kind and query.kind != "paragraph":
        where.append(kind_is(query.kind))
    return where


def text_choices(session: Session) -> list[tuple[str, str]]:
    """Every text's slug and title, for the search form's choice of text."""
    return [
        tuple(row) for row in session.execute(select(Text.slug, Text.title).order_by(Text.title))
    ]


def _text_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    found = session.scalar(select(Text.id).where(Text.slug == slug))
    if found is None:
        raise Malformed(f"There is no text '{slug}'.")
    return found


def _found(backend: _Backend, viewer: Viewer, query: Query, text_id: int | None, ranked: bool):
    """Every match the viewer may read, as one subquery of (source, id[, rank]): ranked for
    the page, not for the count (which would work out every match's rank for nothing). None
    when nothing can match."""

    def columns(source: str, ident, rank) -> list:
        label = literal_column(f"'{source}'").label("source")
        return [label, ident, rank.label("rank")] if ranked else [label, ident]

    arms = []
    if query.kind in (None, "paragraph") and not query.notes_only:
        p = backend.paragraphs
        arm = (
            select(*columns("paragraph", Paragraph.id, p.rank))
            .select_from(p.joined.join(Text, Text.current_revision_id == Paragraph.revision_id))
            .where(p.matches)
        )
        arms.append(arm.where(Text.id == text_id) if text_id is not None else arm)
    if query.kind != "paragraph":
        a = backend.annotations
        arms.append(
            select(*columns("annotation", Annotation.id, a.rank))
            .select_from(a.joined)
            .where(a.matches, readable_by(viewer), *_annotation_filters(query, text_id))
        )
    if not arms:
        return None
    return (union_all(*arms) if len(arms) > 1 else arms[0]).subquery()


def search(session: Session, viewer: Viewer, query: Query) -> Results:
    """One page of what ``query`` finds that ``viewer`` may read, most relevant first.

    A fixed number of statements whatever the page holds: count, page, snippets, rows."""
    text_id = _text_id(session, query.text)
    terms = query.terms
    if not terms:
        return Results(query, 0, [])
    backend = (_postgresql if session.get_bind().dialect.name == "postgresql" else _sqlite)(terms)
    counted = _found(backend, viewer, query, text_id, ranked=False)
    if counted is None:  # paragraphs asked for, with a filter only annotations have
        return Results(query, 0, [])
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    ranked = _found(backend, viewer, query, text_id, ranked=True)
    page = session.execute(
        select(ranked.c.source, ranked.c.id)
        .order_by(ranked.c.rank, ranked.c.source, ranked.c.id)
        .limit(PAGE_SIZE)
        .offset((query.page - 1) * PAGE_SIZE)
    ).all()
    return Results(query, total, _hits(session, viewer, backend, page))


def _snippets(session: Session, source: _Source, model, ids: list[int]) -> dict[int, Markup]:
    if not ids:
        return {}
    rows = session.execute(
        select(model.id, source.snippet)
        .select_from(source.joined)
        .where(source.matches, model.id.in_(ids))
    )
    return {row[0]: snippet_html(row[1]) for row in rows}


def _hits(session: Session, viewer: Viewer, backend: _Backend, page: list) -> list[Hit]:
    paragraph_ids = [row.id for row in page if row.source == "paragraph"]
    annotation_ids = [row.id for row in page if row.source == "annotation"]
    snippets = {
        "paragraph": _snippets(session, backend.paragraphs, Paragraph, paragraph_ids),
        "annotation": _snippets(session, backend.annotations, Annotation, annotation_ids),
    }
    paragraphs = {}
    if paragraph_ids:
        rows = session.execute(
            select(Paragraph.id, Paragraph.number, Text)
            .join(Text, Text.current_revision_id == Paragraph.revision_id)
            .where(Paragraph.id.in_(paragraph_ids))
        )
        paragraphs = {row.id: (row.number, row.Text) for row in rows}
    notes, numbers = _annotations(session, viewer, annotation_ids)
    hits = []
    # A row gone between the statements (a text revised, a thread removed meanwhile, which
    # PostgreSQL's statements each see) is left out rather than shown half.
    for row in page:
        snippet = snippets[row.source].get(row.id, Markup(""))
        if row.source == "paragraph" and row.id in paragraphs:
            number, text = paragraphs[row.id]
            hits.append(Hit("paragraph", snippet, text, number, paragraph_id=row.id))
        elif row.source == "annotation" and row.id in notes:
            note = notes[row.id]
            kind = "reply" if note.is_reply else note.kind.value
            hits.append(Hit(kind, snippet, note.text, numbers.get(row.id), annotation=note))
    return hits


def _annotations(
    session: Session, viewer: Viewer, ids: list[int]
) -> tuple[dict[int, Annotation], dict[int, int | None]]:
    """The annotations of a page, with their author and text, and the ¶ each is in (a reply's
    thread's): in three statements, whatever their number."""
    if not ids:
        return {}, {}
    notes = {
        note.id: note
        for note in session.scalars(
            select(Annotation)
            .options(
                joinedload(Annotation.user).load_only(User.display_name),
                joinedload(Annotation.text),
                lazyload(Annotation.tags),
            )
            .where(Annotation.id.in_(ids), readable_by(viewer))  # still, as they are shown
        ).unique()
    }
    root_of = {note.id: note.root_id or note.id for note in notes.values()}
    anchors = {
        row.id: (row.revision_id, row.start)
        for row in session.execute(
            select(Annotation.id, Annotation.revision_id, Annotation.start).where(
                Annotation.id.in_(set(root_of.values()))
            )
        )
    }
    revisions = {revision for revision, start in anchors.values() if start is not None}
    # Where each paragraph of those revisions starts in its content (as ``spans_of`` counts).
    starts: dict[int, list[tuple[int, int]]] = {revision: [] for revision in revisions}
    if revisions:
        offset, current = 0, None
        for revision, number, length in session.execute(
            select(Paragraph.revision_id, Paragraph.number, func.length(Paragraph.body))
            .where(Paragraph.revision_id.in_(revisions))
            .order_by(Paragraph.revision_id, Paragraph.number)
        ):
            offset = 0 if revision != current else offset
            current = revision
            starts[revision].append((offset, number))
            offset += length + len(PARAGRAPH_SEPARATOR)
    numbers: dict[int, int | None] = {}
    for note_id, root_id in root_of.items():
        revision, start = anchors.get(root_id, (None, None))
        paragraphs = starts.get(revision) if start is not None else None
        if not paragraphs:
            numbers[note_id] = None
            continue
        at = bisect.bisect_right(paragraphs, start, key=lambda pair: pair[0]) - 1
        numbers[note_id] = paragraphs[max(0, at)][1]
    return notes, numbers
