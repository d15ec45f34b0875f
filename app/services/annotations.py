"""Writing and reading annotations: every rule about what may be stored, and who sees it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from app.database import begin_write
from app.models import (
    Annotation,
    AnnotationTag,
    AnnotationVersion,
    EventKind,
    Flag,
    HighlightColor,
    IdempotencyKey,
    Motivation,
    Text,
    TextRevision,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.models.text import ParagraphSpan, paragraph_at, snap_to_paragraphs
from app.services import anchoring, live, markdown, notifications, quotas, revision_cache
from app.services.access import Action, Viewer, can, readable_by, visible_to
from app.services.errors import AnnotationError, Conflict, Forbidden, NotFound

__all__ = ["AnnotationError", "Conflict", "Forbidden", "NotFound"]  # raised by these services

MAX_BODY_CHARS = 20_000
MAX_QUOTE_CHARS = 20_000
MAX_TAGS = 20
MAX_TAG_CHARS = 64
CONTEXT_CHARS = 32
# A client's prefix and suffix only help find its quote; anchoring reads their nearest
# characters anyway (anchoring.CONTEXT_READ), and a longer one is refused at the edge.
MAX_CONTEXT_CHARS = 1_000


FORBIDDEN_MESSAGES = {
    Action.EDIT: "Only its author may edit this annotation.",
    Action.DELETE: "Only its author, or a moderator of its audience, may delete this annotation.",
    Action.REPLY: "You may not reply to this annotation.",
    Action.REACT: "You may not react to this annotation.",
    Action.FLAG: "You may not flag this annotation.",
    Action.MOVE: "Only its author may change who sees this thread.",
    Action.HIDE: "Only the group's instructors and site administrators moderate this annotation.",
    Action.REMOVE: "Only the group's instructors and site administrators moderate this annotation.",
    Action.SEE_FLAGS: "Only the group's instructors and site administrators see flags.",
}


def refusal(viewer: Viewer, action: Action, annotation: Annotation) -> Forbidden:
    """Why ``can`` said no to something the viewer may see, in the words that help them."""
    is_author = viewer.user is not None and annotation.user_id == viewer.id
    if (
        is_author
        and annotation.visibility is Visibility.GROUP
        and not (viewer.is_member(annotation.group_id) or viewer.is_admin)
    ):
        return Forbidden(
            "You are no longer a member of this group: what you wrote in it stays with the "
            "group, and only its instructors can change it now."
        )
    if action is Action.MOVE and annotation.is_reply:
        return Forbidden("A reply has its thread's audience; change the first note's.")
    if action is Action.MOVE and annotation.is_hidden:
        return Forbidden(
            "An instructor has hidden this note: it stays where it is until they show it again."
        )
    if action is Action.HIDE and annotation.is_hidden and is_author:
        return Forbidden(
            "Someone else hid your note: another moderator may show it again, not its author."
        )
    if action in (Action.REPLY, Action.REACT, Action.FLAG) and annotation.is_hidden:
        return Forbidden("An instructor has hidden this annotation.")
    return Forbidden(FORBIDDEN_MESSAGES.get(action, "You may not do that."))


@dataclass(frozen=True)
class SpanTarget:
    """What a client says it selected; either part may be missing or stale."""

    exact: str | None = None
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None


@dataclass
class Draft:
    """A new annotation's content, in neutral form (the API and the HTML forms both make one)."""

    text_slug: str
    motivation: Motivation = Motivation.COMMENTING
    body: str = ""
    tags: list[str] = field(default_factory=list)
    color: HighlightColor | None = None
    target: SpanTarget | None = None  # None: a note on the whole text
    visibility: Visibility = Visibility.PRIVATE
    group_id: int | None = None


@dataclass
class Changes:
    """An edit; fields left as None stay as they are."""

    body: str | None = None
    tags: list[str] | None = None
    color: HighlightColor | None = None
    clear_color: bool = False
    motivation: Motivation | None = None


def normalise_tag(raw: str) -> str:
    """Lower case, no leading '#', inner whitespace as '-': "NEP ", "#nep" and "nep" are one tag."""
    tag = re.sub(r"\s+", "-", raw.strip().lstrip("#").strip()).lower()
    return tag


def normalise_tags(raw_tags: list[str]) -> list[str]:
    tags: list[str] = []
    for raw in raw_tags:
        if not isinstance(raw, str):
            raise AnnotationError("Each tag must be a string.", 400)
        tag = normalise_tag(raw)
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise AnnotationError(f"Tags may have at most {MAX_TAG_CHARS} characters.")
        if tag not in tags:
            tags.append(tag)
            if len(tags) > MAX_TAGS:  # at once: a client's list of a million tags stops here
                raise AnnotationError(f"An annotation may have at most {MAX_TAGS} tags.")
    return tags


def check_body(body: str) -> str:
    if len(body) > MAX_BODY_CHARS:
        raise AnnotationError(
            f"The note is {len(body):,} characters long; the limit is {MAX_BODY_CHARS:,}.", 413
        )
    return body


def resolve_span(layout: revision_cache.Layout, target: SpanTarget) -> tuple[int, int]:
    """Check a client's selectors against the text and return the span they mean, its ends
    moved off the blank lines between paragraphs.

    The quote wins over stale offsets (the text may have been revised since the page loaded),
    but offsets that are out of range, empty, or contradict a quote found nowhere are refused.
    """
    start, end = _span_meant(layout.content, target)
    snapped = snap_to_paragraphs(layout.spans, start, end)
    if snapped is None:
        raise AnnotationError("The selection holds only the space between two paragraphs.")
    return snapped


def _span_meant(content: str, target: SpanTarget) -> tuple[int, int]:
    for name, context in (("prefix", target.prefix), ("suffix", target.suffix)):
        if context and len(context) > MAX_CONTEXT_CHARS:
            raise AnnotationError(
                f"The quote's {name} may have at most {MAX_CONTEXT_CHARS:,} characters "
                f"(it has {len(context):,}); {CONTEXT_CHARS} are enough to find it.",
                413,
            )
    if target.start is not None or target.end is not None:
        start, end = target.start, target.end
        if not _is_offset(start) or not _is_offset(end):
            raise AnnotationError("TextPositionSelector needs integer start and end.", 400)
        if not 0 <= start < end <= len(content):
            raise AnnotationError(
                f"The position {start}–{end} is not a non-empty span of this text "
                f"(0–{len(content)})."
            )
        if target.exact is None or content[start:end] == target.exact:
            return start, end
    if target.exact is None:
        raise AnnotationError(
            "The target needs a TextQuoteSelector or a TextPositionSelector.", 400
        )
    if not target.exact.strip():
        raise AnnotationError("The selected quote is empty.")
    if len(target.exact) > MAX_QUOTE_CHARS:
        raise AnnotationError(f"The quote may have at most {MAX_QUOTE_CHARS:,} characters.", 413)
    position = (
        anchoring.PositionSelector(target.start, target.end) if target.start is not None else None
    )
    quote = anchoring.QuoteSelector(target.exact, target.prefix or "", target.suffix or "")
    found = anchoring.anchor(content, quote, position)
    if found is None or content[found.start : found.end] != target.exact:
        raise AnnotationError("The quoted words are not in this text.")
    return found.start, found.end


def _is_offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON's false is no 0


def _set_span(annotation: Annotation, content: str, start: int, end: int) -> None:
    quote, _ = anchoring.describe(content, start, end, CONTEXT_CHARS)
    annotation.exact, annotation.prefix, annotation.suffix = quote.exact, quote.prefix, quote.suffix
    annotation.start, annotation.end = start, end


# Built once: making the joinedload option anew costs more than running the query.
_TEXT_BY_SLUG = (
    select(Text).where(Text.slug == bindparam("slug")).options(joinedload(Text.current_revision))
)


def text_for(session: Session, slug: str, *, reload: bool = False) -> Text:
    query = _TEXT_BY_SLUG.execution_options(populate_existing=True) if reload else _TEXT_BY_SLUG
    text = session.scalar(query, {"slug": slug})
    if text is None or text.current_revision is None:
        raise AnnotationError(f"There is no text '{slug}'.", 404)
    return text


def parse_audience(raw: str | None) -> tuple[Visibility, int | None]:
    """ "private", "public" or "group-<id>", as forms and the editor send it."""
    if raw in (None, "", "private"):
        return Visibility.PRIVATE, None
    if raw == "public":
        return Visibility.PUBLIC, None
    if raw.startswith("group-") and raw[6:].isascii() and raw[6:].isdigit() and len(raw) < 26:
        return Visibility.GROUP, int(raw[6:])
    raise AnnotationError(f"Unknown audience {raw!r}: use private, public or group-<id>.", 400)


def audience_key(visibility: Visibility, group_id: int | None) -> str:
    return f"group-{group_id}" if visibility is Visibility.GROUP else visibility.value


def check_audience(viewer: Viewer, visibility: Visibility, group_id: int | None) -> None:
    """Group notes go to a group the author belongs to; other notes name no group."""
    if visibility is Visibility.GROUP:
        if group_id is None:
            raise AnnotationError("Say which group may see this annotation.")
        if not viewer.is_member(group_id):
            raise AnnotationError("You are not a member of that group.", 403)
    elif group_id is not None:
        raise AnnotationError("Only group annotations name a group.")


def new_annotation(viewer: Viewer, body: str = "", **fields) -> Annotation:
    """An annotation by the viewer, its Markdown rendered once, created and updated now.

    ``updated_at`` starts equal to ``created_at``: only an edit moves it (see is_edited).
    """
    now = utcnow()
    return Annotation(
        created_at=now,
        updated_at=now,
        user_id=viewer.id,
        body_source=body,
        body_html=markdown.render(body) if body.strip() else "",
        **fields,
    )


def check_quota(session: Session, viewer: Viewer) -> None:
    """Refuse a change past the viewer's write quota; every write calls it under the lock."""
    if viewer.limits is not None and viewer.id is not None:
        quotas.check(session, viewer.id, viewer.limits)


def check_words(annotation: Annotation, body: str) -> None:
    """What needs words keeps them: a reply, and a note on the whole text (words are all it
    is). Checked on every write, so an edit cannot empty what a create refused."""
    if body.strip():
        return
    if annotation.is_reply:
        raise AnnotationError("A reply needs some words.")
    if annotation.exact is None and not annotation.is_discussion:
        raise AnnotationError("A note on the whole text needs some words.")


def check_motivation(motivation: Motivation, *, is_reply: bool) -> None:
    """Replies reply; notes and highlights do anything else (W3C's motivations)."""
    if is_reply and motivation is not Motivation.REPLYING:
        raise AnnotationError("A reply's motivation is 'replying'.")
    if not is_reply and motivation is Motivation.REPLYING:
        raise AnnotationError(
            "Only a reply has the motivation 'replying': its target is the annotation it answers."
        )


def create(session: Session, viewer: Viewer, draft: Draft) -> Annotation:
    """Store a new annotation, with its tags and its event, in one short write transaction.

    On SQLite every worker's writes queue for one lock, so the work that needs no lock
    (anchoring the span on the text as it stands, rendering the Markdown) is done before it;
    under the lock the text's current revision is read again, and anchored on afresh only if
    the text was revised meanwhile.
    """
    if viewer.user is None:
        raise AnnotationError("Sign in to annotate.", 401)
    check_audience(viewer, draft.visibility, draft.group_id)
    body = check_body(draft.body)
    tags = normalise_tags(draft.tags)
    check_motivation(draft.motivation, is_reply=False)
    if draft.target is None and not body.strip():
        raise AnnotationError("A note on the whole text needs some words.")
    text = text_for(session, draft.text_slug)
    try:
        annotation = _new_on_text(session, viewer, draft, body, text)
    except AnnotationError:  # perhaps words of a revision that arrived since: judged below
        annotation = None
    # The caller answers with the annotation as written: the commit need not expire it.
    begin_write(session, keep=[text, text.current_revision], expire_on_commit=False)
    check_quota(session, viewer)
    current = session.scalar(select(Text.current_revision_id).where(Text.id == text.id))
    if annotation is None or current != annotation.revision_id:
        text = text_for(session, draft.text_slug, reload=True)
        annotation = _new_on_text(session, viewer, draft, body, text)
    annotation.created_at = annotation.updated_at = utcnow()
    annotation.tags = [AnnotationTag(name=name) for name in sorted(tags)]  # as loaded
    audience = audience_key(draft.visibility, draft.group_id)
    if viewer.user.last_audience != audience:  # the editor offers it first next time
        session.execute(update(User).where(User.id == viewer.id).values(last_audience=audience))
    return store(session, viewer, annotation)


def store(
    session: Session, viewer: Viewer, annotation: Annotation, parent: Annotation | None = None
) -> Annotation:
    """Write a new annotation (a note, a highlight or a reply) with its event and its
    notices: the one way a new annotation reaches the database, under the write lock."""
    session.add(annotation)
    session.flush()
    live.record(session, annotation, EventKind.CREATED, viewer.id)
    notifications.notify(session, annotation, parent)
    return annotation


def _new_on_text(
    session: Session, viewer: Viewer, draft: Draft, body: str, text: Text
) -> Annotation:
    """The annotation ``draft`` describes, anchored on the text's current revision, unsaved."""
    revision = text.current_revision
    annotation = new_annotation(
        viewer,
        body,
        text=text,
        revision=revision,
        visibility=draft.visibility,
        group_id=draft.group_id,
        motivation=draft.motivation,
        color=draft.color,
    )
    if draft.target is not None:
        layout = revision_cache.layout(session, revision)
        start, end = resolve_span(layout, draft.target)
        _set_span(annotation, layout.content, start, end)
    return annotation


def paragraph_spans(session: Session, annotation: Annotation) -> list[ParagraphSpan]:
    """The paragraphs of the revision the annotation is anchored to, with their offsets.

    From this process's cache of immutable revisions (see revision_cache): read, never change.
    """
    return revision_cache.layout(session, annotation.revision).spans


def get_visible(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or not can(viewer, Action.VIEW, annotation):
        raise NotFound()
    return annotation


def get_editable(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """For the edit form: the author only (404 if unseen, 403 if someone else's)."""
    annotation = get_visible(session, viewer, annotation_id)
    if not can(viewer, Action.EDIT, annotation):
        raise Forbidden(FORBIDDEN_MESSAGES[Action.EDIT])
    return annotation


def get_for(session: Session, viewer: Viewer, annotation_id: int, action: Action) -> Annotation:
    """The annotation, locked for a write, if the viewer may do ``action`` to it.

    What the viewer may not see answers 404, exactly like a missing annotation (its existence
    is private too); what they may see but not change answers 403. Only for writes: reads use
    ``get_visible``, which never waits for the write lock.
    """
    begin_write(session)
    annotation = _thread_locked(session, annotation_id)
    if action is Action.RESTORE:
        if annotation is None or not can(viewer, action, annotation):
            raise NotFound()
    else:
        if annotation is None or not can(viewer, Action.VIEW, annotation):
            raise NotFound()
        if not can(viewer, action, annotation):
            raise refusal(viewer, action, annotation)
    check_quota(session, viewer)
    return annotation


def _thread_locked(session: Session, annotation_id: int) -> Annotation | None:
    """The annotation as it stands now, with its thread's writes taking turns.

    SQLite's write lock already serialises every write. On PostgreSQL two requests on one
    thread would each judge it on what it was before the other committed (a move and a hide, a
    move and a reply): every write to a thread locks the thread's first note's row, root first
    whatever it writes (so two of them never wait for each other), then reads what it judges.
    """
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or session.get_bind().dialect.name != "postgresql":
        return annotation
    root_id = annotation.root_id or annotation.id
    session.get(Annotation, root_id, with_for_update=True, populate_existing=True)
    if root_id != annotation.id:
        session.refresh(annotation)
    return annotation


def edit(session: Session, viewer: Viewer, annotation_id: int, changes: Changes) -> Annotation:
    """Apply an edit, keeping the state before it as a version."""
    annotation = get_for(session, viewer, annotation_id, Action.EDIT)
    body = check_body(changes.body) if changes.body is not None else annotation.body_source
    tags = normalise_tags(changes.tags) if changes.tags is not None else annotation.tag_names
    color = None if changes.clear_color else (changes.color or annotation.color)
    motivation = changes.motivation or annotation.motivation
    check_motivation(motivation, is_reply=annotation.is_reply)
    check_words(annotation, body)
    if (body, tags, color, motivation) == (
        annotation.body_source,
        annotation.tag_names,
        annotation.color,
        annotation.motivation,
    ):
        return annotation
    annotation.versions.append(
        AnnotationVersion(
            number=len(annotation.versions) + 1,
            body_source=annotation.body_source,
            body_html=annotation.body_html,
            tags=" ".join(annotation.tag_names),
            color=annotation.color,
            created_at=annotation.updated_at,
        )
    )
    annotation.body_source = body
    annotation.body_html = markdown.render(body) if body.strip() else ""
    if tags != annotation.tag_names:
        # Only what changed: a kept tag replaced by a new row of the same name would be
        # inserted before the old one is deleted, against the (annotation, name) constraint.
        annotation.tags = [
            *(tag for tag in annotation.tags if tag.name in tags),
            *(AnnotationTag(name=name) for name in tags if name not in annotation.tag_names),
        ]
    annotation.color, annotation.motivation = color, motivation
    annotation.updated_at = utcnow()
    session.flush()
    live.record(session, annotation, EventKind.UPDATED, viewer.id)
    return annotation


def delete(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """Gone from every view, kept in the database so that it can be restored.

    Its author deletes just the annotation (answers to it stay, under a placeholder). A
    moderator who is not its author removes it with every reply beneath it, so that a flood of
    replies goes at once; only a moderator restores that.
    """
    begin_write(session)
    annotation = _thread_locked(session, annotation_id)
    if annotation is None or not can(viewer, Action.VIEW, annotation):
        raise NotFound()
    now = utcnow()
    if can(viewer, Action.DELETE, annotation):
        removed = [annotation]
    elif can(viewer, Action.REMOVE, annotation):
        beneath = _replies_beneath(session, annotation)
        removed = [annotation, *(reply for reply in beneath if reply.deleted_at is None)]
    else:
        raise refusal(viewer, Action.DELETE, annotation)
    check_quota(session, viewer)
    for each in removed:
        each.deleted_at, each.deleted_by_id = now, viewer.id
    session.flush()
    live.record(session, annotation, EventKind.DELETED, viewer.id)
    return annotation


def _replies_beneath(session: Session, annotation: Annotation) -> list[Annotation]:
    """Every reply under ``annotation``, deleted ones too: all of a root's thread, or a reply's
    subtree, walked without recursion (a chain of replies may be thousands deep)."""
    root_id = annotation.root_id or annotation.id
    replies = session.scalars(select(Annotation).where(Annotation.root_id == root_id)).all()
    children: dict[int, list[Annotation]] = {}
    for reply in replies:
        children.setdefault(reply.parent_id, []).append(reply)
    found, stack = [], [annotation.id]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child.id)
    return found


def _removed_by_moderator(annotation: Annotation) -> bool:
    return annotation.deleted_at is not None and annotation.deleted_by_id not in (
        None,
        annotation.user_id,
    )


def restore(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """Undo a delete: the author's own, or (by a moderator) a removal with what it took along.

    Nothing comes back under what a moderator still keeps removed: a reply restored there
    would be live in a thread nobody can open.
    """
    annotation = get_for(session, viewer, annotation_id, Action.RESTORE)
    if annotation.root_id is not None:
        thread = {
            a.id: a for a in _replies_beneath(session, session.get(Annotation, annotation.root_id))
        }
        thread[annotation.root_id] = session.get(Annotation, annotation.root_id)
        ancestor = thread.get(annotation.parent_id)
        while ancestor is not None:
            if _removed_by_moderator(ancestor):
                raise Conflict(
                    "A moderator removed what this answers: it can come back only with that."
                )
            ancestor = thread.get(ancestor.parent_id)
    if _removed_by_moderator(annotation):
        removal = (annotation.deleted_at, annotation.deleted_by_id)
        for reply in _replies_beneath(session, annotation):
            if (reply.deleted_at, reply.deleted_by_id) == removal:
                reply.deleted_at = reply.deleted_by_id = None
    annotation.deleted_at = annotation.deleted_by_id = None
    session.flush()
    live.record(session, annotation, EventKind.RESTORED, viewer.id)
    return annotation


def set_visibility(
    session: Session,
    viewer: Viewer,
    annotation_id: int,
    visibility: Visibility,
    group_id: int | None = None,
) -> Annotation:
    """Change who may see a thread: the root and every reply under it move together.

    A move never shows anyone's words to people they were not written for. So only the
    thread's author moves it, as a current member of its group (``can(MOVE)``), and the thread
    stays where it is while it holds anyone else's words (replies, deleted ones too, which
    their authors may restore) or is under moderation (hidden, or flagged and not yet looked
    at: it must not leave the instructors who are to judge it). The author's own earlier
    versions were written for the old audience: from now on only the author reads them.
    """
    annotation = get_for(session, viewer, annotation_id, Action.MOVE)
    check_audience(viewer, visibility, group_id)
    if (annotation.visibility, annotation.group_id) == (visibility, group_id):
        return annotation
    in_thread = (Annotation.id == annotation.id) | (Annotation.root_id == annotation.id)
    others, hidden, flagged = session.execute(
        select(
            func.count(case((Annotation.user_id != annotation.user_id, 1))),
            func.count(Annotation.hidden_at),
            select(func.count(Flag.id))
            .join(Annotation, Annotation.id == Flag.annotation_id)
            .where(in_thread, Flag.resolved_at.is_(None))
            .scalar_subquery(),
        ).where(in_thread)
    ).one()
    if others:
        raise Conflict(
            "Others have replied in this thread, so it stays with the audience they wrote for: "
            "moving it would show their words to people they did not write them for."
        )
    if hidden:
        raise Conflict("An instructor has hidden part of this thread: it stays where it is.")
    if flagged:
        raise Conflict(
            "Someone has asked the instructors to look at this thread: it stays where it is "
            "until they have."
        )
    # Those who could see it must hear that it left; those who now can, that it arrived.
    live.record(session, annotation, EventKind.VISIBILITY, viewer.id)
    annotation.visibility, annotation.group_id = visibility, group_id
    session.execute(
        update(Annotation)
        .where(Annotation.root_id == annotation.id)
        .values(visibility=visibility, group_id=group_id)
    )
    session.execute(
        update(AnnotationVersion)
        .where(AnnotationVersion.annotation_id.in_(select(Annotation.id).where(in_thread)))
        .values(author_only=True)
    )
    session.flush()
    live.record(session, annotation, EventKind.VISIBILITY, viewer.id)
    return annotation


def for_text(session: Session, viewer: Viewer, text: Text) -> list[Annotation]:
    """Every annotation on a text that the viewer may see, in reading order, in two queries."""
    return list(
        session.scalars(
            select(Annotation)
            .where(Annotation.text_id == text.id, visible_to(viewer))
            .options(joinedload(Annotation.user))
            .order_by(Annotation.start.is_(None), Annotation.start, Annotation.id)
        )
    )


def for_text_slug(session: Session, viewer: Viewer, slug: str) -> tuple[Text, list[Annotation]]:
    text = text_for(session, slug)
    return text, for_text(session, viewer, text)


@dataclass(frozen=True)
class NotebookFilter:
    tag: str | None = None
    color: HighlightColor | None = None


def notebook(session: Session, viewer: Viewer, filters: NotebookFilter) -> list[Annotation]:
    """All of a reader's own annotations, by text, then in reading order."""
    query = (
        select(Annotation)
        .join(Text, Annotation.text_id == Text.id)
        .where(visible_to(viewer), Annotation.user_id == viewer.id)
        # Notes and highlights; replies live in their threads, discussions belong to groups.
        .where(Annotation.root_id.is_(None), Annotation.is_discussion.is_(False))
        .options(joinedload(Annotation.text), joinedload(Annotation.revision))
        .order_by(func.lower(Text.title), Annotation.start.is_(None), Annotation.start)
    )
    if filters.tag:
        query = query.where(Annotation.tags.any(AnnotationTag.name == normalise_tag(filters.tag)))
    if filters.color:
        query = query.where(Annotation.color == filters.color)
    return list(session.scalars(query).unique())


def tag_suggestions(
    session: Session, viewer: Viewer, text_id: int | None = None, *, own: bool = False
) -> list[str]:
    """Tags on annotations whose words the reader may read (on one text; with ``own``, only
    their own), most used first, for the editor and the notebook's filter. A hidden note's
    tags are its words: they give nothing away to those who see only that it was hidden."""
    query = select(AnnotationTag.name, func.count()).join(
        Annotation, Annotation.id == AnnotationTag.annotation_id
    )
    if text_id is not None:
        query = query.where(Annotation.text_id == text_id)
    if own:
        query = query.where(Annotation.user_id == viewer.id)
    rows = session.execute(
        query.where(readable_by(viewer))
        .group_by(AnnotationTag.name)
        .order_by(func.count().desc(), AnnotationTag.name)
        .limit(200)
    )
    return [name for name, _ in rows]


@dataclass(frozen=True)
class History:
    annotation: Annotation
    versions: list[AnnotationVersion]  # the earlier versions the viewer may read, oldest first
    withheld: int  # earlier versions written for another audience, for the author's eyes only


def versions(session: Session, viewer: Viewer, annotation_id: int) -> History:
    """A note's earlier versions, as far as they were written for those who may read it now."""
    annotation = get_visible(session, viewer, annotation_id)
    if not can(viewer, Action.READ_HIDDEN, annotation):
        raise Forbidden("An instructor has hidden this annotation.")
    is_author = annotation.user_id == viewer.id
    shown = [v for v in annotation.versions if is_author or not v.author_only]
    return History(annotation, shown, len(annotation.versions) - len(shown))


def reanchor(session: Session, text: Text, new: TextRevision) -> dict[str, int]:
    """Move every annotation of ``text`` onto revision ``new``; orphans are kept, never lost.

    Runs inside the importer's transaction, so a revision and its re-anchored notes appear
    together or not at all.
    """
    counts = {"kept": 0, "moved": 0, "orphaned": 0}
    content, spans = new.content, new.spans()
    annotations = session.scalars(
        select(Annotation).where(Annotation.text_id == text.id, Annotation.exact.is_not(None))
    ).all()
    for annotation in annotations:
        position = (
            anchoring.PositionSelector(annotation.start, annotation.end)
            if annotation.start is not None
            else None
        )
        quote = anchoring.QuoteSelector(annotation.exact, annotation.prefix, annotation.suffix)
        found = anchoring.anchor(content, quote, position)
        annotation.revision_id = new.id
        snapped = found and snap_to_paragraphs(spans, found.start, found.end)
        if not snapped:
            annotation.start = annotation.end = None
            counts["orphaned"] += 1
            continue
        counts["kept" if found.method == "position" else "moved"] += 1
        # The note now belongs to these words; its selectors describe them from here on.
        _set_span(annotation, content, *snapped)
    # Notes on the whole text simply follow it.
    session.execute(
        update(Annotation)
        .where(Annotation.text_id == text.id, Annotation.exact.is_(None))
        .values(revision_id=new.id)
    )
    session.flush()
    return counts


@dataclass
class NotebookGroup:
    text: Text
    # (paragraph number, its annotations); number None holds whole-text notes and orphans.
    paragraphs: list[tuple[int | None, list[Annotation]]]


def group_for_notebook(session: Session, found: list[Annotation]) -> list[NotebookGroup]:
    """Group a notebook listing by text, then paragraph, with one query for all paragraphs."""
    revision_ids = {a.revision_id for a in found}
    spans: dict[int, list] = {}
    if revision_ids:
        revisions = session.scalars(
            select(TextRevision)
            .where(TextRevision.id.in_(revision_ids))
            .options(selectinload(TextRevision.paragraphs))
        )
        spans = {r.id: r.spans() for r in revisions}
    groups: dict[int, NotebookGroup] = {}
    for annotation in found:
        group = groups.setdefault(annotation.text_id, NotebookGroup(annotation.text, []))
        number = None
        if annotation.start is not None:
            number = paragraph_at(spans[annotation.revision_id], annotation.start).paragraph.number
        if group.paragraphs and group.paragraphs[-1][0] == number:
            group.paragraphs[-1][1].append(annotation)
        else:
            group.paragraphs.append((number, [annotation]))
    return list(groups.values())


MAX_IDEMPOTENCY_KEY = 255


def once(
    session: Session, viewer: Viewer, key: str | None, make: Callable[[], Annotation]
) -> tuple[Annotation, bool]:
    """Run ``make`` once per (viewer, key): a retry gets the first result back, not a copy.

    Returns the annotation and whether it was made now. Two simultaneous requests with one key
    on PostgreSQL both get past the lookup; the unique key then refuses the second, whose work
    is rolled back to its savepoint, and it answers with the first one's annotation.
    """
    if key is None:
        return make(), True
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise AnnotationError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.", 400
        )

    def earlier() -> Annotation | None:
        found = session.scalar(
            select(IdempotencyKey.annotation_id).where(
                IdempotencyKey.user_id == viewer.id, IdempotencyKey.key == key
            )
        )
        return session.get(Annotation, found) if found is not None else None

    begin_write(session)
    if (annotation := earlier()) is not None:
        return annotation, False
    try:
        with session.begin_nested():
            annotation = make()
            session.add(IdempotencyKey(user_id=viewer.id, key=key, annotation_id=annotation.id))
    except IntegrityError:
        annotation = earlier()
        if annotation is None:
            raise
        return annotation, False
    return annotation, True
