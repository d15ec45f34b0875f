"""The seminar dashboard: a group's activity on one text of its reading list, for its instructors.

What counts is the group's audience only: annotations shared with this group (visibility GROUP,
this ``group_id``) on this text, not deleted, as the one access policy lets the viewer see them
(``visible_to``). Hidden annotations count nowhere: a moderator took them out of the discussion.
A note's paragraph is the current revision's paragraph its start falls in, as the reading page
places it; a reply belongs to its thread's paragraph; a paragraph's discussion (``is_discussion``)
to its paragraph; notes on the whole text and orphans to the "whole text" bucket (``None``).

"Notes" are the threads' first annotations (notes, highlights and questions alike, not the
wordless root of a paragraph's discussion), "replies" the answers in threads, "words" the words
of both. A "question" is a note marked as one (motivation questioning) or a *puzzled* reaction.
A member is "done" when they wrote a note or a reply before the end of the due date, in UTC.

Everything is read in a fixed number of queries, whatever the number of notes, and no note is
loaded whole: the database counts per member and paragraph (``_place`` finds a note's paragraph
in SQL), per author of what was reacted to, and per thread; the words are counted in Python (as
``str.split`` counts them, the same on both databases) in strings the database joins, one a
member and paragraph; only the rows of the threads shown are read.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Integer, case, func, literal_column, select
from sqlalchemy.orm import Session, aliased, joinedload

from app.models import (
    Annotation,
    Group,
    Kind,
    Motivation,
    Reaction,
    ReactionKind,
    ReadingAssignment,
    Role,
    Text,
    User,
    Visibility,
)
from app.models.text import ParagraphSpan, paragraph_index
from app.services import groups, prompts, revision_cache
from app.services.access import Viewer, visible_to
from app.services.annotations.notebook import NotebookFilter, filtered
from app.services.errors import NotFound
from app.services.exports import BOM, cell, utc
from app.services.search import kind_is

HEAT_LEVELS = 5  # heat-1 .. heat-5; heat-0 is no activity at all
TOP_THREADS = 5
UNANSWERED_SHOWN = 20
LABEL_WORDS = 6
NOTES_PER_PAGE = 30


class Measure(enum.StrEnum):
    """What the heatmap shades: all activity, or the questions alone."""

    ACTIVITY = "activity"
    QUESTIONS = "questions"


@dataclass(frozen=True)
class Reading:
    """A text on a group's reading list, opened by one of its instructors."""

    group: Group
    assignment: ReadingAssignment
    text: Text
    spans: list[ParagraphSpan]


def reading(session: Session, viewer: Viewer, group_id: int, slug: str) -> Reading:
    """The group's reading of ``slug``: for its instructors and the site's administrators (a
    member gets 403, anyone else 404, as ``groups.get`` answers), 404 for a text that is not on
    its reading list."""
    group = groups.get(session, viewer, group_id, teaching=True)
    assignment = session.scalar(
        select(ReadingAssignment)
        .join(Text, Text.id == ReadingAssignment.text_id)
        .where(ReadingAssignment.group_id == group.id, Text.slug == slug)
        .options(joinedload(ReadingAssignment.text).joinedload(Text.current_revision))
    )
    if assignment is None or assignment.text.current_revision is None:
        raise NotFound("That text is not on this group's reading list.")
    text = assignment.text
    layout = revision_cache.layout(session, text.current_revision)
    return Reading(group, assignment, text, layout.spans)


def _in_audience(viewer: Viewer, text_id: int, group_id: int) -> tuple:
    """The group's annotations on the text, as the policy lets the viewer see them."""
    return (
        visible_to(viewer),
        Annotation.text_id == text_id,
        Annotation.visibility == Visibility.GROUP,
        Annotation.group_id == group_id,
    )


def _place(spans: list[ParagraphSpan]):
    """Where each annotation of a query over ``Annotation`` belongs, as SQL: the index in
    ``spans`` of the paragraph its thread starts in (as ``paragraph_index`` finds it; a reply's
    place is its root's, a root deleted after it was answered too), -1 for the whole text. The
    query joins the thread's first annotation (``join(root, to_root)``; a root is its own).
    Offsets are whole numbers written into the statement (a binary search, ``log2(paragraphs)``
    steps a row), so that both databases group by the same expression."""
    root = aliased(Annotation)
    start = root.start

    def number(value: int):
        return literal_column(str(int(value)), Integer)

    def between(low: int, high: int):  # the index among spans[low..high]
        if low >= high:
            return number(max(low, 0))
        middle = (low + high + 1) // 2
        return case(
            (start < number(spans[middle].start), between(low, middle - 1)),
            else_=between(middle, high),
        )

    place = case((start.is_(None), number(-1)), else_=between(0, len(spans) - 1))
    return root, place.label("place"), root.id == func.coalesce(Annotation.root_id, Annotation.id)


def _counted(in_audience: tuple) -> tuple:
    """What the figures count: the audience's notes and replies, not hidden, not the wordless
    root of a paragraph's discussion."""
    return (*in_audience, Annotation.hidden_at.is_(None), Annotation.is_discussion.is_(False))


# The reading page's heat strip shades each paragraph on its own, not against the busiest one:
# its part is shared and kept until something changes in that paragraph (services/texts/parts.py),
# so its shade may depend on nothing else. Notes and replies: (up to this many, level).
STRIP_LEVELS = ((0, 0), (2, 1), (5, 2), (9, 3), (14, 4))


def strip_level(activity: int) -> int:
    return next((level for most, level in STRIP_LEVELS if activity <= most), HEAT_LEVELS)


def paragraph_activity(
    session: Session, viewer: Viewer, text_id: int, group_id: int, spans: list[ParagraphSpan]
) -> dict[int, int]:
    """Notes and replies of the group's in each paragraph (by number), as the dashboard counts
    them: for the reading page's heat strip."""
    counts = dict.fromkeys((s.paragraph.number for s in spans), 0)
    if not spans:
        return counts
    root, place, to_root = _place(spans)
    for index, count in session.execute(
        select(place, func.count())
        .select_from(Annotation)
        .join(root, to_root)
        .where(*_counted(_in_audience(viewer, text_id, group_id)))
        .group_by(place)
    ):
        if index >= 0:
            counts[spans[index].paragraph.number] += count
    return counts


# ---- the figures ----


@dataclass
class Cell:
    """One paragraph of the heatmap (``number`` None: the whole text and changed passages)."""

    number: int | None
    label: str
    notes: int = 0
    replies: int = 0
    words: int = 0
    questions: int = 0
    level: int = 0
    hottest: bool = False

    @property
    def activity(self) -> int:
        return self.notes + self.replies

    def value(self, measure: Measure) -> int:
        return self.questions if measure is Measure.QUESTIONS else self.activity


@dataclass
class Participant:
    user_id: int
    name: str
    role: Role | None  # None: no longer in the group, whose words stay in it
    notes: int = 0
    replies: int = 0
    words: int = 0
    questions: int = 0
    reactions: int = 0  # received, from anyone, on their notes and replies
    first: datetime | None = None
    last: datetime | None = None
    done: bool | None = None  # None when the reading has no due date
    paragraph_numbers: set[int] = field(default_factory=set)

    @property
    def paragraphs(self) -> int:
        return len(self.paragraph_numbers)

    def wrote(self, moment: datetime) -> None:
        self.first = moment if self.first is None else min(self.first, moment)
        self.last = moment if self.last is None else max(self.last, moment)


@dataclass(frozen=True)
class Thread:
    """A thread of the group's discussion, for the lists of most discussed and puzzling."""

    id: int
    paragraph: int | None
    quote: str
    author: str
    replies: int
    puzzled: int
    is_discussion: bool
    created_at: datetime


@dataclass
class Dashboard:
    reading: Reading
    measure: Measure
    cells: list[Cell]
    whole_text: Cell
    participants: list[Participant]
    most_discussed: list[Thread]
    most_puzzling: list[Thread]
    unanswered: list[Thread]
    unanswered_total: int
    prompts: list[prompts.PromptAnswers]

    @property
    def rows(self) -> list[Cell]:
        """The heatmap's rows: the paragraphs in order, then the whole text."""
        return [*self.cells, self.whole_text]


def _words(body: str) -> int:
    return len(body.split())


def _first_words(body: str) -> str:
    words = body.split()
    return " ".join(words[:LABEL_WORDS]) + (" …" if len(words) > LABEL_WORDS else "")


def _shade(cells: list[Cell], measure: Measure) -> None:
    """Each cell's level (0 none, 1..5 by its share of the busiest paragraph), and the busiest
    paragraph (the first of equals) marked as the hottest."""
    top = max((c.value(measure) for c in cells), default=0)
    for c in cells:
        value = c.value(measure)
        c.level = math.ceil(HEAT_LEVELS * value / top) if value else 0
        c.hottest = False
    if top:
        next(c for c in cells if c.value(measure) == top).hottest = True


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def dashboard(
    session: Session,
    viewer: Viewer,
    group_id: int,
    slug: str,
    measure: Measure = Measure.ACTIVITY,
) -> Dashboard:
    """Every figure of the dashboard of ``slug`` in ``group_id``, in a fixed number of queries."""
    read = reading(session, viewer, group_id, slug)
    spans = read.spans
    cells = [Cell(s.paragraph.number, _first_words(s.paragraph.body)) for s in spans]
    whole = Cell(None, "Whole text and changed passages")

    in_audience = _in_audience(viewer, read.text.id, read.group.id)
    counted = _counted(in_audience)
    root, place, to_root = _place(spans)

    def cell_at(index: int) -> Cell:  # by ``_place``'s index
        return cells[index] if 0 <= index < len(cells) else whole

    def cell_of(start: int | None) -> Cell:
        return whole if start is None else cells[paragraph_index(spans, start)]

    members = groups.members(session, read.group)
    people = {m.user_id: Participant(m.user_id, m.user.display_name, m.role) for m in members}
    due = read.assignment.due_on
    deadline = _end_of_day(due) if due is not None else None

    def one(condition) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # Words are counted as Python splits them, the same on both databases, but in one string a
    # member and paragraph that the database joins with spaces (which neither add nor merge
    # words): a few hundred rows, not one a note.
    together = (
        func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat
    )
    is_root = Annotation.root_id.is_(None)
    by_member_and_place = session.execute(
        select(
            Annotation.user_id,
            User.display_name,
            place,
            one(is_root),
            one(~is_root),
            one(is_root & (Annotation.motivation == Motivation.QUESTIONING)),
            func.min(Annotation.created_at),
            func.max(Annotation.created_at),
            together(Annotation.body_source, " "),
        )
        .join(User, User.id == Annotation.user_id)
        .join(root, to_root)
        .where(*counted)
        .group_by(Annotation.user_id, User.display_name, place)
    ).all()
    for user_id, name, index, notes, replies, questions, first, last, bodies in by_member_and_place:
        person = people.get(user_id)
        if person is None:  # no longer in the group: their words stay in it
            person = people[user_id] = Participant(user_id, name, None)
        cell = cell_at(index)
        cell.notes += notes
        cell.replies += replies
        cell.questions += questions
        words = _words(bodies or "")
        cell.words += words
        person.words += words
        person.notes += notes
        person.replies += replies
        person.questions += questions
        if cell.number is not None:
            person.paragraph_numbers.add(cell.number)
        person.wrote(_aware(first))
        person.wrote(_aware(last))

    # Reactions on what is shown (a paragraph's discussion too), by author, place and kind.
    for user_id, index, kind, count in session.execute(
        select(Annotation.user_id, place, Reaction.kind, func.count())
        .join(Annotation, Annotation.id == Reaction.annotation_id)
        .join(root, to_root)
        .where(*in_audience, Annotation.hidden_at.is_(None))
        .group_by(Annotation.user_id, place, Reaction.kind)
    ):
        if user_id in people:
            people[user_id].reactions += count
        if kind is ReactionKind.QUESTION:
            cell_at(index).questions += count

    if deadline is not None:
        for person in people.values():
            person.done = person.first is not None and person.first < deadline

    _shade(cells, measure)
    whole.level = 0

    discussed, puzzling, unanswered, unanswered_total = _threads(session, in_audience, cell_of)
    return Dashboard(
        read,
        measure,
        cells,
        whole,
        sorted(people.values(), key=lambda p: (p.role is None, p.name.lower(), p.user_id)),
        discussed,
        puzzling,
        unanswered,
        unanswered_total,
        prompts.prompt_answers(session, read.group.id, read.text.id),
    )


def _threads(session: Session, in_audience: tuple, cell_of) -> tuple[list, list, list, int]:
    """The most discussed threads (by replies), the most puzzling (by *Puzzled* on the thread)
    and the questions nobody answered (with how many there are). The threads listed are the
    audience's first annotations not hidden; the database counts each one's replies and
    *Puzzled* reactions (a pair of numbers a thread that has any), and reads only the rows of
    the threads shown."""
    shown = (*in_audience, Annotation.hidden_at.is_(None))
    listed = select(Annotation.id).where(*shown, Annotation.root_id.is_(None)).correlate(None)
    thread = func.coalesce(Annotation.root_id, Annotation.id)
    answered = dict(
        session.execute(
            select(Annotation.root_id, func.count())
            .where(*shown, Annotation.root_id.in_(listed))
            .group_by(Annotation.root_id)
        ).all()
    )
    puzzles = dict(
        session.execute(
            select(thread, func.count())
            .join(Reaction, Reaction.annotation_id == Annotation.id)
            .where(*shown, Reaction.kind == ReactionKind.QUESTION, thread.in_(listed))
            .group_by(thread)
        ).all()
    )
    discussed = sorted(answered, key=lambda i: (-answered[i], i))[:TOP_THREADS]
    puzzling = sorted(puzzles, key=lambda i: (-puzzles[i], i))[:TOP_THREADS]
    questions = session.scalars(
        select(Annotation.id)
        .where(
            *shown,
            Annotation.root_id.is_(None),
            Annotation.motivation == Motivation.QUESTIONING,
            Annotation.is_discussion.is_(False),
        )
        .order_by(Annotation.id)
    ).all()
    open_questions = [i for i in questions if i not in answered]
    wanted = sorted({*discussed, *puzzling, *open_questions[:UNANSWERED_SHOWN]})
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Annotation.id,
                Annotation.start,
                Annotation.exact,
                Annotation.is_discussion,
                Annotation.created_at,
                User.display_name,
            )
            .join(User, User.id == Annotation.user_id)
            .where(Annotation.id.in_(wanted))
        )
    }

    def made(thread_id: int) -> Thread:
        row = rows[thread_id]
        quote = row.exact or ""
        return Thread(
            row.id,
            cell_of(row.start).number,
            _first_words(quote) if row.is_discussion else quote,
            row.display_name,
            answered.get(row.id, 0),
            puzzles.get(row.id, 0),
            row.is_discussion,
            row.created_at,
        )

    return (
        [made(i) for i in discussed],
        [made(i) for i in puzzling],
        [made(i) for i in open_questions[:UNANSWERED_SHOWN]],
        len(open_questions),
    )


# ---- participation, sorted and as CSV ----

# Column key: (heading, the value it sorts by).
COLUMNS = {
    "name": "Member",
    "notes": "Notes",
    "replies": "Replies",
    "words": "Words",
    "paragraphs": "Paragraphs",
    "questions": "Questions",
    "reactions": "Reactions received",
    "first": "First activity",
    "last": "Last activity",
    "done": "Done by the due date",
}
DESCENDING_FIRST = frozenset(COLUMNS) - {"name", "first"}


@dataclass(frozen=True)
class Sorting:
    key: str = "name"
    descending: bool = False

    @classmethod
    def parse(cls, raw: str | None) -> Sorting:
        """``?sort=notes`` (the column's natural order) or ``?sort=-notes`` (the other way);
        anything else sorts by name."""
        raw = raw or ""
        flip = raw.startswith("-")
        key = raw.removeprefix("-")
        if key not in COLUMNS:
            return cls()
        return cls(key, (key in DESCENDING_FIRST) != flip)

    def link(self, key: str) -> str:
        """The ``sort`` value of the link on column ``key``'s heading: that column, the other
        way round if it is this one."""
        if key != self.key:
            return key
        natural = key in DESCENDING_FIRST
        return key if self.descending != natural else "-" + key


def sort_participants(people: list[Participant], sorting: Sorting) -> list[Participant]:
    """By the column asked for, people without a value (no activity yet) always last, then by
    name; current members before those no longer in the group only when sorting by name."""
    key = sorting.key
    if key == "name":
        ordered = sorted(people, key=lambda p: (p.role is None, p.name.lower(), p.user_id))
        return ordered[::-1] if sorting.descending else ordered
    with_value = [p for p in people if getattr(p, key) is not None]
    without = [p for p in people if getattr(p, key) is None]
    by_name = sorted(with_value, key=lambda p: (p.name.lower(), p.user_id))
    ordered = sorted(by_name, key=lambda p: getattr(p, key), reverse=sorting.descending)
    return ordered + sorted(without, key=lambda p: (p.name.lower(), p.user_id))


CSV_COLUMNS = (
    "member",
    "role",
    "notes",
    "replies",
    "words",
    "paragraphs",
    "questions",
    "reactions received",
    "first activity",
    "last activity",
    "done by due date",
)


def participation_csv(board: Dashboard) -> Iterator[str]:
    """The participation table as CSV (RFC 4180, UTF-8 with a byte order mark, cells that
    would start a formula neutralised, as the group export writes them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for p in board.participants:
        writer.writerow(
            [
                cell(value)
                for value in (
                    p.name,
                    p.role.value if p.role else "former member",
                    p.notes,
                    p.replies,
                    p.words,
                    p.paragraphs,
                    p.questions,
                    p.reactions,
                    utc(p.first) if p.first else "",
                    utc(p.last) if p.last else "",
                    "" if p.done is None else ("yes" if p.done else "no"),
                )
            ]
        )
    yield BOM + buffer.getvalue()


# ---- the group's notes on the text, in one list ----


@dataclass(frozen=True)
class NotesFilter:
    member: int | None = None
    paragraph: int | None = None  # 0: the whole text and changed passages
    tag: str | None = None
    kind: Kind | None = None
    unanswered: bool = False
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.member or self.paragraph is not None or self.tag or self.kind) or (
            self.unanswered
        )


@dataclass
class NotesPage:
    reading: Reading
    notes: list[Annotation]
    total: int
    page: int
    pages: int
    authors: list[tuple[int, str]]


def group_notes(
    session: Session, viewer: Viewer, group_id: int, slug: str, filters: NotesFilter
) -> NotesPage:
    """The group's notes on the text (threads' first annotations, not paragraph discussions,
    hidden ones too: the instructors moderate them), in the order of the text, filtered, a page
    at a time; for the group's instructors, as the dashboard."""
    read = reading(session, viewer, group_id, slug)
    notes = (
        visible_to(viewer),
        Annotation.text_id == read.text.id,
        Annotation.visibility == Visibility.GROUP,
        Annotation.group_id == read.group.id,
        Annotation.root_id.is_(None),
        Annotation.is_discussion.is_(False),
    )
    authors = session.execute(
        select(User.id, User.display_name)
        .join(Annotation, Annotation.user_id == User.id)
        .where(*notes)
        .distinct()
        .order_by(User.display_name, User.id)
    ).all()
    query = select(Annotation).where(*notes)
    if filters.member is not None:
        query = query.where(Annotation.user_id == filters.member)
    if filters.paragraph is not None:
        query = query.where(_in_paragraph(read.spans, filters.paragraph))
    if filters.kind is not None:
        query = query.where(kind_is(filters.kind.value))
    if filters.unanswered:  # as the dashboard counts: a reply deleted or hidden answers nothing
        reply = aliased(Annotation)
        query = query.where(
            ~select(reply.id)
            .where(
                reply.root_id == Annotation.id,
                reply.deleted_at.is_(None),
                reply.hidden_at.is_(None),
            )
            .exists()
        )
    query = filtered(query, NotebookFilter(tag=filters.tag))
    total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    pages = max(1, math.ceil(total / NOTES_PER_PAGE))
    page = min(max(1, filters.page), pages)
    found = list(
        session.scalars(
            query.options(joinedload(Annotation.user), joinedload(Annotation.text))
            .order_by(Annotation.start.is_(None), Annotation.start, Annotation.id)
            .limit(NOTES_PER_PAGE)
            .offset((page - 1) * NOTES_PER_PAGE)
        ).unique()
    )
    return NotesPage(read, found, total, page, pages, [tuple(a) for a in authors])


def _in_paragraph(spans: list[ParagraphSpan], number: int):
    if number == 0:
        return Annotation.start.is_(None)
    index = next((i for i, s in enumerate(spans) if s.paragraph.number == number), None)
    if index is None:
        raise NotFound(f"This text has no paragraph {number}.")
    after = spans[index].start
    if index + 1 == len(spans):
        return Annotation.start >= after
    return (Annotation.start >= after) & (Annotation.start < spans[index + 1].start)
