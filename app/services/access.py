"""The one access policy: who may do what with an annotation.

``can`` answers for one annotation; ``visible_to`` narrows any annotation query the same way.
Every read path (pages, API, notebook, exports, live feed, search) goes through them, so a rule
changes here or nowhere. Until sharing arrives, every annotation is private to its author:
nobody else, site administrators included, may learn that it exists.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, false

from app.models import Annotation, User


class Action(enum.StrEnum):
    VIEW = "view"
    EDIT = "edit"
    DELETE = "delete"
    RESTORE = "restore"


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can(user: User | None, action: Action, annotation: Annotation) -> bool:
    if not _signed_in(user):
        return False
    is_author = annotation.user_id == user.id
    if action is Action.RESTORE:
        return is_author and annotation.deleted_at is not None
    if annotation.deleted_at is not None:
        return False
    return is_author


def visible_to(user: User | None) -> ColumnElement[bool]:
    """The WHERE clause of every listing: what ``can(user, VIEW, ·)`` allows, as SQL."""
    if not _signed_in(user):
        return false()
    return (Annotation.user_id == user.id) & Annotation.deleted_at.is_(None)
