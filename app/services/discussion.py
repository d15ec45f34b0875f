"""Replies, reactions and reading threads: annotations as conversation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from app.database import begin_write
from app.models import (
    Annotation,
    EventKind,
    Motivation,
    Reaction,
    ReactionKind,
    Text,
    Visibility,
)
from app.models.text import ParagraphSpan
from app.services import live
from app.services.access import Action, Viewer, can, visible_to
from app.services.annotations import (
    MARKDOWN_BODY,
    BodyForm,
    check_body,
    get_for,
    new_annotation,
    store,
    text_for,
)
from app.services.errors import Conflict, Invalid, NotFound

MAX_DEPTH = 3  # deeper replies are shown flat, "in reply to NAME"


def reply(
    session: Session,
    viewer: Viewer,
    parent_id: int,
    body: str,
    seen: tuple[Visibility, int | None] | None = None,
    form: BodyForm = MARKDOWN_BODY,
) -> Annotation:
    """Answer an annotation or a reply; the answer joins the thread with its visibility.

    ``seen`` is the audience the writer saw the thread in (forms send it): if it has moved
    since, nothing is posted, or words written for a seminar would go out to the public.
    """
    body = check_body(body)
    if not body.strip():
        raise Invalid("A reply needs some words.")
    parent = get_for(session, viewer, parent_id, Action.REPLY)
    root = parent if parent.root_id is None else session.get(Annotation, parent.root_id)
    if seen is not None and seen != (root.visibility, root.group_id):
        raise Conflict(
            "A reply has its thread's audience, and this thread's is not the one your reply "
            "was written for (it may have moved since you opened it): nothing was posted."
        )
    answer = new_reply(session, viewer, parent, body, root, form)
    return store(session, viewer, answer, parent)


def new_reply(
    session: Session,
    viewer: Viewer,
    parent: Annotation,
    body: str,
    root: Annotation | None = None,
    form: BodyForm = MARKDOWN_BODY,
) -> Annotation:
    """The viewer's answer to ``parent`` (unsaved), in its thread with the thread's audience."""
    if root is None:
        root = parent if parent.root_id is None else session.get(Annotation, parent.root_id)
    return new_annotation(
        viewer,
        body,
        form,
        text_id=root.text_id,
        revision_id=root.revision_id,
        motivation=Motivation.REPLYING,
        visibility=root.visibility,
        group_id=root.group_id,
        parent_id=parent.id,
        root_id=root.id,
    )


def discussion_thread(
    session: Session, viewer: Viewer, slug: str, group_id: int, paragraph_number: int
) -> Annotation:
    """The group's thread about one paragraph, started by whoever writes in it first."""
    if not viewer.is_member(group_id):
        raise NotFound("No such group.")
    begin_write(session)
    text, span = paragraph_of(session, slug, paragraph_number)
    return paragraph_thread(session, viewer, text, group_id, span)[0]


def paragraph_of(session: Session, slug: str, number: int) -> tuple[Text, ParagraphSpan]:
    """The text at ``slug`` and paragraph ``number`` of its current revision (404 for either
    missing)."""
    text = text_for(session, slug)
    span = next((s for s in text.current_revision.spans() if s.paragraph.number == number), None)
    if span is None:
        raise NotFound(f"This text has no paragraph {number}.")
    return text, span


def existing_thread(
    session: Session, text: Text, group_id: int, span: ParagraphSpan
) -> Annotation | None:
    """The group's thread about the paragraph at ``span`` of the text's current revision, if
    someone has started it."""
    return session.scalar(
        select(Annotation).where(
            Annotation.text_id == text.id,
            Annotation.group_id == group_id,
            Annotation.is_discussion.is_(True),
            Annotation.start == span.start,
            Annotation.deleted_at.is_(None),
        )
    )


def paragraph_thread(
    session: Session, viewer: Viewer, text: Text, group_id: int, span: ParagraphSpan
) -> tuple[Annotation, bool]:
    """The group's thread about the paragraph at ``span`` of the text's current revision, and
    whether it was started now (by ``viewer``, unsaved but flushed); the caller holds the write
    lock and has checked that the viewer is a member."""
    thread = existing_thread(session, text, group_id, span)
    if thread is None:
        thread = new_annotation(
            viewer,
            text_id=text.id,
            revision_id=text.current_revision_id,
            motivation=Motivation.COMMENTING,
            visibility=Visibility.GROUP,
            group_id=group_id,
            is_discussion=True,
            exact=span.paragraph.body,
            start=span.start,
            end=span.end,
        )
        session.add(thread)
        session.flush()
        return thread, True
    return thread, False


def react(
    session: Session, viewer: Viewer, annotation_id: int, kind: ReactionKind, on: bool
) -> Annotation:
    """Add or take back one *agree* or *question*; a second identical one changes nothing."""
    annotation = get_for(session, viewer, annotation_id, Action.REACT)
    mine = select(Reaction.id).where(
        Reaction.annotation_id == annotation.id,
        Reaction.user_id == viewer.id,
        Reaction.kind == kind,
    )
    exists = session.scalar(mine) is not None
    if on and not exists:
        session.add(Reaction(annotation_id=annotation.id, user_id=viewer.id, kind=kind))
    elif not on and exists:
        session.execute(delete(Reaction).where(Reaction.id.in_(mine)))
    else:
        return annotation
    session.flush()
    live.record(session, annotation, EventKind.REACTED, viewer.id)
    return annotation


# ---- reading threads -------------------------------------------------------------------------


@dataclass
class ThreadNode:
    annotation: Annotation
    depth: int
    in_reply_to: str | None = None  # the parent's author, for replies shown flat
    children: list[ThreadNode] = field(default_factory=list)

    @property
    def is_placeholder(self) -> bool:
        return self.annotation.deleted_at is not None


@dataclass
class Conversation:
    """Replies, reaction counts and the viewer's own reactions for a page of annotations."""

    threads: dict[int, list[ThreadNode]] = field(default_factory=dict)
    reply_counts: dict[int, int] = field(default_factory=dict)
    reactions: dict[int, dict[str, int]] = field(default_factory=dict)
    mine: set[tuple[int, str]] = field(default_factory=set)

    def count(self, annotation_id: int, kind: str) -> int:
        return self.reactions.get(annotation_id, {}).get(kind, 0)


def conversation(
    session: Session,
    viewer: Viewer,
    roots: list[Annotation],
    threads_for: Collection[int] | None = None,
) -> Conversation:
    """Everything said around ``roots`` (already filtered by the policy) in a fixed number of
    queries: reply and reaction counts for every root, whole threads for those in
    ``threads_for`` (all by default). A reading page counts replies on thousands of notes but
    shows the threads of the few in its margins."""
    result = Conversation()
    if not roots:
        return result
    root_ids = [r.id for r in roots]
    # Replies pass the policy one by one, as the API does: a thread made private keeps others'
    # replies from its author. visible_to is the same rule in SQL, and leaves deleted ones out.
    result.reply_counts = dict.fromkeys(root_ids, 0)
    result.reply_counts.update(
        session.execute(
            select(Annotation.root_id, func.count())
            .where(Annotation.root_id.in_(root_ids), visible_to(viewer))
            .group_by(Annotation.root_id)
        ).all()
    )
    _add_reactions(session, viewer, result, root_ids)
    shown = roots if threads_for is None else [r for r in roots if r.id in threads_for]
    add_threads(session, viewer, result, shown)
    return result


def my_reactions(session: Session, viewer: Viewer, text_id: int) -> list[tuple[int, str]]:
    """(annotation id, kind) of the viewer's reactions on a text's notes they may see: what the
    reading page marks as theirs in parts shared with others (rendered for nobody's reactions)."""
    if viewer.user is None:
        return []
    rows = session.execute(
        select(Reaction.annotation_id, Reaction.kind)
        .join(Annotation, Annotation.id == Reaction.annotation_id)
        .where(Reaction.user_id == viewer.id, Annotation.text_id == text_id, visible_to(viewer))
        .order_by(Reaction.annotation_id, Reaction.kind)
    )
    return [(annotation_id, kind.value) for annotation_id, kind in rows]


def _add_reactions(session: Session, viewer: Viewer, result: Conversation, ids: list[int]) -> None:
    for annotation_id, kind, n in session.execute(
        select(Reaction.annotation_id, Reaction.kind, func.count())
        .where(Reaction.annotation_id.in_(ids))
        .group_by(Reaction.annotation_id, Reaction.kind)
    ):
        result.reactions.setdefault(annotation_id, {})[kind.value] = n
    if viewer.user is not None:
        result.mine.update(
            (a, k.value)
            for a, k in session.execute(
                select(Reaction.annotation_id, Reaction.kind).where(
                    Reaction.annotation_id.in_(ids), Reaction.user_id == viewer.id
                )
            )
        )


def add_threads(
    session: Session, viewer: Viewer, result: Conversation, roots: list[Annotation]
) -> None:
    """The replies to ``roots`` as threads, with their reactions, into ``result``."""
    if not roots:
        return
    replies = session.scalars(
        select(Annotation)
        .where(Annotation.root_id.in_([r.id for r in roots]))
        .options(joinedload(Annotation.user))
        .order_by(Annotation.created_at, Annotation.id)
    ).all()
    # Deleted replies stay as candidates for "deleted" placeholders.
    replies = [r for r in replies if r.deleted_at is not None or can(viewer, Action.VIEW, r)]
    if replies:
        _add_reactions(session, viewer, result, [r.id for r in replies])
    by_parent: dict[int, list[Annotation]] = {}
    for r in replies:
        by_parent.setdefault(r.parent_id, []).append(r)
    authors = {r.id: r.user.display_name for r in [*roots, *replies]}
    for root in roots:
        result.threads[root.id] = _build(root.id, by_parent, authors)


def _build(
    root_id: int, by_parent: dict[int, list[Annotation]], authors: dict[int, str]
) -> list[ThreadNode]:
    """The thread under ``root_id`` as nodes, walked with a stack rather than recursion: a
    chain of replies each answering the last may be thousands deep."""
    top: list[ThreadNode] = []
    order: list[ThreadNode] = []  # depth-first: every node after its parent
    stack = [(r, 1, top) for r in reversed(by_parent.get(root_id, []))]
    while stack:
        reply, depth, siblings = stack.pop()
        node = ThreadNode(reply, min(depth, MAX_DEPTH))
        if depth > MAX_DEPTH:
            node.in_reply_to = authors.get(reply.parent_id)
        siblings.append(node)
        order.append(node)
        stack.extend((r, depth + 1, node.children) for r in reversed(by_parent.get(reply.id, [])))
    # Children before parents: a deleted reply stays as a placeholder only while something
    # still shown answers it.
    for node in reversed(order):
        node.children = [c for c in node.children if not _gone(c)]
    return [n for n in top if not _gone(n)]


def _gone(node: ThreadNode) -> bool:
    return node.annotation.deleted_at is not None and not node.children


def thread_of(
    session: Session, viewer: Viewer, annotation_id: int
) -> tuple[Annotation, Conversation]:
    """The whole thread an annotation belongs to (it may be a reply), for the note's own page.
    A read: it never waits for the write lock. A first note its author deleted after others
    answered it is kept as a placeholder for whoever may see one of the answers."""
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        raise NotFound()
    root = annotation
    if annotation.root_id is not None:
        if not can(viewer, Action.VIEW, annotation):
            raise NotFound()
        root = session.get(Annotation, annotation.root_id)
    result = conversation(session, viewer, [root])
    if can(viewer, Action.VIEW, root):
        return root, result
    # A thread keeps a deleted reply only above an answer that is still there.
    if root.deleted_at is not None and result.threads.get(root.id):
        return root, result
    raise NotFound()


def flatten(nodes: list[ThreadNode]) -> list[ThreadNode]:
    """Depth-first order, for templates that indent by ``depth`` (no recursion, however deep)."""
    out: list[ThreadNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out
