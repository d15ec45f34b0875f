"""Notes without JavaScript: the reading page's forms, highlights in the HTML, the notebook."""

from __future__ import annotations

import re

import pytest

from app.models import Annotation, HighlightColor
from tests import factories
from tests.factories import csrf_token, dom, recorded_queries, text_of

PAGE = "/texts/carr-rapprochement"


@pytest.fixture
def reader(session, auth):
    user = factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    return user


def _page(client, path: str = PAGE):
    return dom(client.get(path).get_data(as_text=True))


def _para(page, number: int):
    """Paragraph ``number``'s text (its <p class="para">), marks and all."""
    para = page.select_one(f"div.para-row#p{number} p.para")
    assert para is not None, number
    return para


def test_highlights_are_marks_in_the_served_html(client, session, seeded, reader):
    factories.make_annotation(
        session, reader, seeded, "Litvinov in Copenhagen", color=HighlightColor.GREEN
    )
    para = _para(_page(client), 4)
    marks = [m for m in para.select("mark") if m.string == "Litvinov in Copenhagen"]
    assert len(marks) == 1, str(para)[:300]
    assert marks[0]["class"] == ["hl", "hl-green", "hl-private"]  # the reader's own, private
    assert marks[0]["data-label"] == "highlight, green"
    # Remove the markup and the paragraph is still exactly Carr's words.
    assert para.get_text() == seeded.current_revision.paragraphs[3].body


def test_overlapping_and_nested_highlights_split_into_segments(client, session, seeded, reader):
    outer = factories.make_annotation(session, reader, seeded, "Litvinov in Copenhagen negotiated")
    inner = factories.make_annotation(
        session, reader, seeded, "in Copenhagen", color=HighlightColor.PINK, body="where?"
    )
    crossing = factories.make_annotation(
        session, reader, seeded, "negotiated an agreement", color=HighlightColor.BLUE
    )
    para = _para(_page(client), 4)
    segments = para.select("mark")
    assert all(m.string is not None for m in segments)  # words only, no mark inside a mark

    def covering(mark) -> str:  # a mark names its offset; the notes' spans say who covers it
        notes = (outer, inner, crossing)
        return " ".join(str(a.id) for a in notes if a.start <= int(mark["data-start"]) < a.end)

    assert [(covering(m), m.string) for m in segments] == [
        (f"{outer.id}", "Litvinov "),
        (f"{outer.id} {inner.id}", "in Copenhagen"),
        (f"{outer.id}", " "),
        (f"{outer.id} {crossing.id}", "negotiated"),
        (f"{crossing.id}", " an agreement"),
    ]
    assert {"hl-pink", "hl-overlap"} <= set(segments[1]["class"])
    # Each note's words are reached from the mark where they begin.
    starts = [(m["id"], m["data-starts"]) for m in para.select("mark[data-starts]")]
    assert starts == [(f"m{a.id}", str(a.id)) for a in (outer, inner, crossing)]
    assert para.get_text() == seeded.current_revision.paragraphs[3].body


def test_a_highlight_across_paragraphs_marks_both_and_its_note_sits_where_it_starts(
    client, session, seeded, reader
):
    content = seeded.current_revision.content
    spans = seeded.current_revision.spans()
    quote = content[spans[4].end - 20 : spans[5].start + 15]
    note = factories.make_annotation(session, reader, seeded, quote, body="across")
    page = _page(client)
    for number in (5, 6):
        marked = _para(page, number).select("mark")
        assert len(marked) == 1 and note.start <= int(marked[0]["data-start"]) < note.end
    assert _para(page, 5).select_one(f'mark[data-starts="{note.id}"]') is not None
    assert page.select_one(f"#p5 #a{note.id}") is not None  # the note, in ¶5's row


def test_paragraph_note_form_without_javascript(client, seeded, reader):
    start, end = seeded.current_revision.spans()[4].start, seeded.current_revision.spans()[4].end
    response = client.post(
        f"{PAGE}/notes",
        data={
            "csrf_token": csrf_token(client, PAGE),
            "start": start,
            "end": end,
            "body": "Why *Genoa*?",
            "tags": "genoa Conferences",
        },
    )
    assert response.status_code == 302
    # Back at the note, shown in the margin however full (a private note: the default lens).
    assert re.search(r"/texts/carr-rapprochement\?focus=(\d+)#a\1$", response.headers["Location"])
    page = _page(client)
    (body,) = [b for b in page.select(".note-body") if text_of(b) == "Why Genoa?"]
    assert [text_of(em) for em in body.select("em")] == ["Genoa"]
    assert "#conferences" in text_of(page) and "#genoa" in text_of(page)


def test_whole_text_note_and_empty_note_error(client, seeded, reader):
    token = csrf_token(client, PAGE)
    empty = client.post(
        f"{PAGE}/notes", data={"csrf_token": token, "body": "  "}, follow_redirects=True
    )
    assert "needs some words" in empty.get_data(as_text=True)
    client.post(f"{PAGE}/notes", data={"csrf_token": token, "body": "Realpolitik throughout."})
    page = _page(client)
    notes = page.select_one("section.text-notes")
    assert "Realpolitik throughout." in text_of(notes)
    # The text comes first; a link at its head says how many notes follow it.
    intro = page.find(string="Editor’s introduction")
    excerpt = intro.find_next(string="The excerpt")
    assert excerpt is not None and excerpt.find_next("section", class_="text-notes") is notes
    assert text_of(intro.find_previous("a", href="#text-notes")) == "Notes on the whole text (1)"


def _fields(form) -> dict[str, str]:
    """The refused form's fields as the browser would send them again."""
    fields = {
        field["name"]: field.get("value", "")
        for field in form.select('input[type="hidden"], input[type="text"]')
    }
    fields["body"] = form.select_one("textarea").get_text()
    return fields


def test_a_refused_note_comes_back_with_its_words_and_can_be_sent_again(
    client, session, seeded, reader
):
    span = seeded.current_revision.spans()[4]
    long_words = "Why does Genoa <matter> so much? " * 700  # over the 20,000-character limit
    refused = client.post(
        f"{PAGE}/notes",
        data={
            "csrf_token": csrf_token(client, PAGE),
            "start": span.start,
            "end": span.end,
            "body": long_words,
            "tags": "genoa conferences",
            "audience": "private",
            "question": "1",
        },
    )
    assert refused.status_code == 413
    page = dom(refused.get_data(as_text=True))
    assert "the limit is 20,000" in text_of(page)
    form = page.select_one(f'form[action="{PAGE}/notes"]')
    assert form is not None
    fields = _fields(form)
    assert fields["body"] == long_words  # every word, escaped in the page, none lost
    assert fields["tags"] == "genoa conferences"
    assert (fields["start"], fields["end"]) == (str(span.start), str(span.end))
    assert fields["question"] == "1" and fields["audience"] == "private"
    assert session.query(Annotation).count() == 0  # and nothing half-stored

    fields["body"] = "Why does Genoa matter so much?"
    sent = client.post(f"{PAGE}/notes", data=fields)
    assert sent.status_code == 302 and re.search(r"#a\d+$", sent.headers["Location"])
    session.rollback()  # a new snapshot: the test's session read before the app wrote
    note = session.query(Annotation).one()
    assert (note.start, note.end, note.body_source) == (span.start, span.end, fields["body"])
    assert note.motivation.value == "questioning" and note.tag_names == ["conferences", "genoa"]


def test_edit_form_keeps_history(client, session, seeded, reader):
    note = factories.make_annotation(session, reader, seeded, "Krasin", body="first")
    url = f"/notes/{note.id}/edit"
    assert "first" in client.get(url).get_data(as_text=True)
    client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "body": "second",
            "tags": "x",
            "color": "purple",
        },
    )
    history = client.get(f"/notes/{note.id}/history").get_data(as_text=True)
    assert "first" in history and "second" in history and "Version 1" in history
    links = _page(client).select(f'a[href="/notes/{note.id}/history"]')
    assert [text_of(a) for a in links] == ["edited"]


def test_delete_offers_undo(client, session, seeded, reader):
    note = factories.make_annotation(session, reader, seeded, "Krasin", body="regret this")
    token = csrf_token(client, PAGE)
    page = client.post(
        f"/notes/{note.id}/delete", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Note deleted." in page and "regret this" not in page
    assert dom(page).select_one(f'form[action="/notes/{note.id}/restore"]') is not None
    restored = client.post(
        f"/notes/{note.id}/restore", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "regret this" in restored


def test_someone_elses_note_pages_are_404(app, client, session, seeded, reader):
    other = factories.make_user(session, "other@example.org")
    theirs = factories.make_annotation(session, other, seeded, "Krasin", body="theirs")
    token = csrf_token(client, PAGE)
    for url in (f"/notes/{theirs.id}/edit", f"/notes/{theirs.id}/history"):
        assert client.get(url).status_code == 404
    for url in (f"/notes/{theirs.id}/edit", f"/notes/{theirs.id}/delete"):
        assert client.post(url, data={"csrf_token": token, "body": "mine now"}).status_code == 404
    session.refresh(theirs)
    assert theirs.body_source == "theirs" and theirs.deleted_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client, seeded):
    assert client.get("/notes").status_code == 302
    response = client.post(
        f"{PAGE}/notes", data={"csrf_token": csrf_token(client, PAGE), "body": "x"}
    )
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_notebook_groups_by_text_and_paragraph_and_filters(client, session, seeded, reader):
    factories.make_annotation(
        session,
        reader,
        seeded,
        "Krasin",
        body="trade man",
        tags=("people",),
        color=HighlightColor.BLUE,
    )
    factories.make_annotation(
        session,
        reader,
        seeded,
        "Rapallo",
        body="the treaty",
        tags=("treaties",),
        color=HighlightColor.YELLOW,
    )
    factories.make_annotation(session, reader, seeded, None, body="whole-text thought")
    page = _page(client, "/notes")
    text = text_of(page)
    assert text.index("¶4") < text.index("trade man") < text.index("the treaty")
    assert "whole-text thought" in text
    # To each note in the text: private notes are in the default lens.
    assert page.select('a[href^="/texts/carr-rapprochement?focus="]')
    by_tag = client.get("/notes?tag=%23People").get_data(as_text=True)
    assert "trade man" in by_tag and "the treaty" not in by_tag
    by_color = client.get("/notes?color=yellow").get_data(as_text=True)
    assert "the treaty" in by_color and "trade man" not in by_color
    assert client.get("/notes?color=tartan").status_code == 400


def test_reading_page_query_count_does_not_grow_with_annotations(
    engine, client, session, seeded, reader
):
    def count_queries() -> int:
        with recorded_queries(engine) as statements:
            assert client.get(PAGE).status_code == 200
        return len(statements)

    factories.make_annotation(session, reader, seeded, "Krasin", body="one", tags=("a",))
    few = count_queries()
    words = seeded.current_revision.content.split()
    for n, word in enumerate(words[:60]):
        factories.make_annotation(
            session,
            reader,
            seeded,
            word,
            body=f"note {n}",
            tags=(f"t{n % 7}",),
            color=HighlightColor.GREEN,
        )
    factories.make_annotation(session, reader, seeded, None, body="whole")
    assert count_queries() == few
