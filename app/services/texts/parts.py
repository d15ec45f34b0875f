"""The reading page in parts, each rendered once for everyone who sees it alike.

A part is a paragraph with its highlights and margin, or (0) the notes on the whole text with
those whose words are gone. What a part shows depends on the lens and on what kind of reader
looks (anonymous or signed in, a member of the lens's group or not, a moderator or not): that
is its ``Audience``. It is rendered for a stand-in reader of that audience, who has written
nothing, and the result is shared by every reader of the audience until an event changes the
part there (``live.part_versions``). What is a reader's own is kept out of it: the controls
on their own notes are in every copy and shown by a stylesheet keyed on the reader's id, and
the parts holding their private or hidden notes (or a form they opened without JavaScript) are
rendered for them alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Annotation, Role, User, Visibility
from app.models.annotation import group_key
from app.models.text import ParagraphRole, ParagraphSpan, paragraph_index
from app.services import live
from app.services.access import ANONYMOUS, Account, Action, Viewer, can, visible_to
from app.services.texts.context import PageRequest, ReadingContext
from app.services.texts.lens import Lens

WHOLE_TEXT_PART = live.WHOLE_TEXT_PART
# Up to this many parts, their versions are read one by one through the index, not all at once.
FEW_PARTS = 8


@dataclass(frozen=True)
class Audience:
    """Everyone for whom a lens's parts look the same; ``reader`` is set where they are one
    reader's alone (the "mine" lens)."""

    lens_key: str
    signed_in: bool = False
    member: bool = False
    moderates: bool = False
    reader: int | None = None

    def stand_in(self) -> Viewer:
        """A reader of this audience who has written nothing (id 0 is nobody's)."""
        if not self.signed_in:
            return ANONYMOUS
        group_id = Lens.parse(self.lens_key).group_id
        roles = {}
        if self.member and group_id is not None:
            roles[group_id] = Role.INSTRUCTOR if self.moderates else Role.MEMBER
        admin = self.moderates and not self.member
        return Viewer(Account(0, "", admin, "private"), roles, group_names={})


def audience_for(viewer: Viewer, lens: Lens) -> Audience:
    if viewer.user is None:
        return Audience(lens.key)
    if lens.kind == "mine":
        return Audience(lens.key, True, reader=viewer.id)
    if lens.kind == "public":
        return Audience(lens.key, True, moderates=viewer.is_admin)
    member = viewer.is_member(lens.group_id)
    return Audience(lens.key, True, member, viewer.teaches(lens.group_id) or viewer.is_admin)


@dataclass(frozen=True)
class Part:
    number: int
    key: tuple  # the render cache's key: everything the part's HTML is made from
    personal: bool  # rendered for its reader alone, not for the audience's stand-in
    version: int  # the last change to the part as its reader sees it (an event's id)


def part_numbers(spans: list[ParagraphSpan]) -> list[int]:
    """Every part of a page, in the order the page shows them."""
    return [s.paragraph.number for s in spans] + [WHOLE_TEXT_PART]


class SharedKey(NamedTuple):
    """A part as every reader of an audience sees it."""

    text_id: int
    revision_id: int
    audience: Audience  # names the lens
    lens_group_name: str | None  # the only group such a part can name
    page_request: PageRequest
    version: int
    number: int
    kind: str = "shared part"  # the render cache holds other tuples too: none equals this


class OwnKey(NamedTuple):
    """A part as one reader alone sees it."""

    text_id: int
    revision_id: int
    lens_key: str
    reader: tuple  # Viewer.cache_key: who, and their groups' roles
    group_names: tuple  # their groups, which its forms offer
    default_audience: str
    csrf_secret: str | None  # the forms' tokens are made from it
    page_request: PageRequest
    versions: tuple[int, ...]  # the audience's and the reader's own; the text's in "mine"
    number: int
    kind: str = "own part"


def plan(
    session: Session,
    context: ReadingContext,
    viewer: Viewer,
    page_request: PageRequest,
    numbers: list[int],
    csrf_secret: str | None,
) -> list[Part]:
    """Each requested part with the key its render is kept under, and whose render it is."""
    audience = audience_for(viewer, context.lens)

    def own(number: int, *versions: int) -> Part:
        key = OwnKey(
            context.text_id,
            context.revision_id,
            context.lens.key,
            viewer.cache_key,
            tuple(sorted(context.group_names.items())),
            context.default_audience(viewer),
            csrf_secret,
            page_request,
            versions,
            number,
        )
        return Part(number, key, True, max(versions))

    if audience.reader is not None:  # one reader's lens: changed by whatever they may see
        return [own(n, context.cursor) for n in numbers]
    shared_audience = _change_audience(context.lens)
    audiences = [shared_audience]
    if viewer.user is not None:
        audiences.append(live.user_audience(viewer.id))
    few = numbers if len(numbers) <= FEW_PARTS else None  # a live update's, not a page's
    versions = live.part_versions(session, context.text_id, audiences, few)
    shared = versions[shared_audience]
    mine = versions[audiences[1]] if viewer.user is not None else {}
    personal = _personal_parts(session, context, viewer, page_request, context.spans)
    group_name = shared_context(context).group_names.get(context.lens.group_id)
    parts = []
    for n in numbers:
        if n in personal:
            parts.append(own(n, shared.get(n, 0), mine.get(n, 0)))
        else:
            key = SharedKey(
                context.text_id,
                context.revision_id,
                audience,
                group_name,
                page_request,
                shared.get(n, 0),
                n,
            )
            # The reader's own changes count too: a part that was theirs alone (their private
            # note, since deleted or moved) becomes the shared one, whose version did not move.
            parts.append(Part(n, key, False, max(key.version, mine.get(n, 0))))
    return parts


def shared_context(context: ReadingContext) -> ReadingContext:
    """The context a shared part is rendered from: of the reader's groups, only the lens's
    (the only one such a part shows notes of), so readers in other groups besides share it."""
    names = context.group_names
    group_id = context.lens.group_id
    only = {group_id: names[group_id]} if group_id in names else {}
    return dataclasses.replace(context, group_names=only)


def _change_audience(lens: Lens) -> str:
    return group_key(lens.group_id) if lens.kind == "group" else "public"


def _personal_parts(
    session: Session,
    context: ReadingContext,
    viewer: Viewer,
    page_request: PageRequest,
    spans: list[ParagraphSpan],
) -> set[int]:
    """Where this reader's page differs from their audience's: the parts with their private
    notes or their hidden ones (whose words they still read), and the forms they opened."""
    if viewer.user is None:
        return set()
    numbers = set(page_request.note_forms | page_request.discuss_forms | page_request.prompt_forms)
    rows = session.execute(
        _OWN_DIFFERENT,
        {"text_id": context.text_id, "user_id": viewer.id},
    )
    for own_start, own_end, root_id, root_start, root_end in rows:
        start, end = (own_start, own_end) if root_id is None else (root_start, root_end)
        if start is None or end is None:
            numbers.add(WHOLE_TEXT_PART)
            continue
        first, last = paragraph_index(spans, start), paragraph_index(spans, end - 1)
        numbers.update(spans[i].paragraph.number for i in range(first, last + 1))
    return numbers


_ROOT = aliased(Annotation, name="root")
# A reader's notes that their audience's render shows otherwise (or not at all), with the
# offsets of the thread they are in. Built once: an alias made per call costs a millisecond.
_OWN_DIFFERENT = (
    select(Annotation.start, Annotation.end, Annotation.root_id, _ROOT.start, _ROOT.end)
    .select_from(Annotation)
    .join(_ROOT, _ROOT.id == Annotation.root_id, isouter=True)
    .where(
        Annotation.text_id == bindparam("text_id"),
        Annotation.user_id == bindparam("user_id"),
        Annotation.deleted_at.is_(None),
        or_(Annotation.visibility == Visibility.PRIVATE, Annotation.hidden_at.is_not(None)),
    )
)


def may(reader: Viewer, action: str, annotation: Annotation) -> bool:
    """The templates' ``may``: the access policy's answer for the reader a part is made for."""
    return can(reader, Action(action), annotation)


def may_as_author(stand_in: Viewer, action: str, annotation: Annotation) -> bool:
    """Could the note's author, were they the audience's stand-in, do this: what its own
    controls in a shared part (shown to the author alone by a stylesheet) are rendered on."""
    author = Account(annotation.user_id, "", stand_in.is_admin, "private")
    return can(replace(stand_in, user=author), Action(action), annotation)


# The page's sections, by the roles of the paragraphs in them.
SECTIONS = {
    "front_matter": (ParagraphRole.CAPTION, ParagraphRole.FRONT_MATTER),
    "body": (ParagraphRole.BODY,),
    "citations": (ParagraphRole.CITATION,),
}


def members(session: Session, viewer: Viewer, text_id: int, lens: Lens) -> list[tuple[int, str]]:
    """Who wrote the notes the lens shows the viewer: the "By" filter's choices."""
    rows = session.execute(
        select(User.id, User.display_name)
        .join(Annotation, Annotation.user_id == User.id)
        .where(
            Annotation.text_id == text_id,
            Annotation.root_id.is_(None),
            visible_to(viewer),
            lens.where(viewer),
        )
        .distinct()
    )
    return sorted(((uid, name) for uid, name in rows), key=lambda m: m[1].lower())
