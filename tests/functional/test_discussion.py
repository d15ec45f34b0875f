"""Sharing, threads, reactions, the inbox, moderation and the live feed, through forms and API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Annotation, Flag, Notification, Reaction, Visibility
from tests import factories
from tests.factories import (
    PAGE,
    SLUG,
    TEXT_URL,
    AuthActions,
    Browser,
    annotation_id,
    api_note,
    api_reply,
    dom,
    flashed,
    form_reply,
    fresh,
    make_group,
    sign_in,
    text_of,
)

EVENTS = f"/api/v1/texts/{SLUG}/events"


# ---- helpers ----------------------------------------------------------------------------------


def _parsed(page):
    return dom(page) if isinstance(page, str) else page


def paragraph_row(page, number: int):
    """Paragraph ``number``'s row: its text and its margin."""
    row = _parsed(page).select_one(f"div.para-row#p{number}")
    assert row is not None, number
    return row


def card_order(page, number: int) -> list[int]:
    """Ids of the note cards in a paragraph's margin, in the order shown."""
    return [
        int(card["id"].removeprefix("a"))
        for card in paragraph_row(page, number).select("article.note")
    ]


def para_count(page, number: int) -> str:
    """What the margin of paragraph ``number`` says of its notes ("3 notes, 1 shown")."""
    (count,) = paragraph_row(page, number).select("p.para-count")
    return text_of(count)


def replies_shown(page) -> dict[int, int]:
    """Every reply on the page (or inside one of its elements): id -> the depth it is drawn at."""
    shown = {}
    for item in _parsed(page).select("li.reply"):
        (depth,) = [c for c in item["class"] if c.startswith("depth-")]
        shown[int(item["id"].removeprefix("a"))] = int(depth.removeprefix("depth-"))
    return shown


def reply_item(page, reply_id: int):
    item = _parsed(page).select_one(f"li.reply#a{reply_id}")
    assert item is not None, reply_id
    return item


def unread_badge(html: str) -> int:
    badges = dom(html).select(".badge")
    if not badges:
        return 0
    (badge,) = badges
    assert [s.get_text() for s in badge.select(".visually-hidden")] == [" unread"], badge
    return int(badge.find(string=True, recursive=False))


def events(browser, after: int) -> tuple[list[tuple[str, int]], int]:
    response = browser.get(EVENTS, query_string={"after": after})
    assert response.status_code == 200
    data = response.get_json()
    return [(e["kind"], e["annotation"]) for e in data["events"]], data["cursor"]


def cursor_now(browser) -> int:
    return browser.get(EVENTS).get_json()["cursor"]


@pytest.fixture
def seminar(app, session, seeded):
    """Ada owns a seminar that Bea and Cy joined; Eve is signed in but belongs to no group."""
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    cy = sign_in(app, session, "Cy")
    eve = sign_in(app, session, "Eve")
    group = make_group(session, ada.user, bea.user, cy.user)
    return {"ada": ada, "bea": bea, "cy": cy, "eve": eve, "group": group, "text": seeded}


# ---- sharing ----------------------------------------------------------------------------------


def test_a_group_note_reaches_the_members_and_nobody_else(app, seminar):
    ada, bea, eve, group, text = (seminar[k] for k in ("ada", "bea", "eve", "group", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "For the seminar", "group", group)
    data = bea.get(f"/api/v1/annotations/{note}").get_json()
    assert data["scholia:visibility"] == "group" and data["scholia:group"] == group.id

    lens = f"{PAGE}?lens=group-{group.id}"
    for member in (ada, bea):
        assert "For the seminar" in member.html(lens)
        assert member.get(f"/api/v1/annotations/{note}").status_code == 200
        listed = member.get(f"/api/v1/annotations?text={SLUG}").get_json()["first"]["items"]
        assert [annotation_id(a) for a in listed] == [note]
    for outsider in (eve, Browser(app)):
        for path in (lens, PAGE, f"{PAGE}?lens=public"):
            page = outsider.html(path)
            assert "For the seminar" not in page and dom(page).select_one(f"#a{note}") is None
        assert outsider.get(f"/api/v1/annotations/{note}").status_code == 404
        assert outsider.get(f"/api/v1/annotations?text={SLUG}").get_json()["total"] == 0


def test_a_public_note_reaches_anonymous_visitors_and_a_private_one_stays_private(
    app, session, seminar
):
    bea, eve, text = seminar["bea"], seminar["eve"], seminar["text"]
    fourth = text.current_revision.spans()[3]
    response = bea.post(
        f"/texts/{SLUG}/notes",
        start=fourth.start,
        end=fourth.end,
        body="Everyone may read this",
        audience="public",
    )
    assert response.status_code == 302
    public_id = int(response.headers["Location"].rsplit("#a", 1)[1])
    private_id = api_note(bea, text, "Krasin", "Only for me")

    anonymous = Browser(app)
    for path in (PAGE, f"{PAGE}?lens=public"):
        page = anonymous.html(path)
        assert "Everyone may read this" in page
        assert "Only for me" not in page and dom(page).select_one(f"#a{private_id}") is None
    assert anonymous.get(f"/api/v1/annotations/{public_id}").status_code == 200
    for other in (anonymous, eve, seminar["ada"]):
        assert other.get(f"/api/v1/annotations/{private_id}").status_code == 404
        for lens in ("mine", "public", f"group-{seminar['group'].id}"):
            assert "Only for me" not in other.html(f"{PAGE}?lens={lens}")
    assert "Only for me" in bea.html(f"{PAGE}?lens=mine")


def test_posting_to_a_group_you_are_not_in_is_refused_with_403(app, session, seminar):
    eve, group, text = seminar["eve"], seminar["group"], seminar["text"]
    fourth = text.current_revision.spans()[3]
    form = eve.post(
        f"/texts/{SLUG}/notes",
        start=fourth.start,
        end=fourth.end,
        body="Gatecrashing",
        audience=f"group-{group.id}",
    )
    assert form.status_code == 403
    content = text.current_revision.content
    start = content.index("Krasin")
    api = eve.api(
        "POST",
        "/api/v1/annotations",
        {
            "type": "Annotation",
            "body": [{"type": "TextualBody", "value": "Gatecrashing"}],
            "target": {
                "source": TEXT_URL,
                "selector": [{"type": "TextPositionSelector", "start": start, "end": start + 6}],
            },
            "scholia:visibility": "group",
            "scholia:group": group.id,
        },
    )
    assert api.status_code == 403
    assert "not a member" in api.get_json()["detail"]
    assert fresh(session).scalars(select(Annotation)).all() == []


def test_changing_a_threads_audience_needs_confirmation_and_moves_every_reply(
    app, session, seminar
):
    ada, cy, group, text = (seminar[k] for k in ("ada", "cy", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Opening question", "group", group)
    reply = form_reply(ada, root, "A first answer")  # others' replies keep a thread in place
    lens = f"{PAGE}?lens=group-{group.id}"
    assert "A first answer" in cy.html(lens)

    refused = ada.post(f"/notes/{root}/visibility", audience="private")
    assert refused.status_code == 400
    assert cy.get(f"/api/v1/annotations/{reply}").status_code == 200

    # A reply's audience is its thread's: it cannot be changed on its own.
    response = ada.post(f"/notes/{reply}/visibility", audience="public", confirm="1")
    assert response.status_code == 403
    assert "A reply has its thread" in response.get_data(as_text=True)
    assert fresh(session).get(Annotation, reply).visibility is Visibility.GROUP

    response = ada.post(f"/notes/{root}/visibility", audience="private", confirm="1")
    assert "Audience changed for the whole thread." in flashed(ada, response)
    fresh(session)
    assert {session.get(Annotation, i).visibility for i in (root, reply)} == {Visibility.PRIVATE}
    assert {session.get(Annotation, i).group_id for i in (root, reply)} == {None}
    for gone in (root, reply):
        assert cy.get(f"/api/v1/annotations/{gone}").status_code == 404
    page = cy.html(lens)
    assert "Opening question" not in page and "A first answer" not in page

    ada.post(f"/notes/{root}/visibility", audience="public", confirm="1")
    anonymous = Browser(app)
    page = anonymous.html(f"{PAGE}?lens=public")
    assert "Opening question" in page and "A first answer" in page
    assert anonymous.get(f"/api/v1/annotations/{reply}").get_json()["scholia:visibility"] == (
        "public"
    )


def test_the_readers_last_audience_is_offered_again_in_the_note_forms(app, seminar):
    bea, group, text = seminar["bea"], seminar["group"], seminar["text"]
    key = f"group-{group.id}"

    def selected(page: str) -> set[str]:
        parsed = dom(page)
        template = parsed.select_one("template#note-form-template")  # its own fragment
        forms = [
            field
            for field in (
                parsed.select('select[name="audience"]')
                + template.select('select[name="audience"]')
            )
            if re.fullmatch(r"audience-(?:text|note|p\d+)", field.get("id", ""))
        ]
        # The whole text's form, the paragraph form's <template> and ¶4's form (opened by ?note=4).
        assert len(forms) == 3
        chosen = [field.select("option[selected]") for field in forms]
        assert all(len(options) == 1 for options in chosen), chosen
        return {options[0]["value"] for options in chosen}

    assert selected(bea.html(f"{PAGE}?note=4")) == {"private"}
    fourth = text.current_revision.spans()[3]
    bea.post(f"/texts/{SLUG}/notes", start=fourth.start, end=fourth.end, body="x", audience=key)
    # A group is offered first in its own lens only (texts.ReadingContext.default_audience) ...
    page = bea.html(f"{PAGE}?note=4&lens={key}")
    assert selected(page) == {key}
    assert dom(page).select_one("article.reading")["data-audience"] == key  # the editor's too
    assert selected(bea.html(f"{PAGE}?note=4")) == {"private"}
    # ... while a choice of Public is offered again everywhere else.
    api_note(bea, text, "Krasin", "y", "public")
    page = bea.html(f"{PAGE}?note=4")
    assert selected(page) == {"public"}
    assert dom(page).select_one("article.reading")["data-audience"] == "public"


# ---- threads ----------------------------------------------------------------------------------


def test_replies_nest_three_deep_then_continue_flat_in_reply_to_their_author(app, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    first = form_reply(bea, root, "Neutral ground")
    second = form_reply(ada, first, "Then why not Stockholm")
    third = form_reply(bea, second, "Prisoners were there")
    fourth = form_reply(cy, third, "Source please")
    fifth = form_reply(ada, fourth, "Page 42")

    page = cy.html(f"{PAGE}?lens=group-{group.id}")
    assert replies_shown(page) == {first: 1, second: 2, third: 3, fourth: 3, fifth: 3}
    for shallow in (first, second, third):
        item = reply_item(page, shallow)
        assert "in reply to" not in text_of(item) and item.select(".in-reply-to") == []

    def in_reply_to(reply: int) -> list[str]:
        return [text_of(span) for span in reply_item(page, reply).select("span.in-reply-to")]

    assert in_reply_to(fourth) == ["in reply to Bea"]
    assert in_reply_to(fifth) == ["in reply to Cy"]
    assert "5 replies" in text_of(paragraph_row(page, 4))
    # Threads are drawn in reading order: each reply under the one it answers.
    assert list(replies_shown(page)) == [first, second, third, fourth, fifth]


def test_the_margin_closes_a_thread_under_its_count_and_the_notes_page_shows_it_open(app, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    alone = api_note(ada, text, "Krasin", "Trade expert", "group", group)
    first = form_reply(bea, root, "Neutral ground")
    second = form_reply(ada, first, "Then why not Stockholm")

    page = dom(bea.html(f"{PAGE}?lens=group-{group.id}"))
    assert card_order(page, 4) == [root, alone]
    margin = paragraph_row(page, 4)
    card = margin.select_one(f"article#a{root}")
    threads = card.select("details.replies")
    assert len(threads) == 1, card
    thread = threads[0]
    assert thread["id"] == f"replies-{root}" and not thread.has_attr("open")
    summary = thread.find("summary", recursive=False)
    assert summary.get_text() == "2 replies to Ada Lovelace’s note"
    assert [s.get_text() for s in summary.select(".visually-hidden")] == [" to Ada Lovelace’s note"]
    assert list(replies_shown(thread)) == [first, second]  # the replies, inside it
    assert text_of(card).count("2 replies") == 1  # said once, by the summary
    # A note without replies has no thread to open.
    assert margin.select_one(f"#replies-{alone}") is None

    # The note's own page is its discussion: the thread is open there.
    page = bea.html(f"/notes/{root}")
    assert dom(page).select(".replies") == []
    assert list(replies_shown(page)) == [first, second]
    assert "· 2 replies" in page


def test_a_reader_sent_back_after_replying_finds_the_note_shown_and_its_thread_open(
    app, seminar, monkeypatch
):
    from app.views import library

    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    first = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    later = api_note(ada, text, "Krasin", "Trade expert", "group", group)
    monkeypatch.setattr(library, "MARGIN_NOTES", 1)  # a full margin: ``later`` is left out
    lens = f"{PAGE}?lens=group-{group.id}"
    assert card_order(bea.html(lens), 4) == [first]

    response = bea.post(f"/notes/{later}/reply", body="Which Krasin?")
    assert response.status_code == 302
    reply = int(re.search(r"#a(\d+)$", response.headers["Location"]).group(1))
    assert f"focus={later}" in response.headers["Location"]
    assert f"lens=group-{group.id}" in response.headers["Location"]  # where the note is shown
    page = dom(bea.html(response.headers["Location"].split("#")[0]))
    assert card_order(page, 4) == [first, later]  # brought in, after the one the margin shows
    assert para_count(page, 4) == "2 notes"  # none left to show
    thread = page.select_one(f"details.replies#replies-{later}")
    assert thread is not None and thread.has_attr("open")
    assert reply in replies_shown(page)
    # Only that thread: the others stay closed, and a focus on nothing visible changes nothing.
    bea.post(f"/notes/{first}/reply", body="Neutral ground")
    thread = dom(bea.html(f"{lens}&focus={later}")).select_one(f"details.replies#replies-{first}")
    assert thread is not None and not thread.has_attr("open")
    assert card_order(bea.html(f"{lens}&focus=999999"), 4) == [first]
    assert card_order(bea.html(f"{lens}&focus=nonsense"), 4) == [first]


def test_a_refused_reply_comes_back_with_its_words(app, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    words = "Neutral ground & a harbour. " * 800  # over the limit: refused, not lost
    refused = bea.post(f"/notes/{root}/reply", body=words)
    assert refused.status_code == 413
    form = dom(refused.get_data(as_text=True)).select_one(f'form[action="/notes/{root}/reply"]')
    assert form is not None
    assert form.select_one("textarea").get_text() == words  # every one of them
    assert form_reply(bea, root, "Neutral ground") > root  # sent again, shorter, it is stored


def test_a_reply_takes_its_roots_audience_and_no_other(app, seminar):
    ada, bea, eve, group, text = (seminar[k] for k in ("ada", "bea", "eve", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    # One written for another audience is not posted: its writer meant other readers.
    refused = api_reply(bea, root, "Neutral ground", **{"scholia:visibility": "public"})
    assert refused.status_code == 409 and "thread's audience" in refused.get_json()["detail"]
    response = api_reply(bea, root, "Neutral ground")
    assert response.status_code == 201
    data = response.get_json()
    assert data["target"] == f"http://localhost/api/v1/texts/{SLUG}/annotations/{root}"
    assert data["scholia:root"] == f"http://localhost/api/v1/texts/{SLUG}/annotations/{root}"
    assert data["scholia:visibility"] == "group" and data["scholia:group"] == group.id
    reply = annotation_id(data)
    assert eve.get(f"/api/v1/annotations/{reply}").status_code == 404
    assert Browser(app).get(f"/api/v1/annotations/{reply}").status_code == 404
    # Replying to a reply: same thread, same audience.
    nested = api_reply(ada, reply, "Agreed").get_json()
    assert nested["scholia:root"] == data["scholia:root"]
    assert nested["target"] == data["id"]
    assert nested["scholia:visibility"] == "group"
    # Nobody replies to what they cannot see.
    assert api_reply(eve, root, "Let me in").status_code == 404


def test_deleting_a_reply_leaves_a_placeholder_only_while_something_answers_it(app, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    root = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    answered = form_reply(bea, root, "Words I regret")
    answer = form_reply(ada, answered, "Still a fair point")
    leaf = form_reply(bea, root, "A passing remark")
    lens = f"{PAGE}?lens=group-{group.id}"
    assert "3 replies" in ada.html(lens)

    assert bea.post(f"/notes/{answered}/delete").status_code == 302
    page = ada.html(lens)
    assert "Words I regret" not in page
    deleted = reply_item(page, answered).select("p.deleted-note")
    assert [text_of(p) for p in deleted] == ["Reply deleted."]
    assert "Still a fair point" in text_of(reply_item(page, answer))
    assert replies_shown(page) == {answered: 1, answer: 2, leaf: 1}

    assert bea.post(f"/notes/{leaf}/delete").status_code == 302
    page = ada.html(lens)
    assert "A passing remark" not in page and dom(page).select_one(f"#a{leaf}") is None
    assert replies_shown(page) == {answered: 1, answer: 2}
    assert "1 reply" in text_of(paragraph_row(page, 4))

    # Once nothing answers it any more, the placeholder goes too.
    assert ada.post(f"/notes/{answer}/delete").status_code == 302
    page = ada.html(lens)
    assert replies_shown(page) == {}
    assert "Reply deleted." not in page


def test_a_paragraph_discussion_starts_with_its_first_post_one_thread_per_group(
    app, session, seminar
):
    ada, bea, eve, group, text = (seminar[k] for k in ("ada", "bea", "eve", "group", "text"))
    other = make_group(session, eve.user, name="Other seminar")
    lens = f"{PAGE}?lens=group-{group.id}"
    action = f"/texts/{SLUG}/discuss/{group.id}/4"

    page = dom(bea.html(lens))
    # A link that opens the form in place (margin.js), or without JavaScript on this page.
    links = paragraph_row(page, 4).select(f'a[data-action="{action}"]')
    assert [text_of(a) for a in links] == ["Discuss ¶4"]
    assert page.select(f'form[action="{action}"]') == []
    opened = paragraph_row(bea.html(f"{lens}&discuss=4"), 4)
    (form,) = opened.select(f'form[action="{action}"]')
    assert form["method"] == "post"
    assert "Say something about ¶4" in text_of(form) and form.select_one("textarea#discuss-4")
    assert "Discuss ¶4" not in bea.html(f"{PAGE}?lens=mine")  # only in a group's lens
    discussions = select(Annotation).where(Annotation.is_discussion.is_(True))
    assert fresh(session).scalars(discussions).all() == []

    response = bea.post(action, body="What does **NEP** change here?")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/texts/{SLUG}?lens=group-{group.id}#a")
    ada.post(action, body="Trade before recognition")
    threads = fresh(session).scalars(discussions).all()
    assert len(threads) == 1
    thread = threads[0]
    fourth = text.current_revision.spans()[3]
    assert (thread.group_id, thread.start, thread.end) == (group.id, fourth.start, fourth.end)
    replies = session.scalars(select(Annotation).where(Annotation.root_id == thread.id)).all()
    assert len(replies) == 2

    page = dom(ada.html(lens))
    row = paragraph_row(page, 4)
    assert "Discussion of ¶4 (2)" in text_of(row)
    assert "NEP" in [text_of(b) for b in row.select("strong")]
    assert "Trade before recognition" in text_of(row)
    assert row.select(".para-count") == []  # the thread is not counted as a note
    # Not started yet: a link to start it.
    assert "Discussion of ¶5" not in text_of(page)
    assert "Discuss ¶5" in [text_of(a) for a in paragraph_row(page, 5).select("a")]

    # Another group's ¶4 is another thread; outsiders can neither read nor post.
    eve_page = eve.html(f"{PAGE}?lens=group-{other.id}")
    assert "Trade before recognition" not in eve_page and "Discussion of ¶4" not in eve_page
    assert eve.post(action, body="Let me in").status_code == 404
    eve.post(f"/texts/{SLUG}/discuss/{other.id}/4", body="Ours")
    assert len(fresh(session).scalars(discussions).all()) == 2
    assert "Ours" not in ada.html(lens)
    # Starting a thread notifies nobody: it is the group's, not the first poster's.
    assert ada.get("/inbox").get_data(as_text=True).count("replied to you") == 0
    assert bea.get("/inbox").get_data(as_text=True).count("replied to you") == 0


def test_a_paragraph_discussion_refuses_an_empty_post_and_a_missing_paragraph(
    app, session, seminar
):
    bea, group = seminar["bea"], seminar["group"]
    response = bea.post(f"/texts/{SLUG}/discuss/{group.id}/4", body="   ")
    assert "A reply needs some words." in flashed(bea, response)
    assert bea.post(f"/texts/{SLUG}/discuss/{group.id}/99", body="hello").status_code == 404
    assert fresh(session).scalars(select(Annotation)).all() == []


def test_the_first_poster_cannot_take_the_paragraph_discussion_away(app, session, seminar):
    ada, bea, group = seminar["ada"], seminar["bea"], seminar["group"]
    action = f"/texts/{SLUG}/discuss/{group.id}/4"
    bea.post(action, body="First post")
    ada.post(action, body="Second post")
    thread = fresh(session).scalar(select(Annotation).where(Annotation.is_discussion.is_(True)))
    assert thread.user_id == bea.user.id
    assert bea.api("DELETE", f"/api/v1/annotations/{thread.id}").status_code == 403
    assert bea.post(f"/notes/{thread.id}/delete").status_code == 403
    moved = bea.post(f"/notes/{thread.id}/visibility", audience="private", confirm="1")
    assert moved.status_code == 403
    patched = bea.api("PATCH", f"/api/v1/annotations/{thread.id}", {"scholia:visibility": "public"})
    assert patched.status_code == 403
    page = ada.html(f"{PAGE}?lens=group-{group.id}")
    assert "First post" in page and "Second post" in page
    stored = fresh(session).get(Annotation, thread.id)
    assert stored.deleted_at is None and stored.visibility is Visibility.GROUP


# ---- reactions --------------------------------------------------------------------------------


def test_reactions_count_once_per_reader_and_kind_and_can_be_taken_back(app, session, seminar):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    note = api_note(ada, text, "Litvinov in Copenhagen", "Repatriation first", "group", group)
    lens = f"{PAGE}?lens=group-{group.id}"

    def counts() -> dict[str, int]:
        rows = fresh(session).scalars(select(Reaction).where(Reaction.annotation_id == note))
        found: dict[str, int] = {}
        for r in rows:
            found[r.kind.value] = found.get(r.kind.value, 0) + 1
        return found

    def button(page: str, kind: str):
        """On the note's own page, a button; in the reading page's margin, a link to it."""
        found = dom(page).select_one(f"#a{note} .reaction.reaction-{kind}")
        assert found is not None and found.name in ("button", "a"), found
        return found

    def says(reaction) -> str:  # "Agree 2": its label and its count, once there is one
        label = reaction.find(string=True, recursive=False).strip()
        count = reaction.select_one("span.count")
        return f"{label} {count.get_text()}" if count else label

    for _ in range(2):
        assert bea.post(f"/notes/{note}/react", kind="agree", on="1").status_code == 302
    bea.post(f"/notes/{note}/react", kind="question", on="1")
    for _ in range(2):
        assert cy.api("PUT", f"/api/v1/annotations/{note}/reactions/agree").status_code == 204
    assert counts() == {"agree": 2, "question": 1}

    page = bea.html(f"/notes/{note}")
    for kind, pressed, said in [("agree", "true", "Agree 2"), ("question", "true", "Puzzled 1")]:
        found = button(page, kind)
        assert found.name == "button" and found["aria-pressed"] == pressed and says(found) == said
    found = button(cy.html(f"/notes/{note}"), "agree")
    assert found.name == "button" and found["aria-pressed"] == "true" and says(found) == "Agree 2"
    # Ada wrote it: she reads what the others said of it and has nothing to press.
    own_page = dom(ada.html(f"/notes/{note}"))
    assert own_page.select(f"#a{note} .reaction") == []
    assert own_page.select_one(f"#a{note} .reactions-readonly").get_text() == "2 agree · 1 puzzled"
    refused = ada.api("PUT", f"/api/v1/annotations/{note}/reactions/agree")
    assert refused.status_code == 403 and "not your own" in refused.get_json()["detail"]
    margin = bea.html(lens)
    found = button(margin, "agree")
    assert found.name == "a" and found.has_attr("href") and says(found) == "Agree 2"
    # The margin is shared with the seminar: the page names Bea's own reactions for its script.
    mine = dom(margin).select_one("article.reading")["data-my-reactions"].split()
    assert sorted(mine) == [f"{note}:agree", f"{note}:question"]
    # The part Ada's page shares with the seminar has the buttons, marked as not for their
    # author (her stylesheet hides them), and the counts marked for her alone.
    found = button(ada.html(lens), "agree")
    assert "reaction-mine" not in found["class"]
    assert says(found) == "Agree 2"
    buttons = found.find_parent(class_="reactions")
    assert "not-own" in buttons["class"] and buttons["data-author"] == str(ada.user.id)
    counted = dom(ada.html(lens)).select_one(f"#a{note} .reactions-readonly.own-controls")
    assert (
        counted["data-author"] == str(ada.user.id) and counted.get_text() == "2 agree · 1 puzzled"
    )
    assert dom(ada.html(lens)).select_one("article.reading")["data-my-reactions"] == ""

    assert bea.post(f"/notes/{note}/react", kind="agree", on="0").status_code == 302
    assert cy.api("DELETE", f"/api/v1/annotations/{note}/reactions/agree").status_code == 204
    assert cy.api("DELETE", f"/api/v1/annotations/{note}/reactions/agree").status_code == 204
    assert counts() == {"question": 1}
    assert says(button(bea.html(lens), "agree")) == "Agree"

    assert bea.post(f"/notes/{note}/react", kind="love", on="1").status_code == 400
    assert cy.api("PUT", f"/api/v1/annotations/{note}/reactions/love").status_code == 404
    assert eve.post(f"/notes/{note}/react", kind="agree", on="1").status_code == 404
    assert Browser(app).api("PUT", f"/api/v1/annotations/{note}/reactions/agree").status_code == 401
    assert counts() == {"question": 1}


def test_questions_first_puts_questions_then_the_most_questioned_notes_first(app, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    plain = api_note(ada, text, "In January 1920", "Context", "group", group)
    twice = api_note(ada, text, "Litvinov in Copenhagen", "Who sent him?", "group", group)
    once = api_note(ada, text, "Krasin", "Trade expert", "group", group)
    question = api_note(
        bea, text, "Arcos", "What was Arcos?", "group", group, motivation="questioning"
    )
    for reader in (bea, cy):
        reader.api("PUT", f"/api/v1/annotations/{twice}/reactions/question")
    cy.api("PUT", f"/api/v1/annotations/{once}/reactions/question")
    bea.api("PUT", f"/api/v1/annotations/{plain}/reactions/agree")  # agreeing is not asking

    lens = f"{PAGE}?lens=group-{group.id}&expand=4"  # the whole list: four notes
    assert card_order(ada.html(lens), 4) == [plain, twice, once, question]
    assert card_order(ada.html(f"{lens}&sort=questions"), 4) == [question, twice, once, plain]
    assert card_order(ada.html(f"{lens}&sort=newest"), 4) == [question, once, twice, plain]


def test_paragraph_counts_ignore_the_filters_that_hide_notes(app, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    api_note(ada, text, "Litvinov in Copenhagen", "Who sent him?", "group", group)
    api_note(ada, text, "Krasin", "Trade expert", "group", group)
    question = api_note(bea, text, "Arcos", "What?", "group", group, motivation="questioning")
    api_note(ada, text, "Rapallo", "Later", "group", group)  # ¶9

    lens = f"{PAGE}?lens=group-{group.id}"
    assert para_count(ada.html(lens), 4) == "3 notes"
    assert para_count(ada.html(f"{lens}&kind=question"), 4) == "3 notes, 1 shown"
    assert card_order(ada.html(f"{lens}&kind=question"), 4) == [question]
    page = ada.html(f"{lens}&member={ada.user.id}")
    assert para_count(page, 4) == "3 notes, 2 shown"
    page = ada.html(f"{lens}&kind=highlight")
    assert para_count(page, 4) == "3 notes, 0 shown"
    assert card_order(page, 4) == []


# ---- notifications ----------------------------------------------------------------------------


def inbox_ids(browser) -> list[int]:
    """Ids of the unread notifications' "Mark read" forms on the inbox page."""
    return [int(i["value"]) for i in dom(browser.html("/inbox")).select('input[name="id"]')]


def notifications(html: str) -> list[tuple[str, str]]:
    """Each notification on the inbox page: (its author, its first line as a reader sees it)."""
    return [
        (text_of(item.select_one(".author")), text_of(item.p))
        for item in dom(html).select("li.inbox-item")
    ]


def told(html: str, author: str, what: str) -> bool:
    """Whether the inbox page has a notification that ``author`` did ``what`` ("replied to you")."""
    return any(a == author and line.startswith(f"{a} {what}") for a, line in notifications(html))


def links(html: str) -> list[str]:
    """Every link's address on the page, as the browser follows it."""
    return [a["href"] for a in dom(html).select("a[href]")]


def test_a_reply_to_my_note_and_a_mention_reach_my_inbox_with_an_unread_count(
    app, session, seminar
):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(ada, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    assert unread_badge(ada.html("/")) == 0
    assert "Nothing here yet." in ada.html("/inbox")

    answer = form_reply(bea, note, "Neutral ground, surely")
    inbox = ada.html("/inbox")
    assert told(inbox, "Bea", "replied to you")
    assert "Neutral ground, surely" in inbox
    # To the reply in the text: the group's lens, its note shown and the thread open.
    assert any(f"lens=group-{group.id}&focus={note}#a{answer}" in href for href in links(inbox))
    assert unread_badge(ada.html(PAGE)) == 1
    assert unread_badge(bea.html("/")) == 0  # my own reply tells me nothing

    api_reply(cy, answer, "As @ada lovelace said in class.")
    inbox = ada.html("/inbox")
    assert told(inbox, "Cy", "mentioned you")
    assert unread_badge(inbox) == 2
    assert "replied to you" in bea.html("/inbox") and unread_badge(bea.html("/")) == 1

    # Mark one read, then all.
    newest, older = inbox_ids(ada)
    assert ada.post("/inbox/read", id=str(newest)).headers["Location"] == "/inbox"
    assert unread_badge(ada.html("/")) == 1 and inbox_ids(ada) == [older]
    ada.post("/inbox/read")
    inbox = ada.html("/inbox")
    assert unread_badge(inbox) == 0
    assert not any(text_of(s).endswith("new") for s in dom(inbox).select("strong"))
    assert "replied to you" in inbox and "mentioned you" in inbox  # read, not gone
    stored = fresh(session).scalars(select(Notification)).all()
    assert all(n.read_at for n in stored if n.user_id == ada.user.id)
    assert [n.read_at for n in stored if n.user_id == bea.user.id] == [None]

    # Replying within my own thread, or mentioning myself, notifies nobody of me.
    before = len(fresh(session).scalars(select(Notification)).all())
    form_reply(ada, note, "Thank you, @Ada Lovelace, for asking")
    assert unread_badge(ada.html("/")) == 0
    assert len(fresh(session).scalars(select(Notification)).all()) == before
    # Marking read cannot touch someone else's notifications.
    theirs = inbox_ids(bea)
    ada.post("/inbox/read", id=str(theirs[0]))
    assert inbox_ids(bea) == theirs


def test_a_mention_reaches_the_member_named_and_no_one_else(app, session, seminar):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    short = sign_in(app, session, "Ada")
    assert short.post(f"/join/{group.invite_code}").status_code == 302
    make_group(session, eve.user, name="Another seminar")
    note = api_note(bea, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)

    api_reply(cy, note, "@Ada Lovelace has the answer; @Eve does not belong here")
    assert "mentioned you" in ada.html("/inbox")
    assert unread_badge(short.html("/")) == 0
    # Eve is in another group, not this one: she is not told, and nothing is kept for her.
    assert unread_badge(eve.html("/")) == 0
    to_eve = select(Notification).where(Notification.user_id == eve.user.id)
    assert fresh(session).scalars(to_eve).all() == []

    api_reply(cy, note, "What do you think, @Ada?")
    assert "mentioned you" in short.html("/inbox")
    assert unread_badge(ada.html("/")) == 1
    # Bea was told twice that Cy replied, and never that she was "mentioned".
    assert bea.html("/inbox").count("replied to you") == 2
    assert "mentioned you" not in bea.html("/inbox")


def test_notifications_about_what_i_can_no_longer_see_are_not_shown(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    mine = api_note(bea, text, "Litvinov in Copenhagen", "Why Copenhagen?", "group", group)
    form_reply(cy, mine, "A secret of the seminar")
    assert unread_badge(bea.html("/")) == 1

    assert bea.post(f"/groups/{group.id}/leave").status_code == 302
    inbox = bea.html("/inbox")
    assert unread_badge(inbox) == 0
    assert "A secret of the seminar" not in inbox and "replied to you" not in inbox

    # A deleted reply takes its notification with it.
    note = api_note(ada, text, "Krasin", "Who was Krasin?", "group", group)
    reply = form_reply(cy, note, "Said too soon")
    assert unread_badge(ada.html("/")) == 1
    cy.post(f"/notes/{reply}/delete")
    inbox = ada.html("/inbox")
    assert unread_badge(inbox) == 0 and "Said too soon" not in inbox


# ---- moderation -------------------------------------------------------------------------------


def test_an_instructor_hides_a_group_note_from_members_but_not_from_its_author(
    app, session, seminar
):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "A rude remark", "group", group)
    reply = form_reply(bea, note, "And another rude remark")
    lens = f"{PAGE}?lens=group-{group.id}"

    assert cy.post(f"/notes/{note}/hide", hidden="1").status_code == 403
    assert cy.api("POST", f"/api/v1/annotations/{note}/hidden", {"hidden": True}).status_code == 403

    def buttons(page: str) -> list[str]:
        return [text_of(b) for b in dom(page).select("button")]

    assert not any(label.endswith("Hide") for label in buttons(cy.html(f"/notes/{note}")))
    assert "Hide" in buttons(ada.html(f"/notes/{note}"))
    assert dom(cy.html(lens)).select('a[data-hide="true"]') == []
    hide = dom(ada.html(lens)).select(f'a[href="/notes/{note}#a{note}"][data-hide="true"]')
    assert [text_of(a) for a in hide] == ["Hide"]

    response = ada.post(f"/notes/{note}/hide", hidden="1")
    assert "Hidden from members." in flashed(ada, response)
    stored = fresh(session).get(Annotation, note)
    assert stored.hidden_at is not None and stored.hidden_by_id == ada.user.id

    page = cy.html(lens)
    card = dom(page).select_one(f"article#a{note}")
    assert "Hidden by an instructor." in [text_of(p) for p in card.select("p.hidden-note")]
    assert "A rude remark" not in page
    assert f"/notes/{note}/reply" not in page and f"/notes/{note}/react" not in page
    data = cy.get(f"/api/v1/annotations/{note}").get_json()
    assert data["scholia:hidden"] is True and "body" not in data
    listed = cy.get(f"/api/v1/annotations?text={SLUG}").get_json()["first"]["items"]
    assert "A rude remark" not in str(listed)
    assert cy.get(f"/notes/{note}/history").status_code == 403
    # The replies are not hidden with it.
    assert "And another rude remark" in text_of(reply_item(page, reply))

    for reader in (bea, ada):  # the author and the instructors still read the words
        page = reader.html(lens)
        assert "A rude remark" in page
        assert "Hidden by an instructor; members see only this line." in page
        assert reader.get(f"/api/v1/annotations/{note}").get_json()["body"][0]["value"] == (
            "A rude remark"
        )

    # A reply can be hidden on its own.
    ada.api("POST", f"/api/v1/annotations/{reply}/hidden", {"hidden": True})
    page = cy.html(lens)
    assert "And another rude remark" not in page
    assert "Hidden by an instructor." in text_of(reply_item(page, reply))

    response = ada.post(f"/notes/{note}/hide", hidden="0")
    assert "Visible again." in flashed(ada, response)
    assert "A rude remark" in cy.html(lens)


def test_a_hidden_notes_tags_stay_hidden_on_the_page(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = factories.make_annotation(
        session, bea.user, text, "Krasin", body="words", tags=("slur",), group=group
    )
    ada.post(f"/notes/{note.id}/hide", hidden="1")
    assert "slur" not in cy.get(f"/api/v1/annotations/{note.id}").get_data(as_text=True)
    assert "#slur" not in cy.html(f"{PAGE}?lens=group-{group.id}")


def test_a_hidden_notes_words_are_not_in_the_edit_form_of_a_member(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(bea, text, "Krasin", "A rude remark", "group", group)
    ada.post(f"/notes/{note}/hide", hidden="1")
    response = cy.get(f"/notes/{note}/edit")
    assert response.status_code == 403
    assert "A rude remark" not in response.get_data(as_text=True)
    assert "A rude remark" in bea.html(f"/notes/{note}/edit")  # the author's form


def test_members_flag_and_instructors_see_dismiss_or_hide(app, session, seminar):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    note = api_note(bea, text, "Litvinov in Copenhagen", "Dubious claim", "group", group)
    group_page = f"/groups/{group.id}"
    assert "No open flags." in ada.html(group_page)

    response = cy.post(f"/notes/{note}/flag", reason="  Off   topic  ")
    assert "the instructors will see your flag" in flashed(cy, response)
    flags = fresh(session).scalars(select(Flag)).all()
    assert [(f.annotation_id, f.user_id, f.reason) for f in flags] == [
        (note, cy.user.id, "Off topic")
    ]

    page = ada.html(group_page)
    assert "Cy: “Off topic”" in text_of(dom(page)) and "Litvinov in Copenhagen" in page
    # The words, to judge the flag by.
    assert "Dubious claim" in [text_of(p) for p in dom(page).select("ul.flags .note-body p")]
    for member in (bea, cy):
        page = member.html(group_page)
        assert "Off topic" not in page
        assert "Flags" not in [text_of(h) for h in dom(page).select("h2")]

    response = cy.post(f"/notes/{note}/flag", reason="   ")
    assert "Say why" in flashed(cy, response)
    assert bea.post(f"/notes/{note}/flag", reason="my own").status_code == 403
    assert eve.post(f"/notes/{note}/flag", reason="nosy").status_code == 404
    assert len(fresh(session).scalars(select(Flag)).all()) == 1

    flag_id = flags[0].id
    assert cy.post(f"{group_page}/flags/{flag_id}/resolve").status_code == 404  # a member
    response = ada.post(f"{group_page}/flags/{flag_id}/resolve")
    assert "Flag dismissed." in flashed(ada, response)
    assert "No open flags." in ada.html(group_page)
    assert fresh(session).get(Flag, flag_id).resolved_at is not None
    assert fresh(session).get(Annotation, note).hidden_at is None  # dismissing hides nothing

    second = api_note(cy, text, "Krasin", "Another", "group", group)
    bea.post(f"/notes/{second}/flag", reason="Spoils the ending")
    assert "Spoils the ending" in ada.html(group_page)
    ada.post(f"/notes/{second}/hide", hidden="1")  # "Hide it" settles the flag
    assert "No open flags." in ada.html(group_page)
    assert fresh(session).get(Annotation, second).hidden_at is not None


def test_an_administrator_hides_any_shared_note_and_sees_every_flag(app, session, seminar):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    admin = sign_in(app, session, "Site Admin", is_admin=True)
    group_note = api_note(bea, text, "Litvinov in Copenhagen", "Group words", "group", group)
    public_note = api_note(eve, text, "Krasin", "Public words", "public")
    private_note = api_note(eve, text, "Arcos", "Private words")
    cy.post(f"/notes/{group_note}/flag", reason="Group trouble")
    bea.post(f"/notes/{public_note}/flag", reason="Public trouble")

    page = admin.html("/admin/users")
    flagged = text_of(dom(page))
    assert "Cy: “Group trouble”" in flagged and "Bea: “Public trouble”" in flagged
    # The flagged words are on the page: an admin has no group lens to read them in.
    flagged = [text_of(p) for p in dom(page).select("ul.flags .note-body p")]
    assert "Group words" in flagged and "Public words" in flagged
    to_the_note = f"/texts/{SLUG}?lens=public&focus={public_note}#a{public_note}"
    assert any(to_the_note in href for href in links(page))
    assert "Private words" not in page
    # An instructor sees only their group's flags, and moderates only their group.
    assert "Public trouble" not in ada.html(f"/groups/{group.id}")
    assert ada.post(f"/notes/{public_note}/hide", hidden="1").status_code == 403

    response = admin.api("POST", f"/api/v1/annotations/{group_note}/hidden", {"hidden": True})
    assert response.status_code == 200 and response.get_json()["scholia:hidden"] is True
    assert admin.post(f"/notes/{public_note}/hide", hidden="1").status_code == 302
    assert admin.post(f"/notes/{private_note}/hide", hidden="1").status_code == 404
    fresh(session)
    assert session.get(Annotation, group_note).hidden_by_id == admin.user.id
    assert session.get(Annotation, public_note).hidden_by_id == admin.user.id
    assert session.get(Annotation, private_note).hidden_at is None
    assert "No open flags." in admin.html("/admin/users")

    anonymous = Browser(app).html(f"{PAGE}?lens=public")
    assert "Public words" not in anonymous and "Hidden by an instructor." in anonymous
    assert "Group words" not in cy.html(f"{PAGE}?lens=group-{group.id}")
    assert "Public words" in eve.html(f"{PAGE}?lens=public")


def _flag_form(page, note: int):
    """The fields of the note page's Flag form (with the page it came from, ``back``)."""
    form = dom(page).select_one(f"form[action='/notes/{note}/flag']")
    assert form is not None, "no Flag form"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def my_flags(page) -> str:
    """What the reading page lists as the reader's open flags, for page.js to mark."""
    return dom(page).select_one(".reading")["data-my-flags"]


def test_a_reader_flags_a_note_once_until_an_instructor_has_looked(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "Dubious claim", "group", group)
    lens = f"{PAGE}?lens=group-{group.id}&member={bea.user.id}"
    # Without JavaScript the margin's Flag leads to the note's page, naming the page it was on.
    (link,) = dom(cy.html(lens)).select(f"#a{note} a.flag-link")
    page = cy.html(link["href"])
    fields = _flag_form(page, note)
    response = cy.post(f"/notes/{note}/flag", reason="Off topic", back=fields["back"])
    # Back to the note's page at the note, which now says so, with the thank-you above it.
    assert response.headers["Location"].split("#")[1] == f"flag-{note}"
    page = flashed(cy, response)
    assert "the instructors will see your flag" in page
    said = text_of(dom(page).select_one(f"#flag-{note}"))
    assert said.startswith("You flagged this note on ") and said.endswith(": “Off topic”")
    assert dom(page).select_one(f"form[action='/notes/{note}/flag']") is None
    # Its way back is to the page the reader flagged from: the same lens and filters, the note.
    (back,) = [a["href"] for a in dom(page).select("a") if text_of(a).startswith("Back to")]
    assert f"lens=group-{group.id}" in back and f"member={bea.user.id}" in back
    assert back.endswith(f"#a{note}")

    # A second flag while the first waits is refused with the reason, by form and by API.
    again = flashed(cy, cy.post(f"/notes/{note}/flag", reason="Still off topic"))
    assert "You have already flagged this note" in again
    response = cy.api("POST", f"/api/v1/annotations/{note}/flags", {"reason": "And again"})
    assert response.status_code == 409
    assert "already flagged" in response.get_json()["detail"]
    assert len(fresh(session).scalars(select(Flag)).all()) == 1

    # The reading page (the same margin for every member) lists the reader's flags for its
    # script; another member's lists none, and their note page offers the form.
    assert my_flags(cy.html(lens)) == str(note)
    assert my_flags(ada.html(lens)) == ""
    assert dom(ada.html(f"/notes/{note}")).select_one(f"#flag-reason-{note}") is not None
    # The flag list says whose note it is and who flagged it.
    page = ada.html(f"/groups/{group.id}")
    assert "Note by Bea, flagged by Cy: “Off topic”" in text_of(dom(page).select_one("ul.flags"))

    # Once an instructor has dismissed it, the reader may flag the note again.
    (flag_id,) = fresh(session).scalars(select(Flag.id)).all()
    ada.post(f"/groups/{group.id}/flags/{flag_id}/resolve")
    assert my_flags(cy.html(lens)) == ""
    _flag_form(cy.html(f"/notes/{note}"), note)
    response = cy.api("POST", f"/api/v1/annotations/{note}/flags", {"reason": "Edited, still off"})
    assert response.status_code == 201 and response.get_json()["reason"] == "Edited, still off"
    assert my_flags(cy.html(lens)) == str(note)
    assert len(fresh(session).scalars(select(Flag)).all()) == 2


def flag_notices(html: str) -> list[tuple[str, str]]:
    """The inbox's notices of flags: (what it says happened, why)."""
    return [
        (text_of(item.p), text_of(item.select_one(".flag-reason")))
        for item in dom(html).select("li.inbox-item")
        if item.select_one(".flag-reason")
    ]


def test_each_flag_tells_the_moderators_of_its_audience_while_they_moderate_it(
    app, session, seminar
):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    ian = sign_in(app, session, "Ian")
    assert ian.post(f"/join/{group.invite_code}").status_code == 302
    ada.post(f"/groups/{group.id}/members/{ian.user.id}/role", role="instructor")
    admin = sign_in(app, session, "Site Admin", is_admin=True)
    note = api_note(bea, text, "Litvinov in Copenhagen", "Dubious claim", "group", group)
    cy.post(f"/notes/{note}/flag", reason="Off topic")

    for instructor in (ada, ian):
        inbox = instructor.html("/inbox")
        ((said, why),) = flag_notices(inbox)
        assert (
            said.startswith(f"Cy flagged Bea’s note on {text.title}") and why == "Why: “Off topic”"
        )
        assert any(f"lens=group-{group.id}&focus={note}#a{note}" in h for h in links(inbox))
        assert unread_badge(inbox) == 1
    # Members, the flagger, outsiders and the site's administrators (the group has
    # instructors) are told nothing.
    for reader in (bea, cy, eve, admin):
        assert unread_badge(reader.html("/")) == 0 and "Off topic" not in reader.html("/inbox")

    # An instructor who flags is not told of their own flag; the other instructor is.
    other = api_note(cy, text, "Krasin", "Another", "group", group)
    ada.post(f"/notes/{other}/flag", reason="Spoils the ending")
    assert "Spoils the ending" not in ada.html("/inbox")
    assert "Spoils the ending" in ian.html("/inbox")
    # A public note's flags go to the site's administrators.
    public = api_note(eve, text, "Arcos", "Public words", "public")
    bea.post(f"/notes/{public}/flag", reason="Public trouble")
    assert [why for _, why in flag_notices(admin.html("/inbox"))] == ["Why: “Public trouble”"]
    assert "Public trouble" not in ada.html("/inbox") + ian.html("/inbox")

    # Ian is a member again, not an instructor: the notices (the flaggers' words) are gone
    # from his inbox and its count, though he still reads the notes.
    ada.post(f"/groups/{group.id}/members/{ian.user.id}/role", role="member")
    inbox = ian.html("/inbox")
    assert flag_notices(inbox) == [] and "Off topic" not in inbox
    assert unread_badge(ian.html(PAGE)) == 0
    assert "Dubious claim" in ian.html(f"/notes/{note}")
    # Bea's note leaves the group (its flag dismissed first): Ada no longer moderates it.
    for flag_id in fresh(session).scalars(select(Flag.id).where(Flag.annotation_id == note)):
        ada.post(f"/groups/{group.id}/flags/{flag_id}/resolve")
    moved = bea.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "private"})
    assert moved.status_code == 200
    inbox = ada.html("/inbox")
    assert "Off topic" not in inbox and "Dubious claim" not in inbox
    assert unread_badge(inbox) == 0  # her own flag told her nothing; the other notice is gone


def test_a_flag_dealt_with_is_read_for_every_instructor_and_none_is_told_of_a_flag_on_their_note(
    app, session, seminar
):
    """Found in review: a flag one instructor dismissed stayed unread for the others, who
    followed it to nothing; a flag on an instructor's own note went to that instructor."""
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    ian = sign_in(app, session, "Ian")
    assert ian.post(f"/join/{group.invite_code}").status_code == 302
    ada.post(f"/groups/{group.id}/members/{ian.user.id}/role", role="instructor")
    admin = sign_in(app, session, "Site Admin", is_admin=True)

    dismissed = api_note(bea, text, "Litvinov in Copenhagen", "Dubious", "group", group)
    hidden = api_note(bea, text, "Krasin", "Rude words", "group", group)
    for note in (dismissed, hidden):
        cy.post(f"/notes/{note}/flag", reason=f"About {note}")
    assert unread_badge(ian.html("/inbox")) == 2 and unread_badge(ada.html("/")) == 2
    (flag_id,) = fresh(session).scalars(select(Flag.id).where(Flag.annotation_id == dismissed))
    ada.post(f"/groups/{group.id}/flags/{flag_id}/resolve")
    assert ian.post(f"/notes/{hidden}/hide", hidden="1").status_code == 302
    for instructor in (ada, ian):
        inbox = instructor.html("/inbox")
        assert unread_badge(inbox) == 0  # dealt with: news to nobody
        assert len(flag_notices(inbox)) == 2  # still listed, as read

    # Ada's own note: Ian is told, not Ada. With Ian gone, the site's administrators are.
    hers = api_note(ada, text, "Arcos", "The instructor's note", "group", group)
    cy.post(f"/notes/{hers}/flag", reason="Unfair to Bea")
    assert "Unfair to Bea" in ian.html("/inbox") and "Unfair to Bea" not in ada.html("/inbox")
    ada.post(f"/groups/{group.id}/members/{ian.user.id}/role", role="member")
    again = api_note(ada, text, "Rapallo", "Another of hers", "group", group)
    bea.post(f"/notes/{again}/flag", reason="Also unfair")
    assert "Also unfair" in admin.html("/inbox") and "Also unfair" not in ada.html("/inbox")


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(app, session, seminar):
    bea = seminar["bea"]
    admin = sign_in(app, session, "Site Admin", is_admin=True)
    assert [text_of(s) for s in dom(bea.html("/")).select(".user-name")] == ["Bea"]

    assert admin.post(f"/admin/users/{admin.user.id}/disabled", disabled="1").status_code == 400
    response = admin.post(f"/admin/users/{bea.user.id}/disabled", disabled="1")
    assert "Bea is disabled." in flashed(admin, response)
    assert fresh(session).get(type(bea.user), bea.user.id).is_disabled

    page = dom(bea.html("/"))  # the very next request is anonymous
    assert page.select(".user-name") == []
    assert "Sign in" in [text_of(a) for a in page.select("a")]
    assert "/auth/login" in bea.get("/inbox").headers["Location"]
    assert bea.api("PUT", "/api/v1/annotations/1/reactions/agree").status_code == 401
    again = Browser(app)
    refused = AuthActions(again.client).login(bea.user.email)
    assert refused.status_code == 401
    assert "This account has been disabled." in refused.get_data(as_text=True)

    admin.post(f"/admin/users/{bea.user.id}/disabled", disabled="0")
    assert AuthActions(again.client).login(bea.user.email).status_code == 302


def test_the_admin_pages_are_404_for_everyone_else(app, session, seminar):
    ada, bea = seminar["ada"], seminar["bea"]
    assert ada.get("/admin/users").status_code == 404
    assert ada.post(f"/admin/users/{bea.user.id}/disabled", disabled="1").status_code == 404
    assert not fresh(session).get(type(bea.user), bea.user.id).is_disabled
    assert not any(text_of(a).endswith("Admin") for a in dom(ada.html("/")).select("a"))
    anonymous = Browser(app)
    assert "/auth/login" in anonymous.get("/admin/users").headers["Location"]


# ---- the live feed ----------------------------------------------------------------------------


def test_the_live_feed_tells_each_reader_only_about_what_they_may_see(app, session, seminar):
    ada, bea, eve, group, text = (seminar[k] for k in ("ada", "bea", "eve", "group", "text"))
    anonymous = Browser(app)
    readers = {"ada": ada, "bea": bea, "eve": eve, "anonymous": anonymous}
    start = cursor_now(anonymous)
    assert {cursor_now(r) for r in readers.values()} == {start}
    assert dom(bea.html(PAGE)).select_one(f'[data-cursor="{start}"]') is not None

    # Ada's private note lives and dies: only Ada hears of it, everyone's cursor moves on.
    private = api_note(ada, text, "Krasin", "Private thought")
    ada.api(
        "PATCH",
        f"/api/v1/annotations/{private}",
        {"body": [{"type": "TextualBody", "value": "Edited"}]},
    )
    ada.api("DELETE", f"/api/v1/annotations/{private}")
    seen, after_private = events(ada, start)
    assert seen == [("created", private), ("updated", private), ("deleted", private)]
    for name in ("bea", "eve", "anonymous"):
        assert events(readers[name], start) == ([], after_private), name

    # A group note: members hear of its creation, reactions and hiding; outsiders do not.
    shared = api_note(bea, text, "Litvinov in Copenhagen", "Group thought", "group", group)
    ada.api("PUT", f"/api/v1/annotations/{shared}/reactions/agree")
    ada.api("POST", f"/api/v1/annotations/{shared}/hidden", {"hidden": True})
    reply = api_reply(ada, shared, "Group reply")  # hidden: nobody may reply any more
    assert reply.status_code == 403
    public = api_note(eve, text, "Arcos", "Public thought", "public")
    group_events = [("created", shared), ("reacted", shared), ("hidden", shared)]
    expected = {
        "ada": [*group_events, ("created", public)],
        "bea": [*group_events, ("created", public)],
        "eve": [("created", public)],
        "anonymous": [("created", public)],
    }
    cursors = set()
    for name, reader in readers.items():
        seen, cursor = events(reader, after_private)
        assert seen == expected[name], name
        cursors.add(cursor)
        assert events(reader, cursor) == ([], cursor)  # nothing is told twice
    assert len(cursors) == 1 and cursors.pop() > after_private

    # Ids only grow, so a reader can resume from any cursor it saw.
    bea_all, _ = events(bea, start)
    assert bea_all == [*group_events, ("created", public)]
    ids = [e["id"] for e in bea.get(EVENTS, query_string={"after": start}).get_json()["events"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    assert bea.get(EVENTS, query_string={"after": "soon"}).status_code == 400
    assert bea.get("/api/v1/texts/no-such-text/events").status_code == 404


def test_a_thread_made_private_tells_its_former_audience_and_no_one_else(app, session, seminar):
    ada, bea, cy, eve, group, text = (
        seminar[k] for k in ("ada", "bea", "cy", "eve", "group", "text")
    )
    note = api_note(ada, text, "Litvinov in Copenhagen", "Group thought", "group", group)
    reply = form_reply(ada, note, "Group reply")  # her own: others' would keep it in place
    start = cursor_now(ada)

    response = ada.post(f"/notes/{note}/visibility", audience="private", confirm="1")
    assert response.status_code == 302
    ada_seen, cursor = events(ada, start)
    assert ada_seen == [("visibility", note), ("visibility", note)]
    for member in (bea, cy):  # so that their pages drop it
        assert events(member, start) == ([("visibility", note)], cursor)
        assert member.get(f"/api/v1/annotations/{note}").status_code == 404
        assert "Group thought" not in member.html(f"{PAGE}?lens=group-{group.id}")
    assert events(eve, start) == ([], cursor)
    assert events(Browser(app), start) == ([], cursor)
    # The reply went private with its thread.
    assert fresh(session).get(Annotation, reply).visibility is Visibility.PRIVATE

    # And back out to everyone: now strangers hear of it too.
    ada.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "public"})
    seen, _ = events(eve, cursor)
    assert seen == [("visibility", note)]


def test_a_mention_in_a_new_group_note_reaches_the_member(app, session, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    api_note(bea, text, "Litvinov in Copenhagen", "@Ada Lovelace, see this", "group", group)
    assert "mentioned you" in ada.html("/inbox")
    assert unread_badge(ada.html("/")) == 1
    # A private note mentions nobody: nobody else may even know it exists.
    api_note(bea, text, "Krasin", "@Ada Lovelace privately", "private", None)
    assert unread_badge(ada.html("/")) == 1
