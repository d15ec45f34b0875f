"""Notes without JavaScript: the reading page's forms, highlights in the HTML, the notebook."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.models import Annotation, HighlightColor
from tests import factories
from tests.factories import csrf_token, recorded_queries

PAGE = "/texts/carr-rapprochement"


@pytest.fixture
def reader(session, auth):
    user = factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    return user


def _para_html(html: str, number: int) -> str:
    match = re.search(
        rf'<div class="para-row[^"]*" id="p{number}".*?<p class="para"[^>]*>(.*?)</p>',
        html,
        re.DOTALL,
    )
    return match.group(1)


def test_highlights_are_marks_in_the_served_html(client, session, seeded, reader):
    factories.make_annotation(
        session, reader, seeded, "Litvinov in Copenhagen", color=HighlightColor.GREEN
    )
    para = _para_html(client.get(PAGE).get_data(as_text=True), 4)
    mark = re.search(r'<mark class="hl hl-green"[^>]*>Litvinov in Copenhagen</mark>', para)
    assert mark, para[:300]
    assert 'data-label="highlight, green"' in mark.group(0)
    # Remove the markup and the paragraph is still exactly Carr's words.
    assert unescape(re.sub(r"<[^>]+>", "", para)) == seeded.current_revision.paragraphs[3].body


def test_overlapping_and_nested_highlights_split_into_segments(client, session, seeded, reader):
    outer = factories.make_annotation(session, reader, seeded, "Litvinov in Copenhagen negotiated")
    inner = factories.make_annotation(
        session, reader, seeded, "in Copenhagen", color=HighlightColor.PINK, body="where?"
    )
    crossing = factories.make_annotation(
        session, reader, seeded, "negotiated an agreement", color=HighlightColor.BLUE
    )
    para = _para_html(client.get(PAGE).get_data(as_text=True), 4)
    segments = re.findall(r'<mark class="([^"]+)" data-start="(\d+)"[^>]*>([^<]*)</mark>', para)

    def covering(at: str) -> str:  # a mark names its offset; the notes' spans say who covers it
        notes = (outer, inner, crossing)
        return " ".join(str(a.id) for a in notes if a.start <= int(at) < a.end)

    assert [(covering(at), text) for _, at, text in segments] == [
        (f"{outer.id}", "Litvinov "),
        (f"{outer.id} {inner.id}", "in Copenhagen"),
        (f"{outer.id}", " "),
        (f"{outer.id} {crossing.id}", "negotiated"),
        (f"{crossing.id}", " an agreement"),
    ]
    assert "hl-pink hl-overlap" in segments[1][0]
    # Each note's words are reached from the mark where they begin.
    starts = re.findall(r'id="m(\d+)" data-starts="([^"]+)"', para)
    assert starts == [(str(a.id), str(a.id)) for a in (outer, inner, crossing)]
    assert unescape(re.sub(r"<[^>]+>", "", para)) == seeded.current_revision.paragraphs[3].body


def test_a_highlight_across_paragraphs_marks_both_and_its_note_sits_where_it_starts(
    client, session, seeded, reader
):
    content = seeded.current_revision.content
    spans = seeded.current_revision.spans()
    quote = content[spans[4].end - 20 : spans[5].start + 15]
    note = factories.make_annotation(session, reader, seeded, quote, body="across")
    html = client.get(PAGE).get_data(as_text=True)
    for number in (5, 6):
        marked = re.findall(
            r'<mark [^>]*data-start="(\d+)"[^>]*>([^<]*)</mark>', _para_html(html, number)
        )
        assert len(marked) == 1 and note.start <= int(marked[0][0]) < note.end
    assert f'data-starts="{note.id}"' in _para_html(html, 5)
    row5 = html[html.index('id="p5"') : html.index('id="p6"')]
    assert f'id="a{note.id}"' in row5


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
    html = client.get(PAGE).get_data(as_text=True)
    assert "Why <em>Genoa</em>?" in html
    assert "#conferences" in html and "#genoa" in html


def test_whole_text_note_and_empty_note_error(client, seeded, reader):
    token = csrf_token(client, PAGE)
    empty = client.post(
        f"{PAGE}/notes", data={"csrf_token": token, "body": "  "}, follow_redirects=True
    )
    assert "needs some words" in empty.get_data(as_text=True)
    client.post(f"{PAGE}/notes", data={"csrf_token": token, "body": "Realpolitik throughout."})
    html = client.get(PAGE).get_data(as_text=True)
    start = html.index('<section class="text-notes"')
    notes = html[start : html.index("</section>", start)]
    assert "Realpolitik throughout." in notes
    # The text comes first; a link at its head says how many notes follow it.
    assert html.index("Editor’s introduction") < html.index("The excerpt") < start
    head = html[: html.index("Editor’s introduction")]
    assert '<a href="#text-notes">Notes on the whole text (1)</a>' in head


def _fields(html: str) -> dict[str, str]:
    """The refused-form page's fields as the browser would send them again."""
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="(?:hidden|text)"[^>]* name="([^"]+)"[^>]* value="([^"]*)"', html
        )
    }
    fields["body"] = unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1))
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
    html = refused.get_data(as_text=True)
    assert "the limit is 20,000" in html
    assert f'action="{PAGE}/notes"' in html
    fields = _fields(html)
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
    assert f'href="/notes/{note.id}/history">edited' in client.get(PAGE).get_data(as_text=True)


def test_delete_offers_undo(client, session, seeded, reader):
    note = factories.make_annotation(session, reader, seeded, "Krasin", body="regret this")
    token = csrf_token(client, PAGE)
    page = client.post(
        f"/notes/{note.id}/delete", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Note deleted." in page and "regret this" not in page
    assert f'action="/notes/{note.id}/restore"' in page
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
    html = client.get("/notes").get_data(as_text=True)
    assert html.index("¶4") < html.index("trade man") < html.index("the treaty")
    assert "whole-text thought" in html
    assert 'href="/texts/carr-rapprochement?focus=' in html  # private notes: the default lens
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
