"""Suggested corrections: a reader suggests, an instructor of a group reading the text (or an
admin) accepts or declines; accepting makes a revision and every note stays on its words. The
text's revisions are listed and any two compared word by word."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from app.models import (
    Annotation,
    Motivation,
    ParagraphRole,
    Role,
    SuggestionStatus,
    Text,
    TextRevision,
    Visibility,
)
from app.services import annotations, corrections, groups, search
from app.services.access import ANONYMOUS, Action, can, viewer_for
from app.services.annotations.spans import Edit
from tests import factories
from tests.factories import PAGE, SLUG, dom, flashed, fresh, recorded_queries, text_of

# The Carr excerpt's OCR errors, and what they should read.
OCR = {
    "brought hack": "brought back",
    "Soviet Kussia": "Soviet Russia",
    "Rcichswehr": "Reichswehr",
    "Were not expected": "were not expected",
}

# What the diff shows of each: the words that differ.
CHANGED_WORDS = {
    "brought hack": ("hack", "back"),
    "Soviet Kussia": ("Kussia", "Russia"),
    "Rcichswehr": ("Rcichswehr", "Reichswehr"),
    "Were not expected": ("Were", "were"),
}


@pytest.fixture
def seminar(app, session, seeded):
    """Ida teaches Ann and Ben, and has the Carr excerpt on the reading list; Cy reads alone."""
    ida, ann, ben, cy, group = factories.seminar_of_four(app, session)
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG)
    session.commit()
    return ida, ann, ben, cy, group


def _content(session) -> str:
    text = fresh(session).scalar(select(Text).where(Text.slug == SLUG))
    return text.current_revision.content


def _note(session, user, start, end, body="", *, group=None, public=False, question=False):
    visibility = Visibility.PUBLIC if public else Visibility.GROUP if group else Visibility.PRIVATE
    motivation = Motivation.COMMENTING if body else Motivation.HIGHLIGHTING
    draft = annotations.Draft(
        text_slug=SLUG,
        motivation=Motivation.QUESTIONING if question else motivation,
        body=body,
        target=annotations.SpanTarget(start=start, end=end),
        visibility=visibility,
        group_id=group.id if group else None,
    )
    note = annotations.create(session, viewer_for(session, user), draft)
    session.commit()
    return note.id


def _suggest(browser, session, words, replacement, audience="public", reason="OCR error"):
    content = _content(session)
    start = content.index(words)
    return browser.post(
        f"{PAGE}/suggestions",
        start=str(start),
        end=str(start + len(words)),
        exact=words,
        replacement=replacement,
        body=reason,
        audience=audience,
    )


def _suggestion_id(response) -> int:
    assert response.status_code == 302, response.status_code
    return int(re.search(r"#a(\d+)$", response.headers["Location"]).group(1))


def test_the_four_ocr_corrections_keep_every_note_on_its_words(session, seminar):
    ida, ann, ben, cy, group = seminar
    content = original = _content(session)
    text = session.scalar(select(Text).where(Text.slug == SLUG))
    spans = text.current_revision.spans()
    authors = [ann, ben, cy, ida]
    # A note (or highlight) by someone on every paragraph: its first words.
    for n, span in enumerate(spans):
        end = span.start + min(30, span.end - span.start)
        who = authors[n % 4]
        kind = n % 3
        note = _note(
            session,
            who.user,
            span.start,
            end,
            "" if kind == 0 else f"On ¶{n + 1}",
            group=group if who in (ann, ben, ida) and kind == 1 else None,
            public=kind == 2,
        )
        if kind == 2:
            factories.form_reply(ann if who is not ann else ben, note, "Agreed.")
    # On each error, around it, overlapping it, and right next to it on both sides.
    for words in OCR:
        start = content.index(words)
        end = start + len(words)
        _note(session, ann.user, start, end, "On the error", group=group)
        _note(session, ben.user, start, end, public=True)  # a highlight
        _note(session, cy.user, start - 12, end + 9, "Around it", public=True)
        _note(session, ida.user, start - 10, start, "Just before")
        _note(session, ann.user, end, end + 8, "Just after", group=group)
        _note(session, ben.user, start + 2, end + 6, "Overlapping", public=True, question=True)
    before = {a.id: a.written_revision_id for a in fresh(session).scalars(select(Annotation)).all()}
    revisions_before = session.scalar(select(func.count(TextRevision.id)))

    suggestions = {}
    for i, (words, fix) in enumerate(OCR.items()):
        who = (ann, ben, cy, ann)[i]
        audience = f"group-{group.id}" if who is ann else "public"
        suggestions[words] = _suggestion_id(_suggest(who, session, words, fix, audience))
        factories.form_reply(ben if who is not ben else ann, suggestions[words], "Yes, a typo.")
    for words, suggestion_id in suggestions.items():
        response = ida.post(f"/notes/{suggestion_id}/accept")
        page = flashed(ida, response)
        assert "Every note is still on its words" in text_of(dom(page))
        assert f"Suggested: [remove: {words}]" in text_of(dom(page).select_one(".suggestion"))

    session = fresh(session)
    text = session.scalar(select(Text).where(Text.slug == SLUG))
    content = text.current_revision.content
    everything = session.scalars(select(Annotation).where(Annotation.exact.is_not(None))).all()
    assert everything and all(a.start is not None for a in everything), "no orphan"
    for a in everything:
        assert a.revision_id == text.current_revision_id
        assert content[a.start : a.end] == a.exact, a.id
    written = {a.id: a.written_revision_id for a in session.scalars(select(Annotation))}
    assert {k: written[k] for k in before} == before
    assert set(before.values()) == {text.revisions[0].id}
    for words, fix in OCR.items():
        assert words not in content and fix in content
        on_it = session.get(Annotation, suggestions[words])
        assert on_it.exact == fix
        assert on_it.suggestion.status is SuggestionStatus.ACCEPTED
        assert on_it.suggestion.decided_by_id == ida.user.id
        assert fix in [a.exact for a in everything if a.body_source == "On the error"]
    assert session.scalar(select(func.count(TextRevision.id))) == revisions_before + 4
    assert text.current_revision.number == 5
    # The suggester is named to every reader of the history only for a public suggestion.
    summaries = [r.summary for r in text.revisions]
    assert summaries[2] == "Accepted suggestion by Ben Student: ‘Soviet Kussia’ → ‘Soviet Russia’"
    assert summaries[4] == (
        "Accepted a suggested correction: ‘Were not expected’ → ‘were not expected’"
    )
    assert all(r.created_by_id == ida.user.id for r in text.revisions[1:])

    # The diff of revision 1 and 5: exactly the four changes, word by word.
    page = dom(cy.html(f"{PAGE}/revisions/compare?from=1&to=5"))
    removed = [text_of(d).removeprefix("[removed: ").removesuffix("]") for d in page.select("del")]
    added = [text_of(i).removeprefix("[added: ").removesuffix("]") for i in page.select("ins")]
    in_the_text = sorted(OCR, key=original.index)
    assert list(zip(removed, added, strict=True)) == [CHANGED_WORDS[w] for w in in_the_text]
    history = dom(cy.html(f"{PAGE}/revisions"))
    assert len(history.select(".revision-list > li")) == 5
    assert "‘Rcichswehr’ → ‘Reichswehr’" in text_of(history)

    # Search finds the corrected words, not the errors.
    viewer = viewer_for(session, cy.user)
    found = search.search(session, viewer, search.parse({"q": "Reichswehr"}, viewer))
    assert any(hit.kind == "paragraph" for hit in found.hits)
    found = search.search(session, ANONYMOUS, search.parse({"q": "Rcichswehr"}, ANONYMOUS))
    assert not [hit for hit in found.hits if hit.kind == "paragraph"]

    # The next page load reads the new words.
    reading = ida.html(PAGE)
    assert "Soviet Russia" in text_of(dom(reading).select_one(".excerpt"))
    assert "Kussia" not in text_of(dom(reading).select_one(".excerpt"))
    revision_line = text_of(dom(reading).select_one(".revisions-link"))
    assert revision_line == "Revision 5 of this text · history and changes"
    # A note written now is written on revision 5; those from before still say 1.
    later = factories.api_note(ann, text, "Soviet Russia", "After the corrections")
    assert "written on revision 5" in text_of(dom(ann.html(f"/notes/{later}")))
    assert "written on revision 1" in text_of(dom(ann.html(f"/notes/{suggestions['Rcichswehr']}")))


def test_the_reading_page_shows_a_suggestion_without_javascript(app, session, seminar, client):
    ida, ann, _, _, _ = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    card = dom(client.get(PAGE).get_data(as_text=True)).select_one(f"#a{suggestion}")
    assert text_of(card.select_one(".suggestion del")) == "[remove: Rcichswehr]"
    assert text_of(card.select_one(".suggestion ins")) == "[put: Reichswehr]"
    assert "Open" in text_of(card.select_one(".suggestion-state"))
    # Only those who decide have the buttons, on the note's page.
    assert not dom(ann.html(f"/notes/{suggestion}")).select(".suggestion-decide button")
    buttons = dom(ida.html(f"/notes/{suggestion}")).select(".suggestion-decide button")
    assert [text_of(b) for b in buttons] == ["Accept", "Decline"]
    assert dom(ann.html(f"/notes/{suggestion}")).find(string=re.compile("written on revision 1"))

    page = flashed(ida, ida.post(f"/notes/{suggestion}/decline"))
    assert "Declined by Ida Teacher" in text_of(dom(page).select_one(".suggestion-state"))
    assert not dom(page).select(".suggestion-decide button")
    # Declined, it stays for discussion, and cannot be accepted afterwards.
    assert factories.form_reply(ann, suggestion, "Why not?")
    response = ida.post(f"/notes/{suggestion}/accept")
    assert "already declined" in flashed(ida, response)
    assert "Rcichswehr" in _content(session)


def _co_teacher(app, session, ida, group):
    """A second instructor of Ida's group (the owner's own role never changes)."""
    co = factories.sign_in(app, session, "Co Teacher")
    groups.join(session, viewer_for(session, co.user), group.invite_code)
    session.commit()
    groups.set_role(session, viewer_for(session, ida.user), group.id, co.user.id, Role.INSTRUCTOR)
    session.commit()
    return co


def _viewer(session, browser):
    return viewer_for(fresh(session), browser.user)


def test_who_decides_over_time(app, session, seminar):
    ida, ann, ben, cy, group = seminar
    admin = factories.sign_in(app, session, "Root Admin", is_admin=True)
    co = _co_teacher(app, session, ida, group)
    public_id = _suggestion_id(_suggest(cy, session, "Rcichswehr", "R"))
    grouped_id = _suggestion_id(_suggest(ann, session, "brought hack", "b", f"group-{group.id}"))
    public, grouped = (fresh(session).get(Annotation, n) for n in (public_id, grouped_id))
    other_ida = factories.sign_in(app, session, "Other Teacher")
    other_group = factories.make_group(session, other_ida.user, name="Other seminar")
    groups.add_reading(session, viewer_for(session, other_ida.user), other_group.id, SLUG)
    session.commit()

    def decides(browser, suggestion) -> bool:
        return corrections.may_decide(session, _viewer(session, browser), suggestion)

    matrix = {
        (ida, "public"): True,
        (ida, "group"): True,
        (co, "group"): True,
        (admin, "public"): True,
        (admin, "group"): True,
        (other_ida, "public"): True,  # teaches a group reading the text
        (other_ida, "group"): False,  # but may not see that group's suggestion
        (ann, "public"): False,
        (ann, "group"): False,  # its author, a member
        (cy, "public"): False,  # its author
        (ben, "group"): False,
    }
    for (who, which), expected in matrix.items():
        suggestion = public if which == "public" else grouped
        assert decides(who, suggestion) is expected, (who.user.display_name, which)
    assert not can(ANONYMOUS, Action.DECIDE, public, {group.id})
    # A note is not a suggestion, whoever asks.
    note = session.get(Annotation, _note(session, cy.user, 0, 5, "x", public=True))
    assert not decides(ida, note) and not decides(admin, note)

    # Over time: demoted, the text off the reading list, removed from the group.
    groups.set_role(session, viewer_for(session, ida.user), group.id, co.user.id, Role.MEMBER)
    session.commit()
    assert not decides(co, public) and not decides(co, grouped)
    assert co.post(f"/notes/{public.id}/accept").status_code == 403
    [assignment] = other_group.assignments
    groups.remove_reading(
        session, viewer_for(session, other_ida.user), other_group.id, assignment.id
    )
    session.commit()
    assert not decides(other_ida, public)
    assert other_ida.post(f"/notes/{public.id}/decline").status_code == 403
    assert decides(admin, grouped)
    # Those who may not see it learn nothing of it.
    assert cy.post(f"/notes/{grouped.id}/accept").status_code == 404
    assert fresh(session).get(Annotation, public.id).suggestion.status is SuggestionStatus.OPEN


def test_a_removed_instructor_no_longer_decides(app, session, seminar):
    ida, ann, _, _, group = seminar
    co = _co_teacher(app, session, ida, group)
    grouped = _suggestion_id(
        _suggest(ann, session, "brought hack", "brought back", f"group-{group.id}")
    )
    assert corrections.may_decide(session, _viewer(session, co), session.get(Annotation, grouped))
    groups.remove_member(session, viewer_for(session, ida.user), group.id, co.user.id)
    session.commit()
    assert co.post(f"/notes/{grouped}/accept").status_code == 404
    assert not corrections.may_decide(
        session, _viewer(session, co), fresh(session).get(Annotation, grouped)
    )


@pytest.mark.parametrize(
    ("replacement", "audience", "message"),
    [
        ("brought\n\nback", "public", "cannot start a new paragraph"),
        ("b" * 100_000, "public", "at most 2,000 characters"),
        ("brought hack", "public", "the same as the words"),
        ("brought back", "private", "share it with a group or make it public"),
    ],
)
def test_odd_suggestions_are_refused_with_a_reason(
    session, seminar, replacement, audience, message
):
    _, ann, _, _, _ = seminar
    response = _suggest(ann, session, "brought hack", replacement, audience)
    assert response.status_code in (302, 400, 413, 422)
    page = (
        flashed(ann, response) if response.status_code == 302 else response.get_data(as_text=True)
    )
    assert message in text_of(dom(page))
    assert fresh(session).scalar(select(func.count()).select_from(Annotation)) == 0


def test_an_empty_replacement_deletes_the_words(session, seminar):
    """Its notes on nothing but the deleted words lose them, and the accepter is told which
    (only those they may see: a private note's existence is its author's alone)."""
    ida, ann, ben, _, _ = seminar
    lost = _note(session, ben.user, *_span_of(session, "hack"), "Hack?", public=True)
    private = _note(session, ben.user, *_span_of(session, "hack"), "Mine")
    kept = _note(session, ben.user, *_span_of(session, "brought hack to"), "Kept", public=True)
    suggestion = _suggestion_id(_suggest(ann, session, "brought hack ", ""))
    card = dom(ann.html(f"/notes/{suggestion}")).select_one(".suggestion")
    assert "(the words deleted)" in text_of(card)
    message = text_of(dom(flashed(ida, ida.post(f"/notes/{suggestion}/accept"))))
    assert (
        f"1 note lost its words (listed under Notes whose text has changed): “hack” (note {lost})"
        in message
    )
    assert f"(note {private})" not in message
    content = _content(session)
    assert "Reichswehr, to Moscow a scheme" in content
    session = fresh(session)
    assert session.get(Annotation, lost).is_orphan and session.get(Annotation, private).is_orphan
    assert session.get(Annotation, kept).exact == "to"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Two suggestions on the same words: once one is accepted, the other's words are gone.
        (("Soviet Kussia", "Soviet Russia"), ("Soviet Kussia", "Soviet Prussia")),
        # One on words that another, wider, one replaces.
        (("the head of the Rcichswehr", "Seeckt's army"), ("Rcichswehr", "Reichswehr")),
    ],
)
def test_accepting_twice_or_a_stale_suggestion_is_a_conflict(session, seminar, first, second):
    ida, ann, ben, _, _ = seminar
    accepted = _suggestion_id(_suggest(ann, session, *first))
    stale = _suggestion_id(_suggest(ben, session, *second))
    assert ida.post(f"/notes/{accepted}/accept").status_code == 302
    response = ida.post(f"/notes/{accepted}/accept")
    assert "already accepted: revision 2 made it" in flashed(ida, response)
    response = ida.post(f"/notes/{stale}/accept")
    assert "The text changed under this suggestion" in flashed(ida, response)
    session = fresh(session)
    assert session.scalar(select(func.count(TextRevision.id))) == 2
    assert session.get(Annotation, stale).suggestion.status is SuggestionStatus.OPEN
    assert first[1] in _content(session)


def test_deciding_needs_the_csrf_token(session, seminar):
    ida, ann, _, _, _ = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    for action in ("accept", "decline"):
        response = ida.client.post(f"/notes/{suggestion}/{action}")
        assert response.status_code == 400
    assert fresh(session).get(Annotation, suggestion).suggestion.status is SuggestionStatus.OPEN


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=1&to=9", 404),
        ("from=1", 400),
        ("from=x&to=1", 400),
        ("from=99999999999999999999&to=1", 400),
    ],
)
def test_bad_revisions_to_compare(client, seeded, query, status):
    response = client.get(f"{PAGE}/revisions/compare?{query}")
    assert response.status_code == status


def test_no_text_no_history(client, seeded):
    assert client.get("/texts/nothing-here/revisions").status_code == 404
    assert client.get("/texts/nothing-here/revisions/compare?from=1&to=1").status_code == 404


def test_the_diff_escapes_the_words(session, seminar):
    ida, ann, _, _, _ = seminar
    suggestion = _suggestion_id(_suggest(ann, session, "Rcichswehr", "<b>Reichswehr</b>"))
    ida.post(f"/notes/{suggestion}/accept")
    page = ida.html(f"{PAGE}/revisions/compare?from=1&to=2")
    assert "&lt;b&gt;Reichswehr&lt;/b&gt;" in page and "<b>Reichswehr" not in page


def _api_suggestion(browser, session, words, bodies, visibility="public"):
    content = _content(session)
    start = content.index(words)
    return browser.api(
        "POST",
        "/api/v1/annotations",
        {
            "type": "Annotation",
            "motivation": "editing",
            "body": bodies,
            "target": {
                "source": factories.TEXT_URL,
                "selector": [
                    {"type": "TextQuoteSelector", "exact": words},
                    {"type": "TextPositionSelector", "start": start, "end": start + len(words)},
                ],
            },
            "scholia:visibility": visibility,
        },
    )


def test_the_api_serves_and_accepts_suggestions(session, seminar):
    ida, ann, _, _, _ = seminar
    bodies = [
        {"type": "TextualBody", "purpose": "editing", "value": "Reichswehr"},
        {"type": "TextualBody", "purpose": "commenting", "value": "An OCR error"},
    ]
    response = _api_suggestion(ann, session, "Rcichswehr", bodies)
    assert response.status_code == 201, response.get_json()
    served = response.get_json()
    assert served["motivation"] == "editing"
    assert served["scholia:suggestion"] == "open"
    assert {"purpose": "editing", "value": "Reichswehr"}.items() <= served["body"][1].items()
    assert served["body"][0]["value"] == "An OCR error"
    suggestion = factories.annotation_id(served)
    assert ida.post(f"/notes/{suggestion}/accept").status_code == 302
    again = ann.api("GET", f"/api/v1/annotations/{suggestion}").get_json()
    assert again["scholia:suggestion"] == "accepted"
    assert again["target"]["selector"][0]["exact"] == "Reichswehr"
    # A note does not become a suggestion, nor a suggestion a note.
    patched = ann.api("PATCH", f"/api/v1/annotations/{suggestion}", {"motivation": "commenting"})
    assert patched.status_code == 409


EDITING = "editing"


@pytest.mark.parametrize(
    ("bodies", "visibility", "status", "message"),
    [
        ([{"type": "TextualBody", "value": "no purpose"}], "public", 422, "purpose 'editing'"),
        ([{"type": "TextualBody", "purpose": EDITING, "value": "R"}], "private", 422, "share"),
        ([{"type": "TextualBody", "purpose": EDITING, "value": 3}], "public", 400, "string"),
    ],
)
def test_the_api_refuses_odd_suggestions(session, seminar, bodies, visibility, status, message):
    _, ann, _, _, _ = seminar
    response = _api_suggestion(ann, session, "Rcichswehr", bodies, visibility)
    assert response.status_code == status
    assert message in response.get_json()["detail"]


@pytest.mark.parametrize("same", [True, False], ids=["one suggestion", "two suggestions"])
def test_two_accepts_at_once(app, session, seminar, same):
    """Two instructors accept at the same moment: the same suggestion is accepted once (the
    other is told it already was), two suggestions make two revisions, one after the other."""
    ida, ann, ben, _, group = seminar
    co = _co_teacher(app, session, ida, group)
    first = _suggestion_id(_suggest(ann, session, "Rcichswehr", "Reichswehr"))
    second = (
        first if same else _suggestion_id(_suggest(ben, session, "brought hack", "brought back"))
    )
    note = _note(session, ben.user, *_span_of(session, "Rcichswehr"), "On the error", public=True)
    assert ida.token and co.token  # both signed in before the race
    barrier = threading.Barrier(2)
    answers = []

    def accept(browser, suggestion):
        barrier.wait()
        answers.append(browser.post(f"/notes/{suggestion}/accept").status_code)

    threads = [threading.Thread(target=accept, args=args) for args in ((ida, first), (co, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [302, 302]
    session = fresh(session)
    revisions = session.scalar(select(func.count(TextRevision.id)))
    assert revisions == (2 if same else 3)
    content = _content(session)
    assert "Reichswehr" in content and ("brought back" in content) is not same
    on_it = session.get(Annotation, note)
    assert content[on_it.start : on_it.end] == on_it.exact == "Reichswehr"


def _span_of(session, words):
    start = _content(session).index(words)
    return start, start + len(words)


def test_a_long_comparison_comes_in_pages(session, client, seeded):
    """Every paragraph of a long text changed: the diff lists 200 a page, each diffed word by
    word, and says how many differ in all."""
    from app.services import importer

    words = [f"Paragraph {n} says something about revolution." for n in range(1, 451)]
    for version in (words, [w.replace("revolution", "evolution") for w in words]):
        parsed = importer.ParsedText("Long", "Anon", "", "long-text")
        parsed.paragraphs = [(ParagraphRole.BODY, w) for w in version]
        importer.store(session, parsed, "long.txt")
        session.commit()
    first = dom(client.get("/texts/long-text/revisions/compare?from=1&to=2").get_data(as_text=True))
    assert "450 paragraphs differ" in text_of(first.select_one(".compare-summary"))
    assert len(first.select(".diff-paragraph")) == 200
    assert [text_of(d) for d in first.select(".diff del")][:1] == ["[removed: revolution]"]
    last = client.get("/texts/long-text/revisions/compare?from=1&to=2&page=3")
    assert len(dom(last.get_data(as_text=True)).select(".diff-paragraph")) == 50
    assert client.get("/texts/long-text/revisions/compare?from=1&to=2&page=4").status_code == 404


# "brought hack to": the edit replaces "h" (offsets 8-9) with "b"; then one that lengthens.
@pytest.mark.parametrize(
    ("edit", "span", "carried"),
    [
        ((8, 9, 1), (0, 7), (0, 7)),  # before it: as it was
        ((8, 9, 1), (0, 8), (0, 8)),  # ending right where it starts
        ((8, 9, 1), (9, 12), (9, 12)),  # starting right where it ends (same length)
        ((8, 9, 3), (9, 12), (11, 14)),  # after a longer replacement: shifted
        ((8, 9, 3), (8, 12), (8, 14)),  # on the changed word: on its new letters
        ((8, 9, 3), (0, 9), (0, 11)),  # ending on the changed letters: to their new end
        ((6, 10, 0), (7, 9), None),  # inside deleted words: nothing left
        ((6, 10, 0), (0, 8), (0, 6)),  # overlapping deleted words: what is left of it
    ],
)
def test_an_edit_carries_a_span_over(edit, span, carried):
    assert Edit(1, *edit).carry(*span) == carried


def test_suggestions_cost_the_same_queries_however_many(app, engine, session, seminar, client):
    """The margin and the API show each suggestion's words and state: read with the page's
    annotations, never one query per suggestion."""
    ann = seminar[1]
    words = ["Rcichswehr", "Soviet Kussia", "Were not expected", "brought hack"]

    def queries(path: str) -> int:
        app.extensions["render_cache"].clear()
        with recorded_queries(engine) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    paths = (PAGE, f"/api/v1/annotations?text={SLUG}")
    _suggest(ann, session, words[0], "a")
    few = [queries(p) for p in paths]
    for quote in words[1:]:
        _suggest(ann, session, quote, "b")
    assert [queries(p) for p in paths] == few
