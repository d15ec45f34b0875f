"""Exports: a reader's notebook (Markdown, W3C JSON-LD) and a group's discussion (CSV, JSON-LD).

Everything is read in batches of ``BATCH_SIZE`` by keyset pagination, and what each annotation
needs besides its row (author, text, revision, tags, reactions, group names, its thread root's
paragraph) is read once per batch: an export costs queries by the batch, never by the note, and
holds one batch in memory however large it is. The callers stream what these generators yield.

Access is checked when an export is asked for (``notebook``, ``discussion``), before anything is
streamed, through the one access policy: the notebook is the viewer's own annotations they may
see (never a word of anyone else's), a discussion is for the group's instructors and the site's
administrators (a member gets 403, anyone else 404, as ``groups.get`` answers).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, case, func, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.sql import Select

from app.models import Annotation, Group, Reaction, ReactionKind, Text, TextRevision, Visibility
from app.models.text import ParagraphSpan, paragraph_at
from app.services import groups, markdown, revision_cache
from app.services.access import Viewer, visible_to
from app.services.annotations.notebook import NotebookFilter, filtered
from app.services.errors import SignInNeeded

BATCH_SIZE = 100
_LAST = 2**31 - 1  # sorts after every offset: notes on the whole text and orphans come last


@dataclass(frozen=True)
class Item:
    """One annotation with what its batch read for it."""

    annotation: Annotation
    spans: list[ParagraphSpan]  # the paragraphs of the revision it is anchored in
    paragraph: int | None  # where it starts, or (a reply) where its thread's root does
    group_name: str | None
    agree: int = 0
    puzzled: int = 0


@dataclass(frozen=True)
class Export:
    """What was asked for, access already checked; ``items`` are read as they are consumed."""

    label: str
    items: Iterator[Item]
    group: Group | None = None


# ---- reading in batches ----


def _in_batches(
    session: Session, query: Select, keys: tuple[ColumnElement, ...], size: int
) -> Iterator[list[Annotation]]:
    """``query``'s annotations in ``keys`` order, ``size`` at a time (keyset pagination: each
    batch starts after the last row of the one before, so no batch costs more than the first)."""
    after: tuple | None = None
    while True:
        batch_query = query.add_columns(*keys).order_by(*keys).limit(size)
        if after is not None:
            batch_query = batch_query.where(tuple_(*keys) > tuple_(*after))
        rows = session.execute(batch_query).all()
        if not rows:
            return
        yield [row[0] for row in rows]
        if len(rows) < size:
            return
        after = tuple(rows[-1][1:])


def _with_rows(query: Select) -> Select:
    return query.options(
        joinedload(Annotation.user),
        joinedload(Annotation.text),
        joinedload(Annotation.revision),
        selectinload(Annotation.suggestion),  # a query a batch, not one a suggestion
    )


def _spans(session: Session, revision_id: int, content_hash: str) -> list[ParagraphSpan]:
    try:
        return revision_cache.layout_of(session, revision_id, content_hash).spans
    except LookupError:  # a revision without paragraphs: nothing to place a note in
        return []


def _items(
    session: Session,
    batches: Iterable[list[Annotation]],
    known_groups: dict[int, str],
    *,
    reactions: bool,
) -> Iterator[Item]:
    """Each annotation of each batch, with three queries a batch at most (roots' places, group
    names not yet known, reaction counts); tags come with the batch (their selectin load)."""
    for batch in batches:
        root_ids = {a.root_id for a in batch if a.root_id is not None}
        roots: dict[int, int | None] = {}
        if root_ids:
            rows = session.execute(
                select(Annotation.id, Annotation.start, TextRevision.id, TextRevision.content_hash)
                .join(TextRevision, TextRevision.id == Annotation.revision_id)
                .where(Annotation.id.in_(root_ids))
            )
            for root_id, start, revision_id, content_hash in rows:
                spans = _spans(session, revision_id, content_hash)
                roots[root_id] = _paragraph(spans, start)
        missing = {a.group_id for a in batch if a.group_id is not None} - known_groups.keys()
        if missing:
            known_groups.update(
                session.execute(select(Group.id, Group.name).where(Group.id.in_(missing))).all()
            )
        counts: dict[tuple[int, ReactionKind], int] = {}
        if reactions:
            rows = session.execute(
                select(Reaction.annotation_id, Reaction.kind, func.count())
                .where(Reaction.annotation_id.in_([a.id for a in batch]))
                .group_by(Reaction.annotation_id, Reaction.kind)
            )
            counts = {(annotation_id, kind): n for annotation_id, kind, n in rows}
        for annotation in batch:
            spans = _spans(session, annotation.revision_id, annotation.revision.content_hash)
            if annotation.root_id is not None:
                paragraph = roots.get(annotation.root_id)
            else:
                paragraph = _paragraph(spans, annotation.start)
            yield Item(
                annotation,
                spans,
                paragraph,
                known_groups.get(annotation.group_id) if annotation.group_id else None,
                counts.get((annotation.id, ReactionKind.AGREE), 0),
                counts.get((annotation.id, ReactionKind.QUESTION), 0),
            )
        for annotation in batch:  # done with: an export of any size holds one batch
            session.expunge(annotation)


def _paragraph(spans: list[ParagraphSpan], start: int | None) -> int | None:
    if start is None or not spans:
        return None
    return paragraph_at(spans, start).paragraph.number


# ---- what may be exported ----


def notebook(
    session: Session,
    viewer: Viewer,
    filters: NotebookFilter | None = None,
    *,
    reading_order: bool = False,
    batch_size: int | None = None,
) -> Export:
    """Every annotation of the viewer's (notes, highlights and replies; not the groups'
    paragraph discussions, which are nobody's words), filtered as the notebook page filters.

    In created order (a parent before its replies) or, with ``reading_order``, by text (by
    title), then notes in the order of the words, notes on the whole text and orphans, then
    the replies in created order.
    """
    if viewer.user is None:
        raise SignInNeeded("Sign in to export your notebook.")
    query = _with_rows(
        filtered(
            select(Annotation).where(
                visible_to(viewer),
                Annotation.user_id == viewer.id,
                Annotation.is_discussion.is_(False),
            ),
            filters or NotebookFilter(),
        )
    )
    keys: tuple[ColumnElement, ...] = (Annotation.id,)
    if reading_order:
        query = query.join(Text, Text.id == Annotation.text_id)
        keys = (
            func.lower(Text.title),
            Annotation.text_id,
            case((Annotation.root_id.is_(None), 0), else_=1),
            func.coalesce(Annotation.start, _LAST),
            Annotation.id,
        )
    batches = _in_batches(session, query, keys, batch_size or BATCH_SIZE)
    items = _items(session, batches, dict(viewer.group_names or {}), reactions=False)
    return Export(f"Notebook of {viewer.user.display_name}", items)


def discussion(
    session: Session, viewer: Viewer, group_id: int, *, batch_size: int | None = None
) -> Export:
    """Every annotation and reply the group's members share (hidden ones too, for those who
    moderate them), a parent always before its replies."""
    group = groups.get(session, viewer, group_id, teaching=True)
    query = _with_rows(
        select(Annotation).where(
            visible_to(viewer),
            Annotation.visibility == Visibility.GROUP,
            Annotation.group_id == group.id,
        )
    )
    batches = _in_batches(session, query, (Annotation.id,), batch_size or BATCH_SIZE)
    items = _items(session, batches, {group.id: group.name}, reactions=True)
    return Export(f"Discussion of {group.name}", items, group)


# ---- CSV ----

CSV_COLUMNS = (
    "author",
    "text",
    "paragraph",
    "quote",
    "body",
    "tags",
    "audience",
    "created",
    "agree",
    "puzzled",
    "parent id",
    "id",
    "hidden",
    "link",
    "suggestion",
)
# What a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def cell(value: object) -> object:
    """A cell a spreadsheet shows as it is: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def utc(moment: datetime) -> str:
    """ISO 8601 in UTC with its ``Z``, to the second."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def csv_row(item: Item, link: str) -> list[object]:
    a = item.annotation
    return [
        cell(value)
        for value in (
            a.user.display_name,
            a.text.title,
            item.paragraph if item.paragraph is not None else "",
            a.exact if a.exact is not None and not a.is_discussion else "",
            a.body_source,
            " ".join(a.tag_names),
            f"group: {item.group_name}",
            utc(a.created_at),
            item.agree,
            item.puzzled,
            a.parent_id if a.parent_id is not None else "",
            a.id,
            "yes" if a.is_hidden else "no",
            link,
            suggested(a),
        )
    ]


def suggested(annotation: Annotation) -> str:
    """A suggested correction's change and state in plain words ('' for any other note): the
    reason is its body, and without this line it reads as a note on the words."""
    suggestion = annotation.suggestion
    if suggestion is None:
        return ""
    new = f"“{suggestion.replacement}”" if suggestion.replacement else "(the words deleted)"
    return f"“{suggestion.original}” → {new} ({suggestion.status.value})"


def csv_chunks(items: Iterable[Item], link: Callable[[Annotation], str]) -> Iterator[str]:
    """The CSV (RFC 4180, CRLF line ends), a header and then a row an item, UTF-8 with a byte
    order mark: without one Excel reads UTF-8 as the system's legacy code page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield BOM + _drain(buffer)
    for item in items:
        writer.writerow(csv_row(item, link(item.annotation)))
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


# ---- JSON-LD ----


def collection_chunks(head: dict, items: Iterable[dict]) -> Iterator[str]:
    """A JSON object streamed: ``head``'s members, then ``items`` one by one, then ``total``
    (their count, known only at the end: JSON's members have no order)."""
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    yield opening + (', "items": [' if head else '"items": [')
    total = 0
    for item in items:
        yield ("," if total else "") + json.dumps(item, ensure_ascii=False)
        total += 1
    yield f'], "total": {total}}}'


# ---- Markdown ----

# Characters that mean something to CommonMark or Obsidian anywhere in a line (emphasis, code,
# links, HTML, headings, tables, strikethrough, entities, highlights, math, comments, block ids).
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>#|~&=$%^!{}])")
# What means something only at the start of a line: a list item, a thematic break, a numbered item.
_LINE_START = re.compile(r"^([+-])|^(\d+)([.)])")


def escape(words: str) -> str:
    """Plain words as Markdown that shows them as they are, on one line."""
    line = _INLINE_MARKUP.sub(r"\\\1", " ".join(words.split()))
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def blockquote(words: str) -> list[str]:
    """Words (newlines and all) as the lines of a blockquote: each line escaped, a blank one
    kept as a bare ``>`` so the quote stays one block."""
    return [f"> {escape(line)}" if line.strip() else ">" for line in words.splitlines()] or [">"]


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# A line of a paragraph's own (no list item, quote, heading, code or break): what a setext
# underline would make a heading of.
_PLAIN = re.compile(r"^ {0,3}(?![-+*>#=]|\d+[.)]|`{3}|~{3}|\s*$)")


def contained(body: str) -> str:
    """A note's own Markdown, kept, but unable to run into what follows: an unclosed code fence
    is closed, an HTML block starts as text (Scholia renders none in Markdown), Obsidian's
    comments and display math (``%%``, ``$$``) are escaped, and headings of levels 1 to 3
    become level 4, below the export's own (a text's, a paragraph's)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        opened = _FENCE.match(line)
        if fence is not None:
            closing = opened and opened[1][0] == fence[0] and len(opened[1]) >= len(fence)
            if closing and not line.strip().strip(fence[0]):
                fence = None
            out.append(line)
            continue
        if opened and not (opened[1][0] == "`" and "`" in line[opened.end() :]):
            fence = opened[1]
            out.append(line)
            continue
        line = _outside_code_spans(line, _unspanning)
        if re.match(r"^ {0,3}<", line):
            line = line.replace("<", "\\<", 1)
        elif re.match(r"^ {0,3}#{1,3}(?=[ \t]|$)", line):
            line = "####" + line.lstrip(" ").lstrip("#")
        elif _SETEXT.match(line) and out and _PLAIN.match(out[-1]):
            out[-1] = "#### " + out[-1].strip()  # its underline goes
            continue
        out.append(line)
    if fence is not None:
        out.append(fence)
    return "\n".join(out).strip("\n")


# Obsidian's comments (%%) and display math ($$) run across lines to their closing pair, so
# one left open in a note would hide, or set as math, every note after it. Scholia shows them
# as the characters they are, and so will Obsidian, escaped.
_SPANNING = re.compile(r"%%+|\$\$+")
_CODE_SPAN = re.compile(r"(`+).*?(?<!`)\1(?!`)")


def _unspanning(words: str) -> str:
    return _SPANNING.sub(lambda m: "".join("\\" + c for c in m[0]), words)


def _outside_code_spans(line: str, change: Callable[[str], str]) -> str:
    """The line with ``change`` made to what is not inside a code span (kept as it is)."""
    out, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        out += [change(line[last : span.start()]), span[0]]
        last = span.end()
    return "".join([*out, change(line[last:])])


def words_of(annotation: Annotation) -> str:
    """A note's words as Markdown that shows them as Scholia does: its own Markdown contained,
    plain text escaped line by line, HTML as the allow-list left it, one HTML block (no blank
    line ends it early, and Markdown is not read inside it)."""
    if annotation.body_format == markdown.PLAIN:
        lines = annotation.body_source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(escape(line) + "  " if line.strip() else "" for line in lines).strip()
    if annotation.body_format == markdown.HTML:
        return "<div>" + re.sub(r"\n\s*\n", "\n", annotation.body_html) + "</div>"
    return contained(annotation.body_source)


def tag(name: str) -> str:
    """A tag as Obsidian reads one: letters, digits, ``_``, ``-`` and ``/``, no spaces."""
    return "#" + (re.sub(r"[^\w/-]+", "-", name, flags=re.UNICODE).strip("-") or "tag")


def front_matter(fields: dict[str, str]) -> list[str]:
    """A YAML front matter block: each value a double-quoted string (JSON's escapes are YAML's)."""
    return ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items()), "---"]


def markdown_chunks(
    export: Export, link: Callable[[Annotation], str], source: str, now: datetime
) -> Iterator[str]:
    """The notebook as one Markdown file for an Obsidian vault: front matter, then a heading a
    text, a heading a paragraph, and each annotation as its quote (a blockquote ending with the
    text's title, author, ¶ and a link to the words), the note's Markdown and its tags."""
    head = front_matter(
        {"title": export.label, "source": source, "exported": utc(now), "generator": "Scholia"}
    )
    yield "\n".join([*head, "", f"# {escape(export.label)}", ""]) + "\n"
    text_id: int | None = None
    section: object = None
    for item in export.items:
        a = item.annotation
        lines: list[str] = []
        if a.text_id != text_id:
            text_id, section = a.text_id, None
            lines += [f"## {escape(a.text.title)}", ""]
            if a.text.author.strip():
                lines += [f"*{escape(a.text.author)}*", ""]
        where = "replies" if a.is_reply else item.paragraph
        if where != section:
            section = where
            if where == "replies":
                heading = "Replies"
            elif where is None:
                heading = "Whole text and changed passages"
            else:
                heading = f"¶{where}"
            lines += [f"### {heading}", ""]
        lines += _entry(item, link(a))
        yield "\n".join(lines) + "\n"


def _citation(item: Item) -> str:
    a = item.annotation
    parts = [f"*{escape(a.text.title)}*"]
    if a.text.author.strip():
        parts.append(escape(a.text.author))
    if item.paragraph is not None:
        parts.append(f"¶{item.paragraph}")
    return ", ".join(parts)


def _entry(item: Item, url: str) -> list[str]:
    a = item.annotation
    open_link = f"[Open in Scholia]({url})"
    if a.is_reply:
        lines = [f"Reply in {_citation(item)}, {utc(a.created_at)} · {open_link}", ""]
    elif a.exact is not None:
        gone = " (these words are no longer in the text)" if a.start is None else ""
        lines = [*blockquote(a.exact), ">", f"> — {_citation(item)}{gone} · {open_link}", ""]
    else:
        lines = [f"On the whole of {_citation(item)} · {open_link}", ""]
    if a.is_hidden:
        lines += ["*Hidden by a moderator.*", ""]
    if a.suggestion is not None:
        lines += [f"Suggested correction: {escape(suggested(a))}", ""]
    if a.body_source.strip():
        lines += [words_of(a), ""]
    if a.tag_names:
        lines += [" ".join(tag(name) for name in a.tag_names), ""]
    return lines
