"""Annotations brought in from a file: W3C Web Annotation JSON-LD (Scholia's own export among
them) or Hypothesis's export, into one chosen text, as one reader, in one transaction.

Each annotation is read with the API's own W3C parsing (``app.api.schemas``) and lands exactly
where a POST would put it; words that moved are found again by the anchoring service, and an
annotation whose words are gone is kept as an orphan (its quote kept, no position), as a revised
text keeps them. The report says, item by item: imported (the words found as they were),
anchored approximately (found by fuzzy matching), orphaned, already imported, or skipped, and
why. The file is refused whole (nothing stored) when it is not JSON, not one of the shapes
read here, larger than ``MAX_FILE_BYTES`` or longer than ``MAX_ITEMS``.

Nothing is stored twice: each annotation keeps the id it had in the file as its ``via`` (a
Hypothesis annotation its ``https://hypothes.is/a/<id>`` link), unique per reader and text, so
importing a file again reports its items as already imported. Replies go under their parents
(the file's own, or the author's own imported before: a via is whatever a POST named, so
another reader's note may claim any id); audiences are kept, a group's note going to the
reader's group of the same name (``scholia:groupName``), else kept private. Authors: everything
is the importer's, and a W3C item whose creator is someone else is skipped; the operator's CLI
may map each creator's name to the one account of that name (``keep_authors``).

Quotas: an import is one operation. Its notes do not count against the per-minute write quota
(their events name no actor); instead a reader may run ``IMPORTS_PER_HOUR`` imports an hour, and
the notes it shares with a group or the public count against the day's (quotas.check_import).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import edge
from app.api import schemas
from app.database import begin_write
from app.models import Annotation, AnnotationImport, AnnotationTag, Motivation, Text, User
from app.models import Visibility as V
from app.models.annotation import MAX_IRI_CHARS
from app.models.base import utcnow
from app.models.text import paragraph_at, snap_to_paragraphs
from app.services import anchoring, discussion, quotas, revision_cache
from app.services.access import Action, Viewer, can, load_viewer
from app.services.annotations import (
    MARKDOWN_BODY,
    BodyForm,
    SpanTarget,
    check_audience,
    check_body,
    new_annotation,
    normalise_tags,
    refusal,
    resolve_span,
    store,
    text_for,
)
from app.services.annotations.rules import CONTEXT_CHARS, MAX_IMPORT_BYTES
from app.services.annotations.spans import set_span
from app.services.errors import (
    Conflict,
    Invalid,
    Malformed,
    QuotaExceeded,
    Refused,
    SignInNeeded,
    TooLarge,
)

MAX_FILE_BYTES = MAX_IMPORT_BYTES
# An import holds the write lock from its first item to its commit (one transaction): about
# 1.7 ms an item on a small server, so 5,000 held it 8 s and every other writer on a SQLite
# site failed after its 5 s wait (database.BUSY_TIMEOUT_MS). 1,000 keeps it near 2 s.
MAX_ITEMS = 1_000
IMPORTS_PER_HOUR = 10
GROUP_NAME_KEY = "scholia:groupName"
HYPOTHESIS_LINK = "https://hypothes.is/a/"


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    APPROXIMATE = "anchored approximately"
    ORPHANED = "orphaned"
    ALREADY = "already imported"
    SKIPPED = "skipped"


STORED = (Outcome.IMPORTED, Outcome.APPROXIMATE, Outcome.ORPHANED)


@dataclass
class Line:
    """What became of one item of the file (``number`` counts from 1, in the file's order)."""

    number: int
    ref: str | None
    outcome: Outcome
    reason: str = ""  # why it was skipped, or what changed on the way (an audience, an author)
    annotation_id: int | None = None


@dataclass
class Report:
    text: Text
    kind: str  # "W3C" or "Hypothesis"
    lines: list[Line] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {o.value: sum(1 for line in self.lines if line.outcome is o) for o in Outcome}

    @property
    def stored(self) -> int:
        return sum(1 for line in self.lines if line.outcome in STORED)

    def remarks(self) -> list[Line]:
        """Skipped items and stored ones with something to say, in the file's order."""
        return [line for line in self.lines if line.reason]

    def as_json(self) -> dict:
        return {
            "text": self.text.slug,
            "format": self.kind,
            "counts": self.counts(),
            "items": [
                {
                    "number": line.number,
                    "id": line.ref,
                    "outcome": line.outcome.value,
                    **({"reason": line.reason} if line.reason else {}),
                    **({"annotation": line.annotation_id} if line.annotation_id else {}),
                }
                for line in self.lines
            ],
        }


@dataclass
class Item:
    """One annotation of the file in neutral form, whichever format it came in."""

    ref: str | None  # its id in the file: kept as ``via``
    parent_ref: str | None = None  # a reply's parent's id in the file
    creator: str | None = None  # the author's name, when the file says it
    motivation: Motivation | None = None
    body: str = ""
    form: BodyForm = MARKDOWN_BODY
    tags: list[str] = field(default_factory=list)
    color: Any = None
    span: SpanTarget | None = None
    visibility: V = V.PRIVATE
    audience_given: bool = False  # the file says who may read it (else: private, by default)
    group_name: str | None = None
    discussion: bool = False
    created: datetime | None = None
    modified: datetime | None = None
    canonical: str | None = None


# ---- reading the file ----


def read_file(data: bytes) -> tuple[str, list[dict]]:
    """The file's format and its annotations, as objects; refused whole if it is not one."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(
            f"The file is {len(data):,} bytes; an import may be at most {MAX_FILE_BYTES:,} "
            "bytes. Split it, for example one file per text."
        )
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Malformed("The file is not text in UTF-8: export it again as JSON.") from None
    except json.JSONDecodeError as error:
        raise Malformed(f"The file is not valid JSON ({error}).") from None
    except RecursionError:
        raise Malformed("The file is not valid JSON (nested too deeply).") from None
    problem = edge.json_problem(payload)
    if problem is not None:
        raise Malformed(f"The file {problem}.")
    kind, items = _items(payload)
    if len(items) > MAX_ITEMS:
        raise TooLarge(
            f"The file holds {len(items):,} annotations; an import may hold at most "
            f"{MAX_ITEMS:,}. Split it."
        )
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise Malformed(f"Item {number} of the file is not an annotation (a JSON object).")
    return kind, items


SHAPES = (
    "a W3C AnnotationCollection, AnnotationPage, Annotation or list of annotations, or a "
    'Hypothesis export ({"rows": [...]} or a list of its annotations)'
)


def _items(payload: Any) -> tuple[str, list]:
    if isinstance(payload, list):
        looks_hypothesis = payload and all(
            isinstance(i, dict) and "uri" in i and "type" not in i for i in payload
        )
        return ("Hypothesis" if looks_hypothesis else "W3C"), payload
    if not isinstance(payload, dict):
        raise Malformed(f"The file must hold {SHAPES}.")
    for key in ("rows", "annotations"):  # h's API search; the client's export
        if isinstance(payload.get(key), list):
            return "Hypothesis", payload[key]
    types = schemas._as_list(payload.get("type"))
    if "AnnotationCollection" in types:
        first = payload.get("first")
        if isinstance(payload.get("items"), list):  # Scholia's: the first page's items inline
            return "W3C", payload["items"]
        if isinstance(first, dict) and isinstance(first.get("items"), list):
            return "W3C", first["items"]
        raise Malformed(
            "The collection does not hold its annotations (its pages are only named): "
            "export them as one AnnotationPage or a list."
        )
    if "AnnotationPage" in types and isinstance(payload.get("items"), list):
        return "W3C", payload["items"]
    if "Annotation" in types:
        return "W3C", [payload]
    raise Malformed(f"The file must hold {SHAPES}.")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or one past year 1 or 9999 in UTC
        return None


def _creator(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("nickname")
    return value if isinstance(value, str) and value.strip() else None


def _ref(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def w3c_item(payload: dict) -> Item:
    """A W3C annotation (or a reply: motivation ``replying``, its target its parent's id)."""
    schemas._check_type(payload)
    item = Item(
        ref=schemas.parse_iri(payload, "id"),
        creator=_creator(payload.get("creator")),
        created=_moment(payload.get("created")),
        modified=_moment(payload.get("modified")),
        canonical=schemas.parse_iri(payload, "canonical"),
    )
    motivation, sent = schemas.parse_motivation(payload.get("motivation"))
    if "target" not in payload:
        raise Malformed("An annotation needs a target.")
    if motivation is Motivation.REPLYING:
        target = payload["target"]
        target = target.get("id") or target.get("source") if isinstance(target, dict) else target
        item.parent_ref, item.motivation = _ref(target), motivation
        item.body = schemas.parse_reply(payload)
        if schemas.VISIBILITY_KEY in payload:
            item.visibility, _ = schemas.parse_audience(payload)
            item.audience_given = True
            item.group_name = _ref(payload.get(GROUP_NAME_KEY))
        item.form = schemas.parse_body_form(payload)
        return item
    _, item.span = schemas.source_and_span(payload["target"])
    item.body, item.tags = schemas._words(payload, sent)
    item.form = schemas.parse_body_form(payload)
    # A suggested correction elsewhere was about that site's words: here it is a note (or a
    # highlight), its reason kept; only a reader of this text suggests a correction to it.
    item.motivation = None if motivation is Motivation.EDITING else motivation
    item.color = schemas.parse_color(payload.get(schemas.COLOR_KEY))
    item.visibility, _ = schemas.parse_audience(payload)  # the group's number is the other site's
    item.group_name = _ref(payload.get(GROUP_NAME_KEY))
    item.discussion = payload.get("scholia:discussion") is True
    return item


def hypothesis_item(row: dict) -> Item:
    """A Hypothesis annotation (its API's row, as its export has it)."""
    ref = _ref(row.get("id"))
    if ref is not None and len(HYPOTHESIS_LINK + ref) > MAX_IRI_CHARS:
        raise Malformed("This Hypothesis annotation's id is far longer than any of theirs.")
    references = row.get("references")
    text, tags = row.get("text") or "", row.get("tags") or []
    if not isinstance(text, str) or not isinstance(tags, list):
        raise Malformed("A Hypothesis annotation's text is a string and its tags a list.")
    permissions = row.get("permissions")
    read = permissions.get("read") if isinstance(permissions, dict) else None
    item = Item(
        ref=HYPOTHESIS_LINK + ref if ref else None,
        body=text,
        tags=tags,
        created=_moment(row.get("created")),
        modified=_moment(row.get("updated")),
        visibility=V.PUBLIC if isinstance(read, list) and "group:__world__" in read else V.PRIVATE,
        audience_given=isinstance(read, list),
    )
    if isinstance(references, list) and references:
        parent = _ref(references[-1])
        item.parent_ref = HYPOTHESIS_LINK + parent if parent else None
        item.motivation = Motivation.REPLYING
        return item
    if row.get("target"):
        _, item.span = schemas.source_and_span(row["target"])
    return item


# ---- writing ----


@dataclass
class _Run:
    session: Session
    importer: Viewer
    text: Text
    keep_authors: bool
    hypothesis: bool
    layout: revision_cache.Layout
    by_ref: dict[str, Annotation] = field(default_factory=dict)
    authors: dict[str, tuple[Viewer | None, str]] = field(default_factory=dict)


def import_annotations(
    session: Session,
    importer: Viewer,
    slug: str,
    data: bytes,
    *,
    keep_authors: bool = False,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Report:
    """Import the file ``data`` into the text ``slug`` as ``importer``; the caller commits.

    A refused file (or an import past the quota) raises before anything is written.
    ``on_start`` is told how many items the file holds, ``progress`` of each item done.
    """
    if importer.user is None:
        raise SignInNeeded("Sign in to import annotations.")
    kind, items = read_file(data)
    text = text_for(session, slug)
    begin_write(session, keep=[text, text.current_revision])
    _check_quota(session, importer)
    run = _Run(
        session,
        importer,
        text,
        keep_authors,
        kind == "Hypothesis",
        revision_cache.layout(session, text.current_revision),
    )
    report = Report(text, kind)
    if on_start is not None:
        on_start(len(items))
    read = hypothesis_item if run.hypothesis else w3c_item
    try:
        for number, payload in enumerate(items, 1):
            try:
                line = _one(run, number, read(payload))
            except Refused as error:
                ref = _ref(payload.get("id"))
                if run.hypothesis and ref is not None:  # as the items stored are reported
                    ref = HYPOTHESIS_LINK + ref
                line = Line(number, ref, Outcome.SKIPPED, str(error))
            report.lines.append(line)
            if progress is not None:
                progress(1)
        session.add(
            AnnotationImport(
                user_id=importer.id, text_id=text.id, stored=report.stored, created_at=utcnow()
            )
        )
        session.flush()
        if importer.limits is not None:
            quotas.check_import(session, importer.id, importer.limits)
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "Another import of these annotations into this text ran at the same time, so this "
            "one stored nothing. Import the file again: what the other stored is reported as "
            "already imported."
        ) from None
    return report


def _check_quota(session: Session, importer: Viewer) -> None:
    """A reader's imports an hour (a script or a test calling the service imports unlimited)."""
    if importer.limits is None:
        return
    since = utcnow() - timedelta(hours=1)
    done, first = session.execute(
        select(func.count(), func.min(AnnotationImport.created_at)).where(
            AnnotationImport.user_id == importer.id, AnnotationImport.created_at > since
        )
    ).one()
    if done >= IMPORTS_PER_HOUR:
        wait = max(60, int((first - since).total_seconds()))
        raise QuotaExceeded(
            f"You have imported {done} files in the last hour, the most this site allows. "
            f"Nothing was imported; please try again in {wait // 60} minutes.",
            wait,
        )


def _one(run: _Run, number: int, item: Item) -> Line:
    author, remark = _author(run, item)
    line = Line(number, item.ref, Outcome.IMPORTED, remark)
    if item.ref is not None:
        earlier = run.session.scalar(
            select(Annotation).where(
                Annotation.user_id == author.id,
                Annotation.text_id == run.text.id,
                Annotation.via == item.ref,
            )
        )
        if earlier is not None:
            run.by_ref[item.ref] = earlier
            line.outcome, line.annotation_id = Outcome.ALREADY, earlier.id
            return line
    body = check_body(item.body)
    if item.motivation is Motivation.REPLYING:
        annotation = _reply(run, author, item, body)
    elif item.discussion and (joined := _discussion(run, author, item, line)) is not None:
        return joined
    else:
        annotation = _root(run, author, item, body, line)
    if item.created is not None:
        # Never later than now: a note dated in the future would head every "newest" lens of
        # its audience for as long as it stands.
        now = utcnow()
        annotation.created_at = min(item.created, now)
        annotation.updated_at = min(max(item.modified or item.created, item.created), now)
    store(run.session, author, annotation, imported=True)
    if item.ref is not None:
        run.by_ref[item.ref] = annotation
    line.annotation_id = annotation.id
    return line


def _author(run: _Run, item: Item) -> tuple[Viewer, str]:
    """Who the item is written by here, and what the report says about it."""
    importer = run.importer
    name = item.creator
    if run.hypothesis or name is None or name == importer.user.display_name:
        return importer, ""
    if not run.keep_authors:
        raise Invalid(f"Written by someone else ({name[:80]}): only your own notes are imported.")
    if name not in run.authors:
        ids = run.session.scalars(
            select(User.id).where(User.display_name == name, User.is_disabled.is_(False)).limit(2)
        ).all()
        if len(ids) == 1:
            run.authors[name] = (load_viewer(run.session, ids[0]), "")
        else:
            why = "no account" if not ids else "more than one account"
            run.authors[name] = (None, f"{why} is named {name[:80]}: imported as yours")
    author, remark = run.authors[name]
    return (author or importer), remark


def _root(run: _Run, author: Viewer, item: Item, body: str, line: Line) -> Annotation:
    visibility, group_id = item.visibility, None
    if visibility is V.GROUP:
        group_id = _group_named(author, item.group_name)
        if group_id is None:
            visibility = V.PRIVATE
            whose = "you are" if author is run.importer else f"{author.user.display_name} is"
            line.reason = _join(
                line.reason,
                f"kept private: {whose} not a member of one group named "
                f"{(item.group_name or '(none given)')[:80]}",
            )
    check_audience(author, visibility, group_id)
    tags = normalise_tags(item.tags)
    if item.span is None and not body.strip():
        raise Invalid("Empty: a note on the whole text needs some words.")
    motivation = item.motivation or (
        Motivation.COMMENTING if body.strip() else Motivation.HIGHLIGHTING
    )
    annotation = new_annotation(
        author,
        body,
        item.form,
        text=run.text,
        revision=run.text.current_revision,
        motivation=motivation,
        visibility=visibility,
        group_id=group_id,
        color=item.color,
        via=item.ref,
        canonical=item.canonical,
    )
    annotation.tags = [AnnotationTag(name=name) for name in sorted(tags)]
    if item.span is not None:
        line.outcome = _place(run.layout, annotation, item.span)
    return annotation


def _group_named(author: Viewer, name: str | None) -> int | None:
    """The author's one group of that name (``scholia:groupName``; its number is the other
    site's), or None. Names are not unique: of two groups of one name, either could be one
    made to catch a seminar's notes, so neither is chosen."""
    found = [gid for gid, n in (author.group_names or {}).items() if n == name]
    return found[0] if len(found) == 1 else None


def _discussion(run: _Run, author: Viewer, item: Item, line: Line) -> Line | None:
    """A group's discussion of a paragraph is the group's (nobody edits or deletes it) and has no
    words of its own: the item joins the author's group's thread on the paragraph its words are
    in, or starts it as writing in it would, and its replies go under that thread. None when it
    cannot (no such group of the author's, the paragraph gone): it is then a note of its own."""
    group_id = _group_named(author, item.group_name)
    if item.visibility is not V.GROUP or group_id is None or item.span is None:
        return None
    probe = Annotation()
    if _place(run.layout, probe, item.span) is Outcome.ORPHANED:
        return None
    paragraph = paragraph_at(run.layout.spans, probe.start)
    thread, started = discussion.paragraph_thread(
        run.session, author, run.text, group_id, paragraph
    )
    if started:
        thread.via, thread.canonical = item.ref, item.canonical
    else:
        line.outcome = Outcome.ALREADY
    if item.body.strip():
        line.reason = _join(
            line.reason, "its words were not kept: a paragraph's discussion has none"
        )
    if item.ref is not None:
        run.by_ref[item.ref] = thread
    line.annotation_id = thread.id
    return line


def _place(layout: revision_cache.Layout, annotation: Annotation, span: SpanTarget) -> Outcome:
    """Anchor as a POST would; words that moved or changed are looked for as a revision's
    notes are (exact, then fuzzy), and words that are gone leave an orphan."""
    content = layout.content
    try:
        set_span(annotation, content, *resolve_span(layout, span))
        return Outcome.IMPORTED
    except (Malformed, TooLarge):
        raise
    except Invalid:
        if span.exact is None or not span.exact.strip() or span.refined_by is not None:
            raise
    position = None
    start, end = span.start, span.end
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(content):
        position = anchoring.PositionSelector(start, end)
    quote = anchoring.QuoteSelector(span.exact, span.prefix, span.suffix)
    found = anchoring.anchor(content, quote, position)
    snapped = found and snap_to_paragraphs(layout.spans, found.start, found.end)
    if snapped:
        set_span(annotation, content, *snapped)
        exact = content[snapped[0] : snapped[1]] == span.exact
        return Outcome.IMPORTED if exact else Outcome.APPROXIMATE
    annotation.exact, annotation.start, annotation.end = span.exact, None, None
    annotation.prefix, annotation.suffix = span.prefix[-CONTEXT_CHARS:], span.suffix[:CONTEXT_CHARS]
    return Outcome.ORPHANED


def _reply(run: _Run, author: Viewer, item: Item, body: str) -> Annotation:
    parent = run.by_ref.get(item.parent_ref) if item.parent_ref else None
    if parent is None and item.parent_ref is not None:
        # Only among the author's own: anyone may give a note any via (a POST's id), and a
        # public one claiming a private note's id would gather its replies for all to read.
        parent = run.session.scalar(
            select(Annotation).where(
                Annotation.user_id == author.id,
                Annotation.text_id == run.text.id,
                Annotation.via == item.parent_ref,
                Annotation.deleted_at.is_(None),
            )
        )
    if parent is None:
        raise Invalid(
            "A reply whose parent is neither in the file nor one of your own notes imported before."
        )
    if not can(author, Action.REPLY, parent):
        raise refusal(author, Action.REPLY, parent)
    _check_thread_audience(run, author, item, parent)
    if not body.strip():
        raise Invalid("Empty: a reply needs some words.")
    answer = discussion.new_reply(run.session, author, parent, body, form=item.form)
    answer.via, answer.canonical = item.ref, item.canonical
    return answer


def _check_thread_audience(run: _Run, author: Viewer, item: Item, parent: Annotation) -> None:
    """A reply is read by its thread's audience: one the file gives a narrower audience (a
    Hypothesis reply only its writer could read, under a public note) is not imported, or
    words written for a few would go out to more."""
    root = parent if parent.root_id is None else run.session.get(Annotation, parent.root_id)
    if not item.audience_given or root.visibility is V.PRIVATE or item.visibility is V.PUBLIC:
        return  # read by no more than the file says
    same_group = item.group_name is None or _group_named(author, item.group_name) == root.group_id
    if item.visibility is root.visibility is V.GROUP and same_group:
        return
    raise Invalid(
        f"Its audience in the file ({item.visibility.value}) is not its thread's "
        f"({root.visibility.value}), and a reply is read by its thread's audience."
    )


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
