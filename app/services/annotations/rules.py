"""What an annotation may hold and who may write where: limits, tags, audiences, refusals."""

from __future__ import annotations

import re

from app.models import (
    Annotation,
    Motivation,
    Visibility,
)
from app.models.annotation import group_in_key, group_key
from app.services.access import Action, Viewer
from app.services.errors import Forbidden, Invalid, Malformed, TooLarge

MAX_BODY_CHARS = 20_000


MAX_QUOTE_CHARS = 20_000


MAX_TAGS = 20


# A file of annotations to import (services/annotation_import.py): bodies up to this are read.
MAX_IMPORT_BYTES = 5 * 1024 * 1024


MAX_TAG_CHARS = 64


CONTEXT_CHARS = 32


# A suggested correction (motivation EDITING) is never Only me: nobody who decides could read it.
SUGGESTION_SHARED = (
    "A suggestion is for others to discuss and an instructor to decide on: share it with a group "
    "or make it public."
)


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
    Action.PIN: "Only the group's instructors and site administrators pin questions to its "
    "discussions.",
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
    if action is Action.HIDE and annotation.is_discussion:
        return Forbidden(
            "A paragraph's discussion is the group's: hide its replies one by one, not the whole."
        )
    if action is Action.REACT and is_author:
        return Forbidden("Reactions are for other readers' notes, not your own.")
    if action in (Action.REPLY, Action.REACT, Action.FLAG) and annotation.is_hidden:
        return Forbidden("An instructor has hidden this annotation.")
    return Forbidden(FORBIDDEN_MESSAGES.get(action, "You may not do that."))


def normalise_tag(raw: str) -> str:
    """Lower case, no leading '#', inner whitespace as '-': "NEP ", "#nep" and "nep" are one tag."""
    tag = re.sub(r"\s+", "-", raw.strip().lstrip("#").strip()).lower()
    return tag


def normalise_tags(raw_tags: list[str]) -> list[str]:
    tags: list[str] = []
    for raw in raw_tags:
        if not isinstance(raw, str):
            raise Malformed("Each tag must be a string.")
        tag = normalise_tag(raw)
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise Invalid(f"Tags may have at most {MAX_TAG_CHARS} characters.")
        if tag not in tags:
            tags.append(tag)
            if len(tags) > MAX_TAGS:  # at once: a client's list of a million tags stops here
                raise Invalid(f"An annotation may have at most {MAX_TAGS} tags.")
    return tags


def check_body(body: str) -> str:
    """The body with its line breaks as one character each (a browser's form sends CRLF, its
    script LF: the limit the editor counts against is the same either way), if within it."""
    body = body.replace("\r\n", "\n")
    if len(body) > MAX_BODY_CHARS:
        raise TooLarge(
            f"The note is {len(body):,} characters long; the limit is {MAX_BODY_CHARS:,}."
        )
    return body


def parse_audience(raw: str | None) -> tuple[Visibility, int | None]:
    """ "private", "public" or "group-<id>", as forms and the editor send it."""
    if raw in (None, "", "private"):
        return Visibility.PRIVATE, None
    if raw == "public":
        return Visibility.PUBLIC, None
    group_id = group_in_key(raw)
    if group_id is None:
        raise Malformed(f"Unknown audience {raw!r}: use private, public or group-<id>.")
    return Visibility.GROUP, group_id


def audience_key(visibility: Visibility, group_id: int | None) -> str:
    return group_key(group_id) if visibility is Visibility.GROUP else visibility.value


def check_audience(viewer: Viewer, visibility: Visibility, group_id: int | None) -> None:
    """Group notes go to a group the author belongs to; other notes name no group."""
    if visibility is Visibility.GROUP:
        if group_id is None:
            raise Invalid("Say which group may see this annotation.")
        if not viewer.is_member(group_id):
            raise Forbidden("You are not a member of that group.")
    elif group_id is not None:
        raise Invalid("Only group annotations name a group.")


def check_words(annotation: Annotation, body: str) -> None:
    """What needs words keeps them: a reply, and a note on the whole text (words are all it
    is). Checked on every write, so an edit cannot empty what a create refused."""
    if body.strip():
        return
    if annotation.is_reply:
        raise Invalid("A reply needs some words.")
    if annotation.exact is None and not annotation.is_discussion:
        raise Invalid("A note on the whole text needs some words.")


def check_motivation(motivation: Motivation, *, is_reply: bool) -> None:
    """Replies reply; notes and highlights do anything else (W3C's motivations)."""
    if is_reply and motivation is not Motivation.REPLYING:
        raise Invalid("A reply's motivation is 'replying'.")
    if not is_reply and motivation is Motivation.REPLYING:
        raise Invalid(
            "Only a reply has the motivation 'replying': its target is the annotation it answers."
        )
