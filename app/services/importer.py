"""Turn a plain-text or Markdown file into a Text with ordered, typed paragraphs.

Plain text (.txt): line 1 is the title, with the author after the last " - "; paragraphs are
separated by blank lines; a run of two or more blank lines ends the front matter (an editor's
caption and introduction) and starts the work itself; a last paragraph beginning "Source;" or
"Source:" is the citation. Without a double blank line every paragraph is the work's own.

Markdown (.md): optional front matter between ``---`` lines (``title``, ``author``, ``citation``,
``slug``), then a ``# Title`` heading; a thematic break (``---``, ``***``, ``___``) plays the part
of the double blank line. Paragraph text is kept as written, Markdown punctuation included.

Inside a paragraph, runs of whitespace (line breaks included) become one space; every other
character is kept as it is. Importing the same file twice changes nothing; a changed file adds a
revision to the existing text.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import Paragraph, ParagraphRole, Text, TextRevision
from app.services import annotations

MAX_FILE_BYTES = 1024 * 1024
MAX_TITLE = 300
MAX_AUTHOR = 200
SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown"}
# Addresses the site uses for itself under /texts/: a text of that name could not be read.
RESERVED_SLUGS = frozenset({"new"})
CITATION_PREFIX = re.compile(r"^Source\s*[;:]\s*", re.IGNORECASE)
SECTION_BREAK = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)
# A "# Title" line; its closing run of spaces and #s is cut in Python: as a lazy group before
# ``[ \t#]*$`` the expression took time quadratic in the line (a 40,000-character heading that
# did not end in one: 3 s; a 1 MB file, half an hour).
HEADING = re.compile(r"^#[ \t]+(.+)$", re.MULTILINE)
SENTENCE_END = tuple(".!?:;\"'”’)]…")


class TextImportError(ValueError):
    """A file that cannot become a text; the message names the file and the problem."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass
class ParsedText:
    title: str
    author: str = ""
    citation: str = ""
    slug: str = ""
    paragraphs: list[tuple[ParagraphRole, str]] = field(default_factory=list)

    def content_hash(self) -> str:
        payload = json.dumps(
            [self.title, self.author, self.citation, [[r.value, b] for r, b in self.paragraphs]],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    text: Text
    status: str  # "created", "revised" or "unchanged"
    # For a revision: how many annotations stayed, moved with their words, or became orphans.
    anchoring: dict[str, int] = field(default_factory=dict)


def slugify(value: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    return slug[:120].rstrip("-")


def normalise_paragraph(block: str) -> str:
    return " ".join(block.split())


def decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise TextImportError(source, "the file is empty")
    if len(raw) > MAX_FILE_BYTES:
        raise TextImportError(
            source, f"the file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"
        )
    if b"\x00" in raw:
        raise TextImportError(source, "the file is binary (it contains NUL bytes), not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TextImportError(
            source,
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start})",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split_paragraphs(chunk: str) -> list[str]:
    blocks = (normalise_paragraph(b) for b in PARAGRAPH_BREAK.split(chunk))
    return [b for b in blocks if b]


def _assign_roles(front: list[str], body: list[str]) -> list[tuple[ParagraphRole, str]]:
    paragraphs: list[tuple[ParagraphRole, str]] = []
    for index, block in enumerate(front):
        # A short opening line without closing punctuation captions a picture in the source.
        is_caption = index == 0 and len(front) > 1 and not block.endswith(SENTENCE_END)
        paragraphs.append(
            (ParagraphRole.CAPTION if is_caption else ParagraphRole.FRONT_MATTER, block)
        )
    paragraphs.extend((ParagraphRole.BODY, block) for block in body)
    if paragraphs and CITATION_PREFIX.match(paragraphs[-1][1]):
        paragraphs[-1] = (ParagraphRole.CITATION, paragraphs[-1][1])
    return paragraphs


def _title_and_author(line: str) -> tuple[str, str]:
    title, separator, author = line.rpartition(" - ")
    if separator and title.strip() and author.strip():
        return title.strip(), author.strip()
    return line.strip(), ""


def parse_plain_text(text: str, source: str) -> ParsedText:
    text = text.strip("\n")
    title_line, _, rest = text.partition("\n")
    title, author = _title_and_author(normalise_paragraph(title_line))
    rest = rest.strip("\n")
    parts = SECTION_BREAK.split(rest, maxsplit=1)
    front, body = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    parsed = ParsedText(title=title, author=author)
    parsed.paragraphs = _assign_roles(_split_paragraphs(front), _split_paragraphs(body))
    return parsed


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*\n", text, re.DOTALL)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip():
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, text[match.end() :]


def parse_markdown(text: str, source: str) -> ParsedText:
    fields, text = _front_matter(text.lstrip("\n"))
    heading = HEADING.search(text)
    title = fields.get("title", "")
    if heading:
        words = heading.group(1)
        title = title or normalise_paragraph(words[:1] + words[1:].rstrip(" \t#"))
        text = text[: heading.start()] + text[heading.end() :]
    parts = THEMATIC_BREAK.split(text, maxsplit=1)
    front, body = (parts[0], parts[2]) if len(parts) == 3 else ("", text)
    parsed = ParsedText(title=title, author=fields.get("author", ""), slug=fields.get("slug", ""))
    parsed.paragraphs = _assign_roles(_split_paragraphs(front), _split_paragraphs(body))
    parsed.citation = fields.get("citation", "")
    return parsed


def parse_file(raw: bytes, source: str) -> ParsedText:
    """Parse without touching the database; raises TextImportError for a file we cannot use."""
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise TextImportError(
            source, f"unsupported file type {suffix or '(none)'}; use .txt or .md"
        )
    text = decode(raw, source)
    parsed = parse_markdown(text, source) if suffix != ".txt" else parse_plain_text(text, source)
    if not parsed.title:
        raise TextImportError(source, "no title (the first line, or a '# Title' heading)")
    for what, value, limit in (
        ("title", parsed.title, MAX_TITLE),
        ("author", parsed.author, MAX_AUTHOR),
    ):
        if len(value) > limit:
            raise TextImportError(
                source, f"the {what} is {len(value)} characters; the limit is {limit}"
            )
    if not parsed.paragraphs:
        raise TextImportError(source, "no paragraphs after the title")
    if not parsed.citation and parsed.paragraphs[-1][0] is ParagraphRole.CITATION:
        parsed.citation = CITATION_PREFIX.sub("", parsed.paragraphs[-1][1])
    parsed.slug = slugify(parsed.slug or Path(source).stem)
    if not parsed.slug:
        raise TextImportError(source, "cannot make a URL name from the file name; rename the file")
    return parsed


def store(session: Session, parsed: ParsedText, source_name: str) -> ImportResult:
    """Create the text, add a revision if its words changed, or change nothing at all."""
    begin_write(session)
    digest = parsed.content_hash()
    # FOR UPDATE (PostgreSQL), as an accept's: a note being written waits, then anchors on the
    # new revision (its own FOR KEY SHARE would not wait for a plain UPDATE of the row).
    text = session.scalar(select(Text).where(Text.slug == parsed.slug).with_for_update())
    if text is not None and text.current_revision and text.current_revision.content_hash == digest:
        return ImportResult(text, "unchanged")
    status = "revised" if text is not None else "created"
    if text is None and parsed.slug in RESERVED_SLUGS:
        raise TextImportError(
            source_name, f"/texts/{parsed.slug} is the site's own address: give another URL name"
        )
    if text is None:
        text = Text(slug=parsed.slug)
        session.add(text)
    text.title, text.author, text.citation = parsed.title, parsed.author, parsed.citation
    text.source_name = source_name
    revision = TextRevision(number=len(text.revisions) + 1, content_hash=digest)
    revision.paragraphs = [
        Paragraph(number=n, role=role, body=body)
        for n, (role, body) in enumerate(parsed.paragraphs, 1)
    ]
    previous = text.current_revision
    text.revisions.append(revision)
    session.flush()
    text.current_revision = revision
    session.flush()
    moved = annotations.reanchor(session, text, revision) if previous else {}
    return ImportResult(text, status, moved)


def import_file(session: Session, path: Path, slug: str | None = None) -> ImportResult:
    """Read, parse and store one file. Caller commits; on error nothing has been added."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TextImportError(str(path), f"cannot read the file ({error.strerror})") from None
    parsed = parse_file(raw, str(path))
    if slug:
        parsed.slug = slugify(slug)
    return store(session, parsed, path.name)


def seed_files(seeds_dir: Path) -> list[Path]:
    return sorted(p for p in seeds_dir.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
