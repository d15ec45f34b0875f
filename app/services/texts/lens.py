"""Whose annotations a reading page shows (the lens), filtered and sorted."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.models import (
    Annotation,
    HighlightColor,
    Kind,
    Visibility,
)
from app.models.annotation import group_in_key, group_key
from app.services import discussion
from app.services.access import (
    Action,
    Viewer,
    can,
)
from app.services.annotations import normalise_tag


class Sort(enum.StrEnum):
    POSITION = "position"
    NEWEST = "newest"
    DISCUSSED = "discussed"
    QUESTIONS = "questions"


@dataclass(frozen=True)
class Lens:
    """Whose annotations the page shows: ``mine``, ``public`` or ``group`` (with its id)."""

    kind: str
    group_id: int | None = None

    @property
    def key(self) -> str:
        return group_key(self.group_id) if self.kind == "group" else self.kind

    @classmethod
    def showing(cls, annotation: Annotation) -> Lens | None:
        """A lens sure to show ``annotation`` to whoever may see it: its group's, or the public
        one; None for a private note, which its author's default lens shows (their own, or a
        group's, which shows their private notes too). A reply has its root's audience."""
        if annotation.visibility is Visibility.GROUP:
            return cls("group", annotation.group_id)
        return cls("public") if annotation.visibility is Visibility.PUBLIC else None

    @classmethod
    def parse(cls, key: str | None) -> Lens | None:
        if key in ("mine", "public"):
            return cls(key)
        group_id = group_in_key(key)
        return cls("group", group_id) if group_id is not None else None

    def where(self, viewer: Viewer, notes=Annotation):
        """The lens as SQL, on ``notes`` (the annotation table, or an alias of it)."""
        if self.kind == "mine":
            return notes.user_id == viewer.id
        if self.kind == "public":
            return notes.visibility == Visibility.PUBLIC
        in_group = (notes.visibility == Visibility.GROUP) & (notes.group_id == self.group_id)
        # My own private notes show in a group's lens too: a highlight made while reading with
        # the seminar must not vanish from under the reader.
        mine = (notes.user_id == viewer.id) & (notes.visibility == Visibility.PRIVATE)
        return in_group | mine


@dataclass(frozen=True)
class Filters:
    member: int | None = None
    tag: str | None = None
    color: HighlightColor | None = None
    kind: Kind | None = None
    sort: Sort = Sort.POSITION

    @property
    def active(self) -> bool:
        return any((self.member, self.tag, self.color, self.kind))


def lens_options(viewer: Viewer, group_names: dict[int, str]) -> list[tuple[str, str]]:
    """(key, label) of every lens the viewer may use, in menu order."""
    options = [("mine", "My notes")] if viewer.user is not None else []
    options += [
        (Lens("group", gid).key, name)
        for gid, name in sorted(group_names.items(), key=lambda g: g[1].lower())
    ]
    options.append(("public", "Public"))
    return options


def passes(annotation: Annotation, filters: Filters, viewer: Viewer) -> bool:
    if filters.member and annotation.user_id != filters.member:
        return False
    if (filters.tag or filters.kind) and not can(viewer, Action.READ_HIDDEN, annotation):
        # A hidden note's tags and words (whether it has any) are not there to filter by: a
        # filter must not confirm what the page itself does not show.
        return False
    if filters.tag and normalise_tag(filters.tag) not in annotation.tag_names:
        return False
    if filters.color and annotation.color != filters.color:
        return False
    return not (filters.kind and annotation.kind != filters.kind)


def sort_key(filters: Filters, conversation: discussion.Conversation, viewer: Viewer):
    if filters.sort is Sort.NEWEST:
        return lambda a: (-a.created_at.timestamp(), -a.id)
    if filters.sort is Sort.DISCUSSED:
        return lambda a: (-conversation.reply_counts.get(a.id, 0), a.start or 0, a.id)
    if filters.sort is Sort.QUESTIONS:
        return lambda a: (
            a.kind is not Kind.QUESTION or not can(viewer, Action.READ_HIDDEN, a),
            -conversation.count(a.id, "question"),
            a.start or 0,
            a.id,
        )
    return lambda a: (a.start if a.start is not None else -1, a.id)


def default_lens(viewer: Viewer, reading_groups: list[int]) -> Lens:
    """A seminar reading this text first, then my own notes, then the public discussion."""
    if reading_groups:
        return Lens("group", reading_groups[0])
    return Lens("mine") if viewer.user is not None else Lens("public")
