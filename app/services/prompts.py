"""Pinned prompts: a question an instructor pins to a group's discussion of one paragraph.

A prompt heads the group's thread about the paragraph ("Discuss ¶4"), for every member, in the
group's lens; members answer by replying in that thread. It is kept beside the thread
(``ParagraphPrompt``), not as the thread's words: the thread is the group's, started by whoever
posted first, and words of its own would be that member's in every export and search.

Access is the policy's (``Action.PIN`` on the thread): whoever sees the thread reads the prompt;
those who moderate the group (its owner and instructors, and site administrators) pin, edit and
unpin it, an instructor only while they teach the group.
Every change records an event on the thread, so the group's cached parts of that paragraph and
every open page in the group's lens are brought up to date (live.py).

Over time: a prompt follows its thread, which a revision of the text re-anchors with the
paragraph's words (to another number if paragraphs were inserted before it, among the notes
whose words are gone if the paragraph went). Unpinned, the prompt goes and the thread and every
answer stay. A removed member's answers stay in the thread, as everything they wrote in the
group does; the dashboard lists the group's members of today only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.database import begin_write
from app.models import (
    Annotation,
    EventKind,
    Group,
    Membership,
    ParagraphPrompt,
    ReadingAssignment,
    Role,
    Text,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.models.text import ParagraphSpan, paragraph_index
from app.services import discussion, live, markdown, revision_cache
from app.services.access import Action, Viewer, can
from app.services.annotations import check_body, get_for
from app.services.annotations.rules import refusal
from app.services.errors import Conflict, Invalid, NotFound


def _any_thread(group_id: int) -> Annotation:
    """A stand-in for the group's discussion threads, for the policy to judge before a thread
    is started (unsaved)."""
    return Annotation(visibility=Visibility.GROUP, group_id=group_id, is_discussion=True)


def may_pin(viewer: Viewer, group_id: int) -> bool:
    """May the viewer pin questions to the group's discussions (the reading page's controls)."""
    return can(viewer, Action.PIN, _any_thread(group_id))


def _check_may_pin(viewer: Viewer, group_id: int) -> None:
    """Before anything is read: the policy's answer for the group's discussion threads. An
    outsider learns nothing (404)."""
    thread = _any_thread(group_id)
    if not can(viewer, Action.VIEW, thread):
        raise NotFound("No such group.")
    if not can(viewer, Action.PIN, thread):
        raise refusal(viewer, Action.PIN, thread)


def pin(
    session: Session, viewer: Viewer, slug: str, group_id: int, number: int, question: str
) -> ParagraphPrompt:
    """Pin ``question`` (Markdown) to the group's discussion of paragraph ``number``, starting
    the thread if nobody has; pinned already, its words are replaced."""
    _check_may_pin(viewer, group_id)
    question = check_body(question)
    if not question.strip():
        raise Invalid("A prompt needs a question.")
    text, span = _paragraph(session, group_id, slug, number)
    on_list = session.scalar(
        select(ReadingAssignment.id).where(
            ReadingAssignment.group_id == group_id, ReadingAssignment.text_id == text.id
        )
    )
    if on_list is None:
        raise Conflict(
            "Questions are pinned to the texts on the group's reading list: add this text to it "
            "first."
        )
    thread, _ = discussion.paragraph_thread(session, viewer, text, group_id, span)
    thread = get_for(session, viewer, thread.id, Action.PIN)  # its writes take turns
    prompt = session.scalar(select(ParagraphPrompt).where(ParagraphPrompt.thread_id == thread.id))
    now = utcnow()
    if prompt is None:
        prompt = ParagraphPrompt(thread_id=thread.id, pinned_at=now)
        session.add(prompt)
    prompt.body_source = question
    prompt.body_html = markdown.render(question)
    prompt.pinned_by_id = viewer.id
    prompt.updated_at = now
    session.flush()
    live.record(session, thread, EventKind.PROMPT, viewer.id)
    return prompt


def unpin(session: Session, viewer: Viewer, slug: str, group_id: int, number: int) -> Annotation:
    """Take the prompt off the group's discussion of paragraph ``number``; the thread and its
    answers stay. Returns the thread."""
    _check_may_pin(viewer, group_id)
    text, span = _paragraph(session, group_id, slug, number)
    thread = discussion.existing_thread(session, text, group_id, span)
    if thread is None:
        raise NotFound(f"No question is pinned to ¶{number}.")
    return _unpin(session, viewer, thread.id, f"¶{number}")


def unpin_thread(session: Session, viewer: Viewer, thread_id: int) -> Annotation:
    """Take the prompt off the thread ``thread_id``: for one whose paragraph a revision took
    away, which no paragraph number names any more (the dashboard's list offers it)."""
    return _unpin(session, viewer, thread_id, "this discussion")


def _unpin(session: Session, viewer: Viewer, thread_id: int, where: str) -> Annotation:
    thread = get_for(session, viewer, thread_id, Action.PIN)  # 404 unseen, 403 not teaching
    prompt = session.scalar(select(ParagraphPrompt).where(ParagraphPrompt.thread_id == thread.id))
    if prompt is None:
        raise NotFound(f"No question is pinned to {where}.")
    session.delete(prompt)
    session.flush()
    live.record(session, thread, EventKind.PROMPT, viewer.id)
    return thread


def _paragraph(
    session: Session, group_id: int, slug: str, number: int
) -> tuple[Text, ParagraphSpan]:
    """The text and its paragraph, in the write's transaction; 404 for a group that is no more
    (a site administrator may name any)."""
    begin_write(session)
    if session.get(Group, group_id) is None:
        raise NotFound("No such group.")
    return discussion.paragraph_of(session, slug, number)


def for_threads(session: Session, thread_ids: list[int]) -> dict[int, ParagraphPrompt]:
    """The prompts heading these threads (already filtered by the policy), by thread, with who
    pinned them: one query, none when there is no thread."""
    if not thread_ids:
        return {}
    rows = session.scalars(
        select(ParagraphPrompt)
        .where(ParagraphPrompt.thread_id.in_(thread_ids))
        .options(joinedload(ParagraphPrompt.pinned_by))
    )
    return {p.thread_id: p for p in rows}


# ---- for the group's dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    id: int
    name: str


@dataclass
class PromptAnswers:
    """One pinned prompt of a text, and which of the group's members have answered it."""

    thread_id: int
    slug: str
    group_id: int
    paragraph: int | None  # None: the paragraph's words are gone from the text (revised)
    question: str  # as the instructor wrote it (Markdown)
    question_html: str  # rendered safely
    pinned_by: str | None  # who wrote it as it reads now; None for an account since deleted
    answered: list[Member] = field(default_factory=list)
    not_answered: list[Member] = field(default_factory=list)


def prompt_answers(session: Session, group_id: int, text_id: int) -> list[PromptAnswers]:
    """Each prompt pinned in the group's discussions of the text, in text order, with the
    group's members (not its owner and instructors, who ask) split into those who answered (a
    reply in its thread since it was pinned, neither deleted nor hidden) and those who have not.

    For a caller that has checked that the viewer teaches the group (the dashboard's service):
    it reads the group's threads whoever asks. A fixed number of queries, however many prompts.
    """
    text = session.get(Text, text_id)
    if text is None or text.current_revision is None:
        return []
    rows = session.execute(
        select(ParagraphPrompt, Annotation.start, Annotation.revision_id)
        .join(Annotation, Annotation.id == ParagraphPrompt.thread_id)
        .where(
            Annotation.text_id == text_id,
            Annotation.group_id == group_id,
            Annotation.visibility == Visibility.GROUP,
            Annotation.deleted_at.is_(None),
        )
        .options(joinedload(ParagraphPrompt.pinned_by))
    ).all()
    if not rows:
        return []
    members = [
        Member(user_id, name)
        for user_id, name in session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id, Membership.role == Role.MEMBER)
            .order_by(User.display_name, User.id)
        )
    ]
    answers: set[tuple[int, int]] = set(
        session.execute(
            select(Annotation.root_id, Annotation.user_id)
            .join(ParagraphPrompt, ParagraphPrompt.thread_id == Annotation.root_id)
            .where(
                Annotation.root_id.in_([prompt.thread_id for prompt, *_ in rows]),
                Annotation.deleted_at.is_(None),
                Annotation.hidden_at.is_(None),
                Annotation.created_at >= ParagraphPrompt.pinned_at,
            )
            .distinct()
        ).tuples()
    )
    revision = text.current_revision
    spans = revision_cache.layout_of(session, revision.id, revision.content_hash).spans
    result = []
    for prompt, start, revision_id in rows:
        number = None
        if start is not None and revision_id == revision.id:
            number = spans[paragraph_index(spans, start)].paragraph.number
        result.append(
            PromptAnswers(
                prompt.thread_id,
                text.slug,
                group_id,
                number,
                prompt.body_source,
                prompt.body_html,
                prompt.pinned_by.display_name if prompt.pinned_by else None,
                [m for m in members if (prompt.thread_id, m.id) in answers],
                [m for m in members if (prompt.thread_id, m.id) not in answers],
            )
        )
    result.sort(key=lambda p: (p.paragraph is None, p.paragraph or 0, p.thread_id))
    return result
