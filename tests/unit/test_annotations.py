"""The annotation service: validation, tags, editing history, and re-anchoring on re-import."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models import HighlightColor, Paragraph
from app.models.text import ParagraphRole, spans_of
from app.services import annotations, importer, texts
from app.services.access import viewer_for
from app.services.annotations import Changes, SpanTarget, normalise_tags
from app.services.errors import Refused
from app.services.revision_cache import Layout
from app.services.texts import Lens
from tests import factories
from tests.conftest import SEED


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["NEP", "nep", "#nep", " Nep "], ["nep"]),
        (["foreign policy", "Foreign   Policy"], ["foreign-policy"]),
        (["", "  ", "#"], []),
        (["Rapallo", "1922"], ["rapallo", "1922"]),
    ],
)
def test_tags_are_normalised_and_deduplicated(raw, expected):
    assert normalise_tags(raw) == expected


def test_too_many_or_too_long_tags_are_refused():
    with pytest.raises(Refused, match="at most 20 tags"):
        normalise_tags([f"t{n}" for n in range(21)])
    with pytest.raises(Refused, match="at most 64"):
        normalise_tags(["x" * 65])


CONTENT = "The trade agreement was signed. The trade agreement was hailed."
LAYOUT = Layout(CONTENT, spans_of([Paragraph(number=1, role=ParagraphRole.BODY, body=CONTENT)]))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (SpanTarget(exact="trade agreement", start=4, end=19), (4, 19)),
        (SpanTarget(start=4, end=19), (4, 19)),  # position alone: the quote is taken from the text
        (SpanTarget(exact="was hailed"), (52, 62)),  # quote alone
        # stale offsets: the quote wins, and its context picks the right occurrence
        (SpanTarget(exact="trade agreement", prefix="signed. The ", start=0, end=15), (36, 51)),
    ],
)
def test_resolve_span(target, expected):
    assert annotations.resolve_span(LAYOUT, target) == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (SpanTarget(start=10, end=10), "not a non-empty span"),
        (SpanTarget(start=-1, end=3), "not a non-empty span"),
        (SpanTarget(start=0, end=999), "not a non-empty span"),
        (SpanTarget(exact="   "), "empty"),
        (SpanTarget(exact="Versailles treaty"), "not in this text"),
        (SpanTarget(exact="trade agreement", start="4", end=19), "integer"),
        (SpanTarget(), "needs a TextQuoteSelector"),
    ],
)
def test_resolve_span_refuses_bad_selectors(target, message):
    with pytest.raises(Refused, match=message):
        annotations.resolve_span(LAYOUT, target)


def test_edit_keeps_each_earlier_version_with_its_time(session, seeded):
    user = factories.make_user(session)
    note = factories.make_annotation(session, user, seeded, "Krasin", body="first", tags=("a",))
    created = note.updated_at
    author = viewer_for(session, user)
    annotations.edit(session, author, note.id, Changes(body="second", tags=["b"]))
    session.commit()
    annotations.edit(session, author, note.id, Changes(color=HighlightColor.PINK))
    session.commit()
    annotations.edit(session, author, note.id, Changes(color=HighlightColor.PINK))  # no change
    session.commit()
    versions = annotations.versions(session, author, note.id).versions
    assert [(v.number, v.body_source, v.tags, v.color) for v in versions] == [
        (1, "first", "a", None),
        (2, "second", "b", None),
    ]
    assert versions[0].created_at == created
    assert note.body_source == "second" and note.color is HighlightColor.PINK


def _reimport(session, tmp_path: Path, content: str):
    path = tmp_path / SEED.name
    path.write_text(content, encoding="utf-8")
    result = importer.import_file(session, path)
    session.commit()
    return result


def _words(annotation) -> str | None:
    if annotation.start is None:
        return None
    return annotation.text.current_revision.content[annotation.start : annotation.end]


def test_reimport_with_ocr_fixes_moves_every_note_onto_its_words(session, seeded, tmp_path):
    user = factories.make_user(session)
    kussia = factories.make_annotation(session, user, seeded, "Soviet Kussia", body="OCR!")
    hack = factories.make_annotation(session, user, seeded, "brought hack")
    litvinov = factories.make_annotation(session, user, seeded, "Litvinov in Copenhagen")
    whole = factories.make_annotation(session, user, seeded, None, body="On the whole text")
    corrected = (
        SEED.read_text(encoding="utf-8")
        .replace("Soviet Kussia", "Soviet Russia")
        .replace("brought hack", "brought back")
        .replace("Rcichswehr", "Reichswehr")
    )
    result = _reimport(session, tmp_path, corrected)
    assert result.status == "revised"
    assert result.anchoring["orphaned"] == 0
    session.expire_all()
    assert _words(kussia) == "Soviet Russia"
    assert _words(hack) == "brought back"
    assert _words(litvinov) == "Litvinov in Copenhagen"
    assert kussia.exact == "Soviet Russia"  # the note now describes the corrected words
    assert whole.revision_id == result.text.current_revision_id


def test_reimport_that_deletes_the_words_keeps_the_note_as_an_orphan(session, seeded, tmp_path):
    user = factories.make_user(session)
    doomed_quote = "Lenin's Rolls Royce"
    doomed = factories.make_annotation(session, user, seeded, doomed_quote, body="Keep me")
    source = SEED.read_text(encoding="utf-8")
    caption = "Lenin's Rolls Royce - one of 15 custom-made for Party use\n\n"
    result = _reimport(session, tmp_path, source.replace(caption, ""))
    assert result.anchoring["orphaned"] == 1
    session.expire_all()
    assert doomed.is_orphan and doomed.exact == doomed_quote and doomed.deleted_at is None
    page = texts.reading_view(session, result.text.slug, viewer_for(session, user), Lens("mine"))
    assert doomed in page.orphans  # listed under "Notes whose text has changed"


def test_reimport_of_the_same_file_touches_no_annotation(session, seeded):
    user = factories.make_user(session)
    note = factories.make_annotation(session, user, seeded, "Krasin")
    before = (note.start, note.end, note.revision_id)
    assert importer.import_file(session, SEED).status == "unchanged"
    session.commit()
    session.expire_all()
    assert (note.start, note.end, note.revision_id) == before


def test_create_user_refuses_an_overlong_name(session):
    from app.services import accounts

    with pytest.raises(accounts.AccountError, match="at most 80"):
        accounts.create_user(session, "long@example.org", "N" * 81, "long enough pw")


def test_what_a_highlight_is_called_follows_its_words_and_motivation(session, seeded):
    """One answer (Annotation.kind) to note, highlight or question, for the filters, the card
    and the words a screen reader hears where the mark begins."""
    from app.models import Kind, Motivation
    from app.services.annotations import Draft

    user = factories.make_user(session)
    viewer = viewer_for(session, user)
    plain = factories.make_annotation(session, user, seeded, "Krasin", color=HighlightColor.BLUE)
    noted = factories.make_annotation(session, user, seeded, "Arcos", body="Raided in 1927")
    start = seeded.current_revision.content.index("Rapallo")
    asked = annotations.create(
        session,
        viewer,
        Draft(
            text_slug=seeded.slug,
            motivation=Motivation.QUESTIONING,
            target=SpanTarget(exact="Rapallo", start=start, end=start + len("Rapallo")),
        ),
    )
    session.commit()
    assert [a.kind for a in (plain, noted, asked)] == [Kind.HIGHLIGHT, Kind.NOTE, Kind.QUESTION]
    page = texts.reading_view(session, seeded.slug, viewer, Lens("mine"))
    labels = {s.top.id: s.label for p in page.paragraphs for s in p.segments if s.top is not None}
    assert labels[plain.id] == "highlight, blue"
    assert labels[noted.id] == f"note by {user.display_name}"
    assert labels[asked.id] == f"note by {user.display_name}"  # a question, words or not
