"""The importer: the seed's structure, other formats, idempotency and every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Paragraph, ParagraphRole, Text, TextRevision
from app.services import importer
from app.services.importer import TextImportError
from tests.conftest import SEED

CARR_EXCERPT_OPENINGS = [
    "The strengthening of party and Soviet organization was matched",
    "The trade agreement was rightly hailed as a break-through",
    "The background of the Soviet rapprochement with Great Britain was economic",
    "A feature of German-Soviet relations at this time",
    "Early in 1922 both the Soviet and the German Governments",
    "The deadlock in negotiations paradoxically produced",
]


def _source_blocks() -> list[str]:
    """The seed's paragraphs as a person sees them in the file (whitespace folded)."""
    raw = SEED.read_text(encoding="utf-8")
    return [" ".join(block.split()) for block in raw.split("\n\n") if block.strip()]


@pytest.fixture
def carr() -> importer.ParsedText:
    return importer.parse_file(SEED.read_bytes(), str(SEED))


def test_seed_title_author_and_citation(carr):
    assert carr.title == "Rapprochement; how the Bolsheviks came to love capitalists"
    assert carr.author == "EH Carr"
    assert carr.citation.startswith("E.H. Carr - The Russian Revolution - from Lenin to Stalin")
    assert not carr.citation.startswith("Source")
    assert carr.slug == "carr-rapprochement"


def test_seed_roles_caption_introduction_excerpt_citation(carr):
    roles = [role for role, _ in carr.paragraphs]
    assert roles == (
        [ParagraphRole.CAPTION]
        + [ParagraphRole.FRONT_MATTER] * 2
        + [ParagraphRole.BODY] * 6
        + [ParagraphRole.CITATION]
    )
    assert carr.paragraphs[0][1] == "Lenin's Rolls Royce - one of 15 custom-made for Party use"
    assert carr.paragraphs[1][1].startswith("In this short excerpt Carr describes")
    assert carr.paragraphs[2][1].startswith("This included the supply of weaponry")
    for (_, body), opening in zip(carr.paragraphs[3:9], CARR_EXCERPT_OPENINGS, strict=True):
        assert body.startswith(opening)


def test_seed_keeps_every_character_of_every_paragraph(carr):
    assert [body for _, body in carr.paragraphs] == _source_blocks()[1:]
    # The OCR errors are the text's own until someone corrects them.
    content = "\n\n".join(body for _, body in carr.paragraphs)
    for ocr_error in ("brought hack", "Soviet Kussia", "Rcichswehr"):
        assert ocr_error in content


def test_whitespace_inside_a_paragraph_is_folded_and_nothing_else_changes():
    raw = "Title - Someone\n\nFirst  line\nwraps here,\t“quoted” — and  ‘so’ on.\r\n\r\nSecond.\n"
    parsed = importer.parse_file(raw.encode(), "x.txt")
    assert [b for _, b in parsed.paragraphs] == [
        "First line wraps here, “quoted” — and ‘so’ on.",
        "Second.",
    ]


def test_plain_text_without_a_section_break_is_all_body():
    parsed = importer.parse_file(b"Just a title\n\nOne.\n\nTwo.", "plain.txt")
    assert parsed.title == "Just a title" and parsed.author == ""
    assert parsed.paragraphs == [(ParagraphRole.BODY, "One."), (ParagraphRole.BODY, "Two.")]


def test_markdown_with_front_matter_heading_and_thematic_break():
    raw = b"""---
author: Leon Trotsky
citation: Pathfinder Press, 1972
slug: revolution-betrayed
---
# The Revolution Betrayed

An editor's note.

---

The Soviet Union has *emerged*.

Second paragraph
wraps.
"""
    parsed = importer.parse_file(raw, "trotsky.md")
    assert parsed.title == "The Revolution Betrayed"
    assert parsed.author == "Leon Trotsky"
    assert parsed.citation == "Pathfinder Press, 1972"
    assert parsed.slug == "revolution-betrayed"
    assert parsed.paragraphs == [
        (ParagraphRole.FRONT_MATTER, "An editor's note."),
        (ParagraphRole.BODY, "The Soviet Union has *emerged*."),
        (ParagraphRole.BODY, "Second paragraph wraps."),
    ]


def test_markdown_without_front_matter_uses_heading_and_file_name():
    parsed = importer.parse_file(b"# A Title\n\nBody.\n\nSource: somewhere, 1999", "My Notes.md")
    assert parsed.title == "A Title"
    assert parsed.slug == "my-notes"
    assert parsed.paragraphs[-1] == (ParagraphRole.CITATION, "Source: somewhere, 1999")
    assert parsed.citation == "somewhere, 1999"


@pytest.mark.parametrize(
    ("heading", "title"),
    [("# A Title ##", "A Title"), ("#  Spaced\t#  #", "Spaced"), ("# ##", "#")],
)
def test_a_headings_closing_hashes_and_spaces_are_not_its_title(heading, title):
    parsed = importer.parse_file(heading.encode() + b"\n\nBody.", "t.md")
    assert parsed.title == title


def test_a_heading_line_of_a_megabyte_is_parsed_in_one_pass():
    """Its closing run was matched by a lazy group that backtracked: a 1 MB heading ending in
    a letter after its spaces took half an hour; it is cut in Python now."""
    raw = b"# A" + b" " * 1_000_000 + b"b\n\nBody."
    parsed = importer.parse_file(raw, "long-heading.md")
    assert parsed.title == "A b"
    assert parsed.paragraphs == [(ParagraphRole.BODY, "Body.")]


def test_utf8_byte_order_mark_is_not_part_of_the_title():
    parsed = importer.parse_file("\ufeffTitle\n\nBody.".encode(), "bom.txt")
    assert parsed.title == "Title"


@pytest.mark.parametrize(
    ("name", "raw", "problem"),
    [
        ("empty.txt", b"", "the file is empty"),
        ("blank.txt", b"  \n\n \n", "the file is empty"),
        ("binary.txt", b"Title\n\n\x00\x01\x02 body", "binary"),
        ("latin1.txt", "Title\n\nCaf\xe9 society".encode("latin-1"), "not UTF-8"),
        ("huge.txt", b"Title\n\n" + b"word " * 300_000, "the limit is"),
        ("title-only.txt", b"Only a title\n", "no paragraphs"),
        ("heading-only.md", b"# Only a heading\n", "no paragraphs"),
        ("no-title.md", b"Body without a heading.", "no title"),
        ("picture.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        (
            "long-title.txt",
            b"T" * 301 + b"\n\nBody.",
            "the title is 301 characters; the limit is 300",
        ),
    ],
)
def test_bad_files_are_refused_naming_file_and_problem(name, raw, problem):
    with pytest.raises(TextImportError) as caught:
        importer.parse_file(raw, f"uploads/{name}")
    message = str(caught.value)
    assert message.startswith(f"uploads/{name}: ")
    assert problem in message


def _counts(session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count(Text.id))),
        session.scalar(select(func.count(TextRevision.id))),
        session.scalar(select(func.count(Paragraph.id))),
    )


def test_importing_the_same_file_twice_changes_nothing(session):
    first = importer.import_file(session, SEED)
    session.commit()
    assert first.status == "created"
    before = _counts(session)
    second = importer.import_file(session, SEED)
    session.commit()
    assert second.status == "unchanged"
    assert second.text.id == first.text.id
    assert _counts(session) == before == (1, 1, 10)


def test_changed_file_adds_a_revision_and_keeps_the_old_one(session, tmp_path):
    importer.import_file(session, SEED)
    session.commit()
    corrected = tmp_path / SEED.name
    corrected.write_text(SEED.read_text().replace("Soviet Kussia", "Soviet Russia"))
    result = importer.import_file(session, corrected)
    session.commit()
    assert result.status == "revised"
    assert [r.number for r in result.text.revisions] == [1, 2]
    assert "Soviet Russia" in result.text.current_revision.content
    assert "Soviet Kussia" in result.text.revisions[0].content
    assert _counts(session) == (1, 2, 20)


def test_a_bad_file_leaves_nothing_in_the_database(session, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Title\n\n\xff\xfe broken")
    with pytest.raises(TextImportError):
        importer.import_file(session, bad)
    session.rollback()
    assert _counts(session) == (0, 0, 0)


def test_missing_file_is_a_clear_error(session, tmp_path):
    with pytest.raises(TextImportError, match="cannot read the file"):
        importer.import_file(session, tmp_path / "nowhere.txt")


def test_paragraph_offsets_index_the_canonical_content(session):
    text = importer.import_file(session, SEED).text
    revision = text.current_revision
    content = revision.content
    for span in revision.spans():
        assert content[span.start : span.end] == span.paragraph.body
    assert revision.spans()[-1].end == len(content)


def test_seed_directory_lists_txt_and_md_only(tmp_path: Path):
    for name in ("b.md", "a.txt", "notes.pdf", "c.markdown"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in importer.seed_files(tmp_path)] == ["a.txt", "b.md", "c.markdown"]


def test_a_new_text_may_not_take_an_address_the_site_uses(session, tmp_path):
    path = tmp_path / "new.txt"
    path.write_bytes(b"Title\n\nBody.")
    with pytest.raises(TextImportError, match="/texts/new is the site's own address"):
        importer.import_file(session, path)
    session.rollback()
    assert importer.import_file(session, path, slug="not-new").status == "created"
