"""Seminar groups: membership by invite link, roles, and the reading list."""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from app.database import begin_write
from app.models import Group, Membership, ReadingAssignment, Removal, Role, Text, User
from app.services.access import Viewer
from app.services.errors import Forbidden, Invalid, Malformed, NotFound, SignInNeeded

MAX_NAME = 120
MAX_DESCRIPTION = 2_000
MAX_PROMPT = 4_000


def _no_such_group() -> NotFound:
    # A group you do not belong to answers like a missing one: its existence is its members'.
    return NotFound("No such group.")


def new_invite_code() -> str:
    return secrets.token_urlsafe(18)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Invalid("Give the group a name.")
    if len(name) > MAX_NAME:
        raise Invalid(f"A group name may have at most {MAX_NAME} characters.")
    return name


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"A description may have at most {MAX_DESCRIPTION:,} characters.")
    return description


def create(session: Session, viewer: Viewer, name: str, description: str = "") -> Group:
    """A new group, its creator the owner, its invite link on."""
    if viewer.user is None:
        raise SignInNeeded("Sign in to create a group.")
    group = Group(
        name=_clean_name(name),
        description=_clean_description(description),
        invite_code=new_invite_code(),
    )
    begin_write(session)
    group.memberships.append(Membership(user_id=viewer.id, role=Role.OWNER))
    session.add(group)
    session.flush()
    return group


def get(session: Session, viewer: Viewer, group_id: int, *, teaching: bool = False) -> Group:
    """A group the viewer belongs to (with ``teaching``, one they run)."""
    group = session.get(Group, group_id)
    if group is None or not (viewer.is_member(group_id) or viewer.is_admin):
        raise _no_such_group()
    if teaching and not (viewer.teaches(group_id) or viewer.is_admin):
        raise Forbidden("Only the group's owner and instructors can do that.")
    return group


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    role: Role | None
    member_count: int


def mine(session: Session, viewer: Viewer) -> list[GroupSummary]:
    if viewer.user is None:
        return []
    counts = (
        select(Membership.group_id, func.count().label("n"))
        .group_by(Membership.group_id)
        .subquery()
    )
    rows = session.execute(
        select(Group, counts.c.n)
        .join(counts, counts.c.group_id == Group.id)
        .where(Group.id.in_(viewer.roles.keys()))
        .order_by(func.lower(Group.name))
    )
    return [GroupSummary(g, viewer.roles.get(g.id), n) for g, n in rows]


def members(session: Session, group: Group) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .where(Membership.group_id == group.id)
            .options(joinedload(Membership.user))
            .join(User, User.id == Membership.user_id)
            .order_by(Membership.role, func.lower(User.display_name))
        )
    )


def update(session: Session, viewer: Viewer, group_id: int, name: str, description: str) -> Group:
    group = get(session, viewer, group_id, teaching=True)
    begin_write(session)
    group.name, group.description = _clean_name(name), _clean_description(description)
    return group


def set_invite(session: Session, viewer: Viewer, group_id: int, on: bool) -> Group:
    """Switch the invite link on with a fresh secret (the old link stops working) or off."""
    group = get(session, viewer, group_id, teaching=True)
    begin_write(session)
    group.invite_code = new_invite_code() if on else None
    return group


def by_invite(session: Session, code: str) -> Group:
    group = session.scalar(select(Group).where(Group.invite_code == code)) if code else None
    if group is None:
        raise NotFound("This invite link is not valid: it was switched off or replaced.")
    return group


def join(session: Session, viewer: Viewer, code: str) -> Group:
    """Join by the invite link, unless the group's instructors removed the viewer."""
    if viewer.user is None:
        raise SignInNeeded("Sign in to join a group.")
    begin_write(session)
    group = by_invite(session, code)
    removed = select(Removal.id).where(Removal.group_id == group.id, Removal.user_id == viewer.id)
    if session.scalar(removed) is not None:
        raise Forbidden(
            "The group's instructors removed you from this group: only they can let you back in."
        )
    if not viewer.is_member(group.id):
        session.add(Membership(group_id=group.id, user_id=viewer.id, role=Role.MEMBER))
        session.flush()
    return group


def _membership(session: Session, group_id: int, user_id: int) -> Membership:
    membership = session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound("That person is not a member of this group.")
    return membership


def leave(session: Session, viewer: Viewer, group_id: int) -> None:
    get(session, viewer, group_id)
    begin_write(session)
    membership = _membership(session, group_id, viewer.id)
    if membership.role is Role.OWNER:
        raise Invalid("The owner cannot leave the group; make someone else owner first.")
    session.delete(membership)
    session.flush()


def _check_owner(viewer: Viewer, group_id: int) -> None:
    """Roles are the owner's (or a site administrator's) to give and take: an instructor who
    could make instructors could make one of a second account of their own, and moderate
    their own notes through it."""
    if not (viewer.roles.get(group_id) is Role.OWNER or viewer.is_admin):
        raise Forbidden("Only the group's owner gives and takes the instructor's role.")


def remove_member(session: Session, viewer: Viewer, group_id: int, user_id: int) -> None:
    """Remove someone (instructors remove members; only the owner an instructor): they leave
    the group, and its invite link no longer lets them back in (``readmit`` does)."""
    get(session, viewer, group_id, teaching=True)
    begin_write(session)
    membership = _membership(session, group_id, user_id)
    if membership.role is Role.OWNER:
        raise Invalid("The owner cannot be removed.")
    if membership.role is Role.INSTRUCTOR:
        _check_owner(viewer, group_id)
    session.delete(membership)
    session.add(Removal(group_id=group_id, user_id=user_id, removed_by_id=viewer.id))
    session.flush()


def removed(session: Session, group: Group) -> list[Removal]:
    """Those removed from the group, most recent first, for its instructors."""
    return list(
        session.scalars(
            select(Removal)
            .where(Removal.group_id == group.id)
            .options(joinedload(Removal.user))
            .order_by(Removal.created_at.desc())
        )
    )


def readmit(session: Session, viewer: Viewer, group_id: int, user_id: int) -> None:
    """Let someone removed join by the invite link again (they are not made a member)."""
    get(session, viewer, group_id, teaching=True)
    begin_write(session)
    removal = session.scalar(
        select(Removal).where(Removal.group_id == group_id, Removal.user_id == user_id)
    )
    if removal is None:
        raise NotFound("That person was not removed from this group.")
    session.delete(removal)
    session.flush()


def set_role(session: Session, viewer: Viewer, group_id: int, user_id: int, role: Role) -> None:
    """Promote to instructor or return to member; ownership is not handed out here."""
    get(session, viewer, group_id, teaching=True)
    _check_owner(viewer, group_id)
    if role is Role.OWNER:
        raise Invalid("Ownership cannot be given this way.")
    begin_write(session)
    membership = _membership(session, group_id, user_id)
    if membership.role is Role.OWNER:
        raise Invalid("The owner's role cannot be changed.")
    membership.role = role
    session.flush()


class BadDueDate(Malformed):
    """A due date that is not one; ``field`` names the form field it belongs beside."""

    field = "due_on"


class PromptTooLong(Invalid):
    field = "prompt"


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _due_date(due_on: date | str | None) -> date | None:
    """A due date, or one as a form sends it (``<input type=date>``: YYYY-MM-DD; empty: none)."""
    if not isinstance(due_on, str):
        return due_on
    raw = due_on.strip()
    if not raw:
        return None
    if _ISO_DATE.fullmatch(raw):
        with contextlib.suppress(ValueError):  # 2030-02-30: the shape of a date, but none
            return date.fromisoformat(raw)
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    raise BadDueDate(f"“{shown}” is not a date: give the due date as YYYY-MM-DD, or none.")


def _clean_prompt(prompt: str) -> str:
    prompt = prompt.replace("\r\n", "\n")  # a form's line break is one character, as in notes
    if len(prompt) > MAX_PROMPT:
        raise PromptTooLong(f"A prompt may have at most {MAX_PROMPT:,} characters.")
    return prompt.strip()


def _assignment(session: Session, group_id: int, assignment_id: int) -> ReadingAssignment:
    assignment = session.get(ReadingAssignment, assignment_id)
    if assignment is None or assignment.group_id != group_id:
        raise NotFound("That text is not on this group's reading list.")
    return assignment


def add_reading(
    session: Session,
    viewer: Viewer,
    group_id: int,
    slug: str,
    due_on: date | str | None = None,
    prompt: str = "",
) -> ReadingAssignment:
    """Put a text on the reading list, or change its due date and prompt."""
    group = get(session, viewer, group_id, teaching=True)
    due_on, prompt = _due_date(due_on), _clean_prompt(prompt)
    begin_write(session)
    text = session.scalar(select(Text).where(Text.slug == slug))
    if text is None:
        raise NotFound(f"There is no text '{slug}'.")
    assignment = session.scalar(
        select(ReadingAssignment).where(
            ReadingAssignment.group_id == group.id, ReadingAssignment.text_id == text.id
        )
    )
    if assignment is None:
        assignment = ReadingAssignment(
            group_id=group.id, text_id=text.id, position=len(group.assignments)
        )
        session.add(assignment)
    assignment.due_on, assignment.prompt = due_on, prompt
    session.flush()
    return assignment


def edit_reading(
    session: Session,
    viewer: Viewer,
    group_id: int,
    assignment_id: int,
    due_on: date | str | None,
    prompt: str,
) -> ReadingAssignment:
    """Change the due date and prompt of a text already on the reading list."""
    get(session, viewer, group_id, teaching=True)
    begin_write(session)
    assignment = _assignment(session, group_id, assignment_id)
    assignment.due_on, assignment.prompt = _due_date(due_on), _clean_prompt(prompt)
    session.flush()
    return assignment


def remove_reading(session: Session, viewer: Viewer, group_id: int, assignment_id: int) -> None:
    """Take a text off the reading list, its due date and prompt with it (not the notes on it)."""
    get(session, viewer, group_id, teaching=True)
    begin_write(session)
    session.delete(_assignment(session, group_id, assignment_id))
    session.flush()


# Built once: asked on signed-in pages, where building it costs as much as running it.
_NAMES = select(Group.id, Group.name).where(Group.id.in_(bindparam("group_ids", expanding=True)))


def names(session: Session, viewer: Viewer) -> dict[int, str]:
    """The viewer's groups by id, for lens menus and visibility choices."""
    if viewer.group_names is not None:
        return viewer.group_names
    if not viewer.roles:
        return {}
    return dict(session.execute(_NAMES, {"group_ids": list(viewer.roles)}).all())
