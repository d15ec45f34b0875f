"""The one access policy: who may do what with an annotation.

``can`` answers for one annotation; ``visible_to`` narrows any annotation query the same way.
Every read path (reading page, paragraph fragments, notebook, API, live feed, inbox, exports,
search) goes through them, so a rule changes here or nowhere.

The rules:
- a private annotation exists only for its author (site administrators included, nobody else
  may learn that it exists);
- a group annotation is for the group's members; a public one for everyone, signed in or not;
- a reply has its thread's visibility, so these rules cover whole threads;
- a disabled account is treated as nobody at all;
- instructors (and the group's owner) moderate their group's annotations, site administrators
  moderate every shared annotation; hidden annotations show their words only to the author and
  the moderators, and only a moderator of the audience they are in shows them again;
- writing to a group's annotation (edit, delete, restore, move, reply, react) needs current
  membership of that group, or moderating it: a removed member's words stay where they were;
- only a thread's author moves it, and not while it is hidden (see annotations.set_visibility
  for what else keeps a thread where it is);
- deleted annotations are gone for everyone; the author restores their own deletion, a
  moderator a thread they removed;
- a question pinned to a group's discussion of a paragraph is pinned, edited and unpinned by
  those who moderate the group (its owner and instructors, site administrators); it is read by
  whoever sees the thread;
- a suggested correction (motivation ``editing``) is accepted or declined by a site
  administrator, or by an instructor of a group that has the text on its reading list today,
  if they may see the suggestion (``reading_groups``: the groups whose list has the text),
  and not while it is hidden.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Engine, bindparam, false, or_, select
from sqlalchemy.orm import Session

from app.database import rows_committed
from app.models import Annotation, Group, Membership, Motivation, Role, User, Visibility
from app.models.user import session_id
from app.services.quotas import WriteLimits


class Action(enum.StrEnum):
    VIEW = "view"
    READ_HIDDEN = "read_hidden"  # the words of a hidden annotation
    REPLY = "reply"
    REACT = "react"
    FLAG = "flag"
    EDIT = "edit"
    DELETE = "delete"  # by the author
    RESTORE = "restore"
    MOVE = "move"  # change a thread's audience
    HIDE = "hide"  # and unhide
    REMOVE = "remove"  # a moderator deletes a thread (or one reply)
    SEE_FLAGS = "see_flags"
    PIN = "pin"  # pin, edit or unpin a question heading a group's paragraph discussion
    # Accept or decline a suggested correction: the text's words change for everyone.
    DECIDE = "decide"


@dataclass(frozen=True, eq=False)
class Account:
    """A signed-in user as a request reads them: a plain row, not the ORM's ``User``.

    Loaded on every signed-in request (it is Flask-Login's ``current_user``), where building the
    ORM entity cost as much as the rest of a cached page. A service that changes the account or
    relates an object to it takes ``User`` from the session instead.
    """

    id: int
    display_name: str
    is_admin: bool
    last_audience: str
    # The session generation (``User.session_generation``): a session begun in another one has
    # ended. Part of the id Flask-Login keeps in the session, as ``User.get_id`` makes it.
    session_generation: int = 0

    # What Flask-Login asks of a signed-in user (its UserMixin's answers, without the web
    # layer in the services).
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return session_id(self.id, self.session_generation)  # read back by auth.load_user


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the user (None when anonymous or disabled) and their group roles."""

    user: Account | User | None = None
    roles: dict[int, Role] = field(default_factory=dict)
    # The groups' names, when loaded with the roles (``load_viewer``); else groups.names asks.
    group_names: dict[int, str] | None = field(default=None, compare=False)
    # How much this viewer may write (app.current sets the site's quotas for requests; a
    # service called directly, as by the importer or a test, writes unlimited).
    limits: WriteLimits | None = field(default=None, compare=False)

    @property
    def id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.is_admin)

    @property
    def cache_key(self) -> tuple:
        """Everything the policy's answers for this viewer depend on: part of a render's key."""
        roles = tuple(sorted((gid, role.value) for gid, role in self.roles.items()))
        return (self.id, self.is_admin, roles)

    def is_member(self, group_id: int | None) -> bool:
        return group_id is not None and group_id in self.roles

    def teaches(self, group_id: int | None) -> bool:
        role = self.roles.get(group_id) if group_id is not None else None
        return role is not None and role.teaches


ANONYMOUS = Viewer()


def viewer_for(session: Session, user) -> Viewer:
    """The viewer for a user object (or none): as ``load_viewer`` reads them by id."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return load_viewer(session, user.id)


# Built once: on every signed-in request, where making it costs as much as running it.
_USER_AND_GROUPS = (
    select(
        User.id,
        User.display_name,
        User.is_admin,
        User.is_disabled,
        User.last_audience,
        User.session_generation,
        Membership.group_id,
        Membership.role,
        Group.name,
    )
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Group, Group.id == Membership.group_id)
    .where(User.id == bindparam("user_id"))
)


def load_viewer(session: Session, user_id: int) -> Viewer:
    """A user with their groups, roles and group names, in one query in the session's
    transaction (so it sees what the session has written)."""
    return _viewer_of(session.connection().execute(_USER_AND_GROUPS, {"user_id": user_id}).all())


def load_signed_in(engine: Engine, user_id: int) -> Viewer:
    """``load_viewer`` for the request's signed-in user, before the request has read or written
    anything: on a connection of its own, without starting a database session, which a
    cached answer then never needs."""
    return _viewer_of(rows_committed(engine, _USER_AND_GROUPS, {"user_id": user_id}))


def _viewer_of(rows: Sequence) -> Viewer:
    if not rows or rows[0].is_disabled:
        return ANONYMOUS
    first = rows[0]
    groups = [row for row in rows if row.group_id is not None]
    return Viewer(
        Account(
            first.id,
            first.display_name,
            first.is_admin,
            first.last_audience,
            first.session_generation,
        ),
        {row.group_id: row.role for row in groups},
        {row.group_id: row.name for row in groups},
    )


def _may_see(viewer: Viewer, annotation: Annotation) -> bool:
    if viewer.user is not None and annotation.user_id == viewer.id:
        return True
    if annotation.visibility is Visibility.PUBLIC:
        return True
    if annotation.visibility is Visibility.GROUP:
        return viewer.is_member(annotation.group_id) or viewer.is_admin
    return False


def _moderates(viewer: Viewer, annotation: Annotation) -> bool:
    if annotation.visibility is Visibility.PRIVATE:
        return False
    if viewer.is_admin:
        return True
    return annotation.visibility is Visibility.GROUP and viewer.teaches(annotation.group_id)


def _writes_in(viewer: Viewer, annotation: Annotation) -> bool:
    """May the viewer write in the annotation's audience now: a group's needs membership today
    (or moderating it), whatever the viewer's membership was when the words were written."""
    if annotation.visibility is not Visibility.GROUP:
        return True
    return viewer.is_member(annotation.group_id) or viewer.is_admin


def _may_restore(viewer: Viewer, annotation: Annotation, is_author: bool) -> bool:
    """The author restores what they deleted; a moderator's removal only a moderator undoes."""
    removed_by_moderator = annotation.deleted_by_id not in (None, annotation.user_id)
    if removed_by_moderator:
        return _moderates(viewer, annotation)
    return is_author and _writes_in(viewer, annotation)


def can(
    viewer: Viewer,
    action: Action,
    annotation: Annotation,
    reading_groups: Collection[int] = (),
) -> bool:
    """``reading_groups``: for DECIDE, the groups with the annotation's text on their reading
    list (without them only a site administrator decides)."""
    is_author = viewer.user is not None and annotation.user_id == viewer.id
    if action is Action.RESTORE:
        return annotation.deleted_at is not None and _may_restore(viewer, annotation, is_author)
    if annotation.deleted_at is not None or not _may_see(viewer, annotation):
        return False
    match action:
        case Action.VIEW:
            return True
        case Action.READ_HIDDEN:
            return not annotation.is_hidden or is_author or _moderates(viewer, annotation)
        case Action.EDIT | Action.DELETE:
            # A paragraph's discussion belongs to the group, not to whoever posted first.
            return is_author and not annotation.is_discussion and _writes_in(viewer, annotation)
        case Action.MOVE:
            # A hidden note stays in the audience whose moderators hid it: moved to a group of
            # the author's own, it could be unhidden there and moved back.
            return (
                is_author
                and not annotation.is_discussion
                and not annotation.is_reply
                and not annotation.is_hidden
                and _writes_in(viewer, annotation)
            )
        case Action.REPLY | Action.REACT:
            if viewer.user is None or annotation.is_hidden:
                return False
            if action is Action.REACT and is_author:
                return False  # a reaction is a reader's answer to someone else's words
            if annotation.visibility is Visibility.GROUP:
                return viewer.is_member(annotation.group_id)
            return annotation.visibility is Visibility.PUBLIC or is_author
        case Action.FLAG:
            return (
                viewer.user is not None
                and not is_author
                and not annotation.is_hidden  # a moderator has already acted
                and annotation.visibility in (Visibility.GROUP, Visibility.PUBLIC)
            )
        case Action.HIDE:
            # An author who moderates the audience does not undo someone else's hide of their
            # own note: only a site administrator or whoever hid it may.
            undoing_anothers_hide = (
                is_author and annotation.is_hidden and annotation.hidden_by_id != viewer.id
            )
            # A paragraph's discussion has no words of its own to hide: hidden, it would stop
            # the group answering there (a pinned question included). Its replies are hidden
            # one by one; one hidden before this rule may be shown again.
            wordless = annotation.is_discussion and not annotation.is_hidden
            return (
                _moderates(viewer, annotation)
                and not wordless
                and (viewer.is_admin or not undoing_anothers_hide)
            )
        case Action.REMOVE | Action.SEE_FLAGS:
            return _moderates(viewer, annotation)
        case Action.PIN:
            # As the group's parts are rendered for those who moderate it alike (parts.Audience).
            return (
                bool(annotation.is_discussion)  # None on an annotation not yet stored
                and annotation.visibility is Visibility.GROUP
                and _moderates(viewer, annotation)
            )
        case Action.DECIDE:
            return (
                annotation.motivation is Motivation.EDITING
                and not annotation.is_reply
                # What moderators took out of sight does not become everyone's text.
                and not annotation.is_hidden
                and (viewer.is_admin or any(viewer.teaches(g) for g in reading_groups))
            )
    return False


# The rule as SQL, in one form per kind of viewer, with the viewer as parameters: statements
# run on every request are built once around these (see ``visibility_rule``).
_ALIVE = Annotation.deleted_at.is_(None)
_PUBLIC = Annotation.visibility == Visibility.PUBLIC
_MINE = Annotation.user_id == bindparam("visible_viewer_id")
_GROUP = Annotation.visibility == Visibility.GROUP
VISIBLE_RULES: dict[str, ColumnElement[bool]] = {
    "anonymous": _ALIVE & _PUBLIC,
    "member": _ALIVE
    & or_(
        _PUBLIC,
        _MINE,
        _GROUP & Annotation.group_id.in_(bindparam("visible_groups", expanding=True)),
    ),
    "admin": _ALIVE & or_(_PUBLIC, _MINE, _GROUP),
}


# What the viewer moderates (``can(viewer, SEE_FLAGS, ·)`` of a visible annotation), in the same
# forms and with the same parameters: for what only moderators read, as a flag's notice.
MODERATED_RULES: dict[str, ColumnElement[bool]] = {
    "anonymous": false(),
    "member": _GROUP & Annotation.group_id.in_(bindparam("moderated_groups", expanding=True)),
    "admin": Annotation.visibility != Visibility.PRIVATE,
}


def visibility_rule(viewer: Viewer) -> tuple[str, dict]:
    """Which of ``VISIBLE_RULES`` (and ``MODERATED_RULES``) is the viewer's, and its parameters."""
    if viewer.user is None:
        return "anonymous", {}
    if viewer.is_admin:
        return "admin", {"visible_viewer_id": viewer.id}
    taught = sorted(gid for gid, role in viewer.roles.items() if role.teaches)
    return "member", {
        "visible_viewer_id": viewer.id,
        "visible_groups": sorted(viewer.roles),
        "moderated_groups": taught,
    }


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The WHERE clause of every listing: exactly what ``can(viewer, VIEW, ·)`` allows, as SQL."""
    kind, params = visibility_rule(viewer)
    return VISIBLE_RULES[kind].params(params)


def moderated_by(viewer: Viewer) -> ColumnElement[bool]:
    """``visible_to`` narrowed to what the viewer moderates: ``can(viewer, SEE_FLAGS, ·)``."""
    kind, params = visibility_rule(viewer)
    return visible_to(viewer) & MODERATED_RULES[kind].params(params)


def readable_by(viewer: Viewer) -> ColumnElement[bool]:
    """``visible_to`` narrowed to what ``can(viewer, READ_HIDDEN, ·)`` allows: for what is
    derived from an annotation's words (its tags, suggestions, filters), which a hidden one
    must not give away to those who see only that it was hidden."""
    shown = Annotation.hidden_at.is_(None)
    if viewer.user is None:
        return visible_to(viewer) & shown
    if viewer.is_admin:  # moderates every shared annotation; the private ones it sees are its own
        return visible_to(viewer)
    return visible_to(viewer) & or_(shown, Annotation.user_id == viewer.id, moderated_by(viewer))
