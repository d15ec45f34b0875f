"""Adding a text on the page, and editing its title, author and citation afterwards.

Who: site administrators and anyone who teaches a group (its owner or an instructor) add texts;
what they add is parsed by the importer (services/importer.py), the same rules and messages as
``flask import-text``, never a second parser. A text is previewed before it is saved; the
preview stores nothing, and saving parses the same bytes again (the form carries them), so what
is stored is exactly what was shown and nothing a client built.

Adding never overwrites or revises: a URL name (slug) in use is refused, whoever's text it is.
Limits: the importer's size (1 MB), ``MAX_PARAGRAPHS``, ``WriteLimits.texts_per_day`` new texts
per account (counted in the database, so every worker agrees) and ``PREVIEWS_PER_MINUTE``
previews and saves (each parses) per account and worker process (parsing a megabyte takes at
most about a tenth of a second, its preview page about as long again).

Editing the title, author and citation is for administrators and the account that added the
text, as long as it may add texts (teaches a group); texts from the command line have nobody, so
only administrators edit those. Instructors of a group reading a text do not: the text is the
library's, read by other groups too. It makes no revision: the paragraphs, and every
annotation's place in them, stay as they are.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import Text
from app.services import groups, importer, previews, quotas
from app.services.access import Viewer
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, SignInNeeded

MAX_BYTES = importer.MAX_FILE_BYTES
# Beyond any text one reads in a seminar (a 1 MB novel has a few thousand); each is a row, a
# line of the search index and a part of the reading page.
MAX_PARAGRAPHS = 10_000
MAX_CITATION = 2_000
PREVIEWS_PER_MINUTE = 10
# A text's details are in the reading page's cache key: each change renders every part again
# for every reader, so one account's script must not change them without a pause.
EDITS_PER_MINUTE = 10
PASTED = "pasted text"


class Format(enum.StrEnum):
    """How pasted text is read: the importer's two formats, by the suffix it reads them from."""

    PLAIN = ".txt"
    MARKDOWN = ".md"


class SourceRefused(Invalid):
    """The file or pasted text cannot become a text (the importer's message, or ours)."""

    field = "source"


class SlugRefused(Invalid):
    field = "slug"


class SlugTaken(Conflict):
    field = "slug"


class GroupRefused(Invalid):
    field = "group"


class DetailRefused(Invalid):
    """A title, author or citation that cannot be saved; ``field`` names which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _file_name(name: str) -> str:
    """The name only: a browser may send a path, a client anything; the stored source name
    holds 255."""
    return Path(name.replace("\\", "/")).name[-255:]


@dataclass(frozen=True)
class Source:
    """What a text is made from: the bytes (an upload's, or pasted text's in UTF-8) and the
    name the importer reads the format from (a file's name, or "pasted text.md")."""

    raw: bytes
    name: str

    @classmethod
    def upload(cls, raw: bytes, filename: str) -> Source:
        return cls(raw, _file_name(filename) or "upload")

    @classmethod
    def pasted(cls, text: str, form: Format) -> Source:
        # A form sends its line breaks as CRLF; counted as one, as in the file it came from.
        text = text.replace("\r\n", "\n")
        return cls(text.encode("utf-8", "surrogatepass"), PASTED + form.value)

    @classmethod
    def carried(cls, encoded: str, name: str) -> Source:
        """The source as the preview's form carries it back (``encoded``: base64)."""
        try:
            raw = base64.b64decode(encoded.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise SourceRefused(
                "The form's copy of the text was damaged on the way: please start again."
            ) from None
        return cls(raw, _file_name(name))

    @property
    def is_pasted(self) -> bool:
        return self.name in {PASTED + f.value for f in Format}

    @property
    def encoded(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")


@dataclass(frozen=True)
class Preview:
    """A source parsed, as it would be stored under ``slug``; ``slug_problem`` says why that
    URL name cannot be used (the preview is shown all the same, to pick another)."""

    parsed: importer.ParsedText
    source: Source
    slug: str
    slug_problem: str | None


def may_add(viewer: Viewer) -> bool:
    return viewer.is_admin or any(role.teaches for role in viewer.roles.values())


def check_may_add(viewer: Viewer) -> None:
    if viewer.user is None:
        raise SignInNeeded("Sign in to add a text.")
    if not may_add(viewer):
        raise Forbidden(
            "Only site administrators and those who teach a group (its owner or an instructor) "
            "add texts to the library. Ask your group's owner to make you an instructor."
        )


def groups_taught(viewer: Viewer) -> list[tuple[int, str]]:
    """The groups whose reading list a new text may go on, by name."""
    names = viewer.group_names or {}
    taught = [(gid, names.get(gid, f"Group {gid}")) for gid in viewer.roles if viewer.teaches(gid)]
    return sorted(taught, key=lambda pair: pair[1].lower())


def _parse(source: Source) -> importer.ParsedText:
    """The importer's parse of ``source``; its messages name the file (or the pasted text)."""
    try:
        parsed = importer.parse_file(source.raw, source.name)
    except importer.TextImportError as error:
        if source.is_pasted:
            problem = error.problem.replace("file", "text")
            raise SourceRefused(f"The pasted text: {problem}.") from None
        raise SourceRefused(f"{error}.") from None
    if len(parsed.paragraphs) > MAX_PARAGRAPHS:
        raise SourceRefused(
            f"{'The pasted text' if source.is_pasted else source.name}: it has "
            f"{len(parsed.paragraphs):,} paragraphs; the limit is {MAX_PARAGRAPHS:,}."
        )
    return parsed


def _slug(parsed: importer.ParsedText, source: Source, wanted: str) -> str:
    """The text's URL name: ``wanted`` if given, else the importer's (a Markdown front matter's,
    or the file's name), or for pasted text without front matter its title's."""
    wanted = wanted.strip()
    if wanted:
        slug = importer.slugify(wanted)
        if not slug:
            raise SlugRefused(
                f"“{wanted[:60]}” has no letters or digits to make a URL name of: use a-z, 0-9 "
                "and hyphens."
            )
        return slug
    if source.is_pasted and parsed.slug == importer.slugify(PASTED):
        slug = importer.slugify(parsed.title)
        if not slug:
            raise SlugRefused("The title has no letters or digits to make a URL name of: give one.")
        return slug
    return parsed.slug


def _slug_problem(session: Session, slug: str) -> str | None:
    if slug in importer.RESERVED_SLUGS:
        return f"“{slug}” is a name the site uses for itself: pick another."
    if session.scalar(select(Text.id).where(Text.slug == slug)) is not None:
        return f"There is already a text at /texts/{slug}: pick another URL name."
    return None


def preview(session: Session, viewer: Viewer, source: Source, slug: str = "") -> Preview:
    """The source parsed as it would be stored: nothing is written."""
    check_may_add(viewer)
    previews.count(viewer.id, "text", PREVIEWS_PER_MINUTE)
    parsed = _parse(source)
    try:
        parsed.slug = _slug(parsed, source, slug)
    except SlugRefused as refusal:
        return Preview(parsed, source, "", str(refusal))
    return Preview(parsed, source, parsed.slug, _slug_problem(session, parsed.slug))


def _check_group(viewer: Viewer, group_id: int | None) -> None:
    if group_id is not None and group_id not in dict(groups_taught(viewer)):
        raise GroupRefused("You can add a text only to the reading list of a group you teach.")


def add(
    session: Session, viewer: Viewer, source: Source, slug: str = "", group_id: int | None = None
) -> Text:
    """Parse the source again and store it as a new text, added by the viewer (and put it on
    the reading list of ``group_id``, a group they teach). Caller commits."""
    check_may_add(viewer)
    _check_group(viewer, group_id)
    # A save parses as a preview does: counted alike, or a script posting saves alone (a
    # megabyte the importer refuses, or past the day's quota) would parse without a limit.
    previews.count(viewer.id, "text", PREVIEWS_PER_MINUTE)
    parsed = _parse(source)
    parsed.slug = _slug(parsed, source, slug)
    begin_write(session)
    if viewer.limits is not None:
        quotas.check_texts(session, viewer.id, viewer.limits)
    if problem := _slug_problem(session, parsed.slug):
        raise SlugTaken(problem)
    taken = SlugTaken(f"There is already a text at /texts/{parsed.slug}: pick another.")
    try:
        # A savepoint: another request storing the same name at the same moment (PostgreSQL)
        # makes this one a refusal, not a broken transaction. One that committed it between the
        # check above and the store (read committed) is found by the store, which would revise
        # that text: refused too, the savepoint undoing the revision.
        with session.begin_nested():
            result = importer.store(session, parsed, source.name)
            if result.status != "created":
                raise taken
            result.text.added_by_id = viewer.id
    except IntegrityError:
        raise taken from None
    if group_id is not None:
        groups.add_reading(session, viewer, group_id, result.text.slug)
    return result.text


def text_by_slug(session: Session, slug: str) -> Text:
    text = session.scalar(select(Text).where(Text.slug == slug))
    if text is None or text.current_revision_id is None:
        raise NotFound("There is no text at this address.")
    return text


def may_edit(viewer: Viewer, text: Text) -> bool:
    """Administrators, and the account that added the text while it may still add texts: one
    no longer teaching (demoted, removed) does not rename a text other groups read."""
    return viewer.is_admin or (
        viewer.user is not None and text.added_by_id == viewer.id and may_add(viewer)
    )


def editable(session: Session, viewer: Viewer, slug: str) -> Text:
    """The text, if the viewer may edit its title, author and citation."""
    if viewer.user is None:
        raise SignInNeeded("Sign in to edit a text.")
    text = text_by_slug(session, slug)
    if not may_edit(viewer, text):
        raise Forbidden(
            "Only the account that added this text, while it teaches a group, and site "
            "administrators edit its title, author and citation."
        )
    return text


def _one_line(field: str, value: str, limit: int, required: bool = False) -> str:
    value = importer.normalise_paragraph(value)
    if required and not value:
        raise DetailRefused(field, f"Give the text a {field}.")
    if len(value) > limit:
        raise DetailRefused(
            field, f"The {field} is {len(value):,} characters; the limit is {limit:,}."
        )
    return value


def edit(
    session: Session, viewer: Viewer, slug: str, title: str, author: str, citation: str
) -> Text:
    """Change the text's title, author and citation (no new revision). Caller commits."""
    text = editable(session, viewer, slug)
    title = _one_line("title", title, importer.MAX_TITLE, required=True)
    author = _one_line("author", author, importer.MAX_AUTHOR)
    citation = _one_line("citation", citation, MAX_CITATION)
    what = "changes to a text's details"
    previews.count(viewer.id, "text details", EDITS_PER_MINUTE, what=what)
    begin_write(session)
    text = text_by_slug(session, slug)
    text.title, text.author, text.citation = title, author, citation
    session.flush()
    return text
