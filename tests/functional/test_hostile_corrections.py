"""Suggested corrections attacked: by readers who should not decide, with odd words, on odd
targets, through the API's back doors, and for what they could leak."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from app.models import Annotation, SuggestionStatus, Text, TextRevision
from app.services import annotations, importer, moderation
from app.services.access import viewer_for
from app.services.annotations import thread_changes
from app.services.annotations.rules import CONTEXT_CHARS
from tests import factories
from tests.conftest import SEED
from tests.factories import PAGE, fresh
from tests.functional.test_corrections import (
    _api_suggestion,
    _content,
    _note,
    _span_of,
    _suggest,
    _suggestion_id,
)
from tests.functional.test_corrections import seminar as seminar  # a fixture


def _revisions(session) -> int:
    return fresh(session).scalar(select(func.count(TextRevision.id)))


def _refusal(browser, response) -> str:
    """What a refused suggestion tells its writer: a page of its own or a flashed message."""
    if response.status_code == 302:
        return factories.flashed(browser, response)
    assert response.status_code in (400, 413, 422), response.status_code
    return response.get_data(as_text=True)


def _status(session, suggestion_id):
    return fresh(session).get(Annotation, suggestion_id).suggestion.status


def test_a_hidden_suggestion_is_not_accepted(session, seminar):
    """An instructor (or admin) hid it: what moderators took out of sight does not become the
    text's words for everyone, even by another instructor who may still decide."""
    ida, ann, _, _, group = seminar
    suggestion = _suggestion_id(
        _suggest(ann, session, "Rcichswehr", "Reichswehr", f"group-{group.id}")
    )
    moderation.set_hidden(session, viewer_for(session, ida.user), suggestion, True)
    session.commit()
    assert "Accept" not in factories.text_of(
        factories.dom(ida.html(f"/notes/{suggestion}")).select_one("main")
    )
    for action in ("accept", "decline"):
        response = ida.post(f"/notes/{suggestion}/{action}")
        assert "hidden by a moderator" in factories.flashed(ida, response)
    assert _revisions(session) == 1 and _status(session, suggestion) is SuggestionStatus.OPEN


def test_a_deleted_suggestion_is_not_accepted_and_an_accepted_one_deleted_keeps_its_revision(
    session, seminar
):
    ida, ann, _, _, _ = seminar
    gone = _suggestion_id(_suggest(ann, session, "Soviet Kussia", "Soviet Russia"))
    thread_changes.delete(session, viewer_for(session, ann.user), gone)
    session.commit()
    assert ida.post(f"/notes/{gone}/accept").status_code == 404
    accepted = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    assert ida.post(f"/notes/{accepted}/accept").status_code == 302
    thread_changes.delete(session, viewer_for(session, ann.user), accepted)
    session.commit()
    assert "Reichswehr" in _content(session) and _revisions(session) == 2
    history = ida.html(f"{PAGE}/revisions")
    assert "‘Rcichswehr’ → ‘Reichswehr’" in history


@pytest.mark.parametrize(
    "replacement",
    [
        "brought  hack",  # two spaces: the same words
        "brought hack\n",  # a line break becomes a space: the same words
        "brought\r\nhack",
        " brought hack",
    ],
)
def test_a_suggestion_that_changes_no_word_is_refused(session, seminar, replacement):
    _, ann, _, _, _ = seminar
    response = _suggest(ann, session, "brought hack", replacement)
    assert "changes no word" in _refusal(ann, response)
    assert fresh(session).scalar(select(func.count(Annotation.id))) == 0


@pytest.mark.parametrize(
    "replacement",
    ["Reichs\u202ewehr", "\u2067Reichswehr", "Reichs\u200fwehr\u202c"],
    ids=["RLO", "RLI", "RLM+PDF"],
)
def test_a_correction_with_hidden_direction_controls_is_refused(session, seminar, replacement):
    """An override reverses the rest of the paragraph for every reader once accepted, and the
    instructor deciding cannot see it in the suggestion."""
    _, ann, _, _, _ = seminar
    response = _suggest(ann, session, "Rcichswehr", replacement)
    assert "direction" in _refusal(ann, response)
    assert fresh(session).scalar(select(func.count(Annotation.id))) == 0


@pytest.mark.parametrize(
    ("value", "status"),
    [("Reichs\u0000wehr", 400), ("Reichs\ud800wehr", 400)],
    ids=["NUL", "surrogate"],
)
def test_odd_bytes_in_the_api_replacement_are_refused(session, seminar, value, status):
    _, ann, _, _, _ = seminar
    bodies = [{"type": "TextualBody", "purpose": "editing", "value": value}]
    response = _api_suggestion(ann, session, "Rcichswehr", bodies)
    assert response.status_code == status, response.get_json()


def test_combining_marks_and_a_long_replacement_are_words(session, seminar):
    ida, ann, _, _, _ = seminar
    accents = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Rei\u0308chswehr"))
    assert ida.post(f"/notes/{accents}/accept").status_code == 302
    long = _suggestion_id(_suggest(ann, session, "Soviet Kussia", "Soviet Russia " + "x" * 1_986))
    assert ida.post(f"/notes/{long}/accept").status_code == 302
    content = _content(session)
    assert "Rei\u0308chswehr" in content and "x" * 1_986 in content


def test_a_suggestion_across_paragraphs_or_on_nothing_is_refused(session, seminar):
    _, ann, _, _, _ = seminar
    content = _content(session)
    brk = content.index("\n\n")
    across = ann.post(
        f"{PAGE}/suggestions",
        start=str(brk - 3),
        end=str(brk + 5),
        replacement="x",
        audience="public",
    )
    assert "stays within one paragraph" in _refusal(ann, across)
    nothing = ann.post(f"{PAGE}/suggestions", replacement="x", audience="public")
    assert "The target needs" in _refusal(ann, nothing)
    assert fresh(session).scalar(select(func.count(Annotation.id))) == 0


def test_a_reply_cannot_be_a_suggestion(session, seminar):
    _, ann, ben, _, _ = seminar
    parent = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    response = ben.api(
        "POST",
        "/api/v1/annotations",
        {
            "type": "Annotation",
            "motivation": "editing",
            "body": [{"type": "TextualBody", "purpose": "editing", "value": "Reichsheer"}],
            "target": f"http://localhost/api/v1/annotations/{parent}",
            "scholia:visibility": "public",
        },
    )
    assert response.status_code == 422
    assert "A reply's motivation is 'replying'" in response.get_json()["detail"]
    replies = fresh(session).scalars(select(Annotation).where(Annotation.parent_id == parent))
    assert all(reply.suggestion is None for reply in replies)


def _editing(value: str) -> list[dict]:
    return [{"type": "TextualBody", "purpose": "editing", "value": value}]


@pytest.mark.parametrize("accepted", [False, True], ids=["open", "accepted"])
def test_a_suggestions_words_and_target_cannot_be_patched(session, seminar, accepted):
    """Its replies discussed these words and an instructor decides (or decided) on them: a
    client that sends others is told so, not answered 200 with them dropped."""
    ida, ann, _, _, _ = seminar
    suggestion = factories.annotation_id(
        _api_suggestion(ann, session, "Rcichswehr", _editing("Reichswehr")).get_json()
    )
    if accepted:
        ida.post(f"/notes/{suggestion}/accept")
    path = f"/api/v1/annotations/{suggestion}"
    moscow = {"type": "TextQuoteSelector", "exact": "Moscow"}
    for change in (
        {"body": _editing("Wehrmacht")},
        {"target": {"source": factories.TEXT_URL, "selector": [moscow]}},
    ):
        assert ann.api("PATCH", path, change).status_code == 409
    served = ann.api("GET", path).get_json()
    # Sent back as served, with a reason added, it is an edit of the reason alone.
    served["body"].append({"type": "TextualBody", "purpose": "commenting", "value": "OCR"})
    assert ann.api("PUT", path, served).status_code == 200
    kept = fresh(session).get(Annotation, suggestion)
    assert kept.suggestion.replacement == "Reichswehr" and kept.body_source == "OCR"
    assert kept.exact == ("Reichswehr" if accepted else "Rcichswehr")


def test_a_note_does_not_take_a_replacement(session, seminar):
    _, ann, _, _, _ = seminar
    text = fresh(session).scalar(select(Text).where(Text.slug == factories.SLUG))
    note = factories.api_note(ann, text, "Rcichswehr", "A name", visibility="public")
    change = {"body": _editing("Reichswehr")}
    assert ann.api("PATCH", f"/api/v1/annotations/{note}", change).status_code == 409
    assert fresh(session).get(Annotation, note).suggestion is None


@pytest.mark.parametrize(
    ("page", "status"), [("0", 200), ("-1", 400), ("99999999", 404), ("1e3", 400), ("٣", 400)]
)
def test_odd_pages_of_a_comparison(session, seminar, page, status):
    ida, ann, _, _, _ = seminar
    ida.post(f"/notes/{_suggestion_id(_suggest(ann, session, 'Rcichswehr', 'Reichswehr'))}/accept")
    response = ida.get(f"{PAGE}/revisions/compare?from=1&to=2&page={page}")
    assert response.status_code == status


def test_exports_say_what_a_suggestion_would_change(session, seminar):
    """Without it, a suggestion exported reads as a note on the words saying "OCR error"."""
    ida, ann, _, _, group = seminar
    accepted = _suggestion_id(
        _suggest(ann, session, "brought hack", "brought back", f"group-{group.id}")
    )
    ida.post(f"/notes/{accepted}/accept")
    _suggest(ann, session, "Soviet Kussia ", "", f"group-{group.id}")
    notebook = ann.get("/api/v1/exports/notebook.md").get_data(as_text=True)
    assert "Suggested correction: “brought hack” → “brought back” (accepted)" in notebook
    assert "Suggested correction: “Soviet Kussia ” → (the words deleted) (open)" in notebook
    raw = ida.get(f"/api/v1/exports/groups/{group.id}.csv").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [row["suggestion"] for row in rows] == [
        "“brought hack” → “brought back” (accepted)",
        "“Soviet Kussia ” → (the words deleted) (open)",
    ]


def test_every_note_reads_its_words_and_context_after_an_accept(session, seminar):
    """Notes far from the edit are carried over in bulk, those near it one by one: either way
    each stands on its own words, its quote's context as the new revision has it."""
    ida, ann, ben, _, _ = seminar
    content = _content(session)
    edit_at = content.index("Soviet Kussia")
    notes = [
        _note(session, ben.user, *_span_of(session, words), "x", public=True)
        for words in (
            *("Kopp, the Soviet", "secret discussions", "to Moscow a scheme", "by German"),
            *("firms of guns", "The response was favourable", "Genoa", "Lenin greeted"),
        )
    ]
    suggestion = _suggestion_id(_suggest(ann, session, "Soviet Kussia", "Soviet Russia (sic)"))
    assert ida.post(f"/notes/{suggestion}/accept").status_code == 302
    session = fresh(session)
    revision = session.scalar(select(Text).where(Text.slug == factories.SLUG)).current_revision
    new = revision.content
    assert new.index("Soviet Russia (sic)") == edit_at
    for note in (session.get(Annotation, n) for n in notes):
        assert note.revision_id == revision.id
        assert new[note.start : note.end] == note.exact
        assert note.prefix == new[max(0, note.start - CONTEXT_CHARS) : note.start]
        assert note.suffix == new[note.end : note.end + CONTEXT_CHARS]


def _reimport(session, old: str, new: str) -> None:
    """The text imported again from the command line, with ``old`` become ``new``."""
    words = SEED.read_text(encoding="utf-8").replace(old, new)
    importer.store(session, importer.parse_file(words.encode(), SEED.name), SEED.name)
    session.commit()


def test_accepting_after_the_text_was_imported_again(session, seminar):
    """A new revision under an open suggestion: still on its words, it is accepted on top of
    it; its words changed by the import, it is refused, and the text stays as imported."""
    ida, ann, _, _, _ = seminar
    on_top = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    under = _suggestion_id(_suggest(ann, session, "brought hack", "brought back"))
    _reimport(session, "Soviet Kussia", "Soviet Russia")
    assert ida.post(f"/notes/{on_top}/accept").status_code == 302
    assert _revisions(session) == 3
    content = _content(session)
    assert "Reichswehr, were" in content and "Soviet Russia by German" in content
    _reimport(session, "brought hack", "brought it back")
    response = ida.post(f"/notes/{under}/accept")
    assert "The text changed under this suggestion" in factories.flashed(ida, response)
    assert _status(session, under) is SuggestionStatus.OPEN
    assert "brought it back" in _content(session) and _revisions(session) == 4


def test_a_groups_accepted_suggestion_tells_the_public_only_the_words(app, session, seminar):
    """History, diff, search and the page show everyone the text's new words, never the
    suggester, the reason nor the discussion: those are the group's."""
    ida, ann, _, cy, group = seminar
    suggestion = _suggestion_id(
        _suggest(ann, session, "Rcichswehr", "Reichswehr", f"group-{group.id}", "Zanzibar")
    )
    assert ida.post(f"/notes/{suggestion}/accept").status_code == 302
    anonymous = app.test_client()
    for path in (
        f"{PAGE}/revisions",
        f"{PAGE}/revisions/compare?from=1&to=2",
        PAGE,
        "/search?q=zanzibar",
        "/api/v1/search?q=zanzibar",
    ):
        for client in (anonymous, cy.client):
            page = client.get(path).get_data(as_text=True)
            assert "Zanzibar" not in page and "Ann Student" not in page, (path, client)
    assert "Reichswehr" in anonymous.get(f"{PAGE}/revisions").get_data(as_text=True)
    assert (
        factories.annotation_id(ann.get("/api/v1/search?q=zanzibar").get_json()["items"][0])
        == suggestion
    )


def _wait_for_a_lock_wait(engine) -> None:
    """On PostgreSQL, until a connection waits on a row lock (SQLite's writers queue for its
    one lock with nothing to look at: there the order is the same either way)."""
    if engine.dialect.name != "postgresql":
        return
    waiting = sql_text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    for _ in range(600):
        with engine.connect() as connection:
            if connection.scalar(waiting):
                return
        threading.Event().wait(0.1)
    raise AssertionError("the note's request never waited for the accept")


def test_a_note_written_while_an_accept_commits_stands_on_the_new_revision(
    session, engine, seminar, monkeypatch
):
    """The reader's page had the old words: the note, stored once the accept is done, is on
    the new revision and its words (not the old revision's offsets on the new text)."""
    ida, ann, ben, _, _ = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Soviet Kussia", "Soviet Russia (sic)"))
    text = fresh(session).scalar(select(Text).where(Text.slug == factories.SLUG))
    assert ida.token and ben.token  # signed in before the race
    paused, go = threading.Event(), threading.Event()
    reanchor = annotations.reanchor

    def reanchor_then_wait(*args, **kwargs):  # the accept, its notes moved, not yet committed
        moved = reanchor(*args, **kwargs)
        paused.set()
        go.wait(timeout=60)
        return moved

    monkeypatch.setattr(annotations, "reanchor", reanchor_then_wait)
    answers, notes = [], []
    accepting = threading.Thread(
        target=lambda: answers.append(ida.post(f"/notes/{suggestion}/accept").status_code)
    )
    accepting.start()
    assert paused.wait(timeout=60)
    writing = threading.Thread(
        target=lambda: notes.append(
            factories.api_note(ben, text, "by German firms", "Which?", visibility="public")
        )
    )
    writing.start()
    _wait_for_a_lock_wait(engine)
    go.set()
    accepting.join(timeout=60)
    writing.join(timeout=60)
    assert answers == [302] and len(notes) == 1
    session = fresh(session)
    note = session.get(Annotation, notes[0])
    current = session.get(Text, text.id).current_revision
    assert note.revision_id == current.id
    assert current.content[note.start : note.end] == note.exact == "by German firms"


def test_a_suggestion_is_not_moved_to_only_me(session, seminar):
    """Made private afterwards, no one who decides could read it: refused as when suggesting;
    moved to the author's group it stays a suggestion the group's instructors decide."""
    ida, ann, _, _, group = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    path = f"/api/v1/annotations/{suggestion}"
    response = ann.api("PATCH", path, {"scholia:visibility": "private"})
    assert response.status_code == 422
    assert "share it with a group or make it public" in response.get_json()["detail"]
    form = ann.post(f"/notes/{suggestion}/visibility", audience="private", confirm="1")
    assert "share it with a group or make it public" in _refusal(ann, form)
    moved = {"scholia:visibility": "group", "scholia:group": group.id}
    assert ann.api("PATCH", path, moved).status_code == 200
    assert ida.post(f"/notes/{suggestion}/accept").status_code == 302
    assert _status(session, suggestion) is SuggestionStatus.ACCEPTED


def test_an_import_does_not_carry_a_suggestion_onto_the_same_words_elsewhere(session, seminar):
    """The suggestion was on the first "Reichswehr"; the import took that sentence out: found
    again on the other one, accepting it would change words nobody pointed at."""
    ida, ann, _, _, _ = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Reichswehr", "army"))
    _reimport(session, "discussions with the Reichswehr, brought", "discussions, brought")
    assert fresh(session).get(Annotation, suggestion).is_orphan
    response = ida.post(f"/notes/{suggestion}/accept")
    assert "The text changed under this suggestion" in factories.flashed(ida, response)
    assert "both to the Reichswehr and" in _content(session) and _revisions(session) == 2
