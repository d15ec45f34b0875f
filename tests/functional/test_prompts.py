"""Pinned prompts: an instructor pins a question to a paragraph's discussion in the group's lens;
it heads that discussion for every member, who answer in the thread, and the dashboard's list
says who answered. Through the forms, as a reader without JavaScript sends them."""

from __future__ import annotations

import re

import pytest
from flask import render_template
from sqlalchemy import func, select

from app.models import Annotation, ParagraphPrompt, Role, Visibility
from app.models.base import utcnow
from app.services import groups, importer, moderation, prompts
from app.services.access import Account, Action, Viewer, can, viewer_for
from tests.conftest import SEED
from tests.factories import (
    PAGE,
    SLUG,
    Browser,
    dom,
    flashed,
    fresh,
    make_group,
    seminar_of_four,
    sign_in,
    text_of,
)

EVENTS = f"/api/v1/texts/{SLUG}/events"
QUESTION = "Why does **trade** come before recognition here? <script>alert(1)</script>"


@pytest.fixture
def seminar(app, session, seeded):
    """Ida teaches Ann and Ben (the text on their reading list); Cy, signed in, reads alone."""
    ida, ann, ben, cy, group = seminar_of_four(app, session)
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG)
    session.commit()
    return {"ida": ida, "ann": ann, "ben": ben, "cy": cy, "group": group, "text": seeded}


def lens(group) -> str:
    return f"{PAGE}?lens=group-{group.id}"


def pin_url(group, number: int) -> str:
    return f"/texts/{SLUG}/prompts/{group.id}/{number}"


def discuss_url(group, number: int) -> str:
    return f"/texts/{SLUG}/discuss/{group.id}/{number}"


def row(html: str, number: int):
    found = dom(html).select_one(f"div.para-row#p{number}")
    assert found is not None, number
    return found


def prompt_in(html: str, number: int):
    """The prompt heading paragraph ``number``'s discussion, or None."""
    return row(html, number).select_one("details.discussion > .prompt")


def stored_prompts(session) -> list[ParagraphPrompt]:
    return fresh(session).scalars(select(ParagraphPrompt)).all()


def thread_at(session, group, number: int) -> Annotation:
    (thread,) = [
        t
        for t in fresh(session).scalars(
            select(Annotation).where(
                Annotation.is_discussion.is_(True),
                Annotation.group_id == group.id,
                Annotation.deleted_at.is_(None),
            )
        )
        if t.start == t.text.current_revision.spans()[number - 1].start
    ]
    return thread


def reply_ids(session, thread: Annotation) -> list[int]:
    rows = fresh(session).scalars(select(Annotation.id).where(Annotation.root_id == thread.id))
    return sorted(rows)


def answers(session, group, text) -> list[tuple[int | None, list[str], list[str]]]:
    return [
        (p.paragraph, [m.name for m in p.answered], [m.name for m in p.not_answered])
        for p in prompts.prompt_answers(fresh(session), group.id, text.id)
    ]


# ---- pinning and reading --------------------------------------------------------------------


def test_an_instructor_pins_a_question_that_heads_the_discussion_for_every_member(
    app, session, seminar
):
    ida, ann, cy, group = (seminar[k] for k in ("ida", "ann", "cy", "group"))
    # The instructor's margin offers it; a member's does not, nor does the form open for them.
    link = row(ida.html(lens(group)), 4).select_one("a.prompt-link")
    assert text_of(link) == "Pin a question to ¶4"
    assert "prompt=4" in link["href"] and link["href"].endswith("#prompt-form-4")
    assert row(ann.html(lens(group)), 4).select_one("a.prompt-link") is None
    assert row(ann.html(f"{lens(group)}&prompt=4"), 4).select("form") == []
    (form,) = row(ida.html(f"{lens(group)}&prompt=4"), 4).select(
        f'form[action="{pin_url(group, 4)}"]'
    )
    assert form["method"] == "post" and form.select_one("textarea#prompt-4[required]")
    assert "Question pinned to ¶4 for Carr seminar" in text_of(form)

    response = ida.post(pin_url(group, 4), body=QUESTION)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?lens=group-{group.id}#discuss-p4")

    for reader in (ann, ida):
        page = reader.html(lens(group))
        details = row(page, 4).select_one("details.discussion")
        assert details.has_attr("open")  # it heads the discussion, shown
        assert text_of(details.select_one("summary")) == "Prompt and discussion of ¶4 (0)"
        prompt = prompt_in(page, 4)
        assert text_of(prompt.select_one(".prompt-head")) == "Prompt from Ida Teacher"
        body = prompt.select_one(".note-body")
        assert [text_of(b) for b in body.select("strong")] == ["trade"]
        assert body.select("script") == [] and "<script>alert(1)</script>" in text_of(body)
        # Only the instructor is offered to edit it, and no second pin.
        edit = prompt.select_one(".prompt-tools a")
        assert (edit is not None) is (reader is ida)
        assert row(page, 4).select_one("a.prompt-link") is None
    assert prompt_in(ann.html(lens(group)), 5) is None  # one paragraph's, no other's
    # The print version has it too, heading the discussion it prints.
    printed = ann.html(f"{PAGE}/print?lens=group-{group.id}")
    assert "trade" in [text_of(b) for b in prompt_in(printed, 4).select("strong")]

    # Nowhere else: not in a member's other lenses, not for an outsider or a visitor.
    assert "Prompt from" not in ann.html(f"{PAGE}?lens=public")
    assert "Prompt from" not in ann.html(f"{PAGE}?lens=mine")
    assert "trade</strong>" not in cy.html(lens(group))  # not his group: another lens
    assert "Prompt from" not in Browser(app).html(PAGE)

    # The form opened again holds the question, to edit, and offers to unpin it.
    opened = row(ida.html(f"{lens(group)}&prompt=4"), 4)
    assert opened.select_one("textarea#prompt-4").get_text() == QUESTION
    assert opened.select_one(f'form[action="{pin_url(group, 4)}/unpin"] button')


def test_members_answer_in_the_thread_and_the_dashboard_lists_who_did(app, session, seminar):
    ida, ann, ben, cy, group, text = (
        seminar[k] for k in ("ida", "ann", "ben", "cy", "group", "text")
    )
    dee = sign_in(app, session, "Dee Student")
    groups.join(session, viewer_for(session, dee.user), group.invite_code)
    session.commit()
    # Ben wrote in ¶2's discussion before any question was pinned there: no answer to it.
    ben.post(discuss_url(group, 2), body="Who took the photograph?")
    assert ida.post(pin_url(group, 4), body="What did the treaty change?").status_code == 302
    assert ida.post(pin_url(group, 2), body="Why open with a car?").status_code == 302
    assert answers(session, group, text) == [
        (2, [], ["Ann Student", "Ben Student", "Dee Student"]),
        (4, [], ["Ann Student", "Ben Student", "Dee Student"]),
    ]

    # Members answer with the discussion's own form, under the question; an outsider cannot.
    response = ann.post(discuss_url(group, 4), body="Trade came first.")
    assert response.status_code == 302
    ann.post(discuss_url(group, 2), body="It shows the privileges of power.")
    ben.post(discuss_url(group, 4), body="Recognition followed.")
    dee.post(discuss_url(group, 4), body="I will take it back.")
    assert cy.post(discuss_url(group, 4), body="Let me in").status_code == 404
    thread = thread_at(session, group, 4)
    dee_reply = max(reply_ids(session, thread))
    dee.post(f"/notes/{dee_reply}/delete")
    page = ann.html(lens(group))
    details = row(page, 4).select_one("details.discussion")
    assert text_of(details.select_one("summary")) == "Prompt and discussion of ¶4 (2)"
    assert details.select_one(".prompt").find_next_sibling("ol", class_="thread")
    assert "Trade came first." in text_of(details) and "Recognition followed." in text_of(details)

    # An instructor hides Ann's answer on ¶2: hidden, it does not count.
    (ann_on_2,) = [
        r
        for r in fresh(session).scalars(
            select(Annotation).where(Annotation.root_id == thread_at(session, group, 2).id)
        )
        if r.user_id == ann.user.id
    ]
    moderation.set_hidden(session, viewer_for(session, ida.user), ann_on_2.id, True)
    session.commit()
    assert answers(session, group, text) == [
        (2, [], ["Ann Student", "Ben Student", "Dee Student"]),
        (4, ["Ann Student", "Ben Student"], ["Dee Student"]),
    ]

    # The list for the dashboard, given ``prompts``.
    with app.test_request_context():
        html = render_template(
            "groups/_dashboard_prompts.html",
            prompts=prompts.prompt_answers(fresh(session), group.id, text.id),
        )
    items = dom(html).select("li.prompt")
    assert [text_of(i.select_one(".prompt-head")) for i in items] == [
        "¶2 · Prompt from Ida Teacher",
        "¶4 · Prompt from Ida Teacher",
    ]
    assert items[1].select_one(".prompt-head a")["href"] == (
        f"{PAGE}?lens=group-{group.id}#discuss-p4"
    )
    assert text_of(items[1].select_one(".note-body")) == "What did the treaty change?"
    assert [text_of(d) for d in items[1].select("dt")] == ["Answered (2)", "Not yet (1)"]
    assert [text_of(d) for d in items[1].select("dd")] == [
        "Ann Student, Ben Student",
        "Dee Student",
    ]
    assert [text_of(d) for d in items[0].select("dd")] == [
        "Nobody yet.",
        "Ann Student, Ben Student, Dee Student",
    ]
    with app.test_request_context():
        empty = render_template("groups/_dashboard_prompts.html", prompts=[])
    assert "No question is pinned" in text_of(dom(empty))

    # A member removed: their answer stays in the thread, and they leave the lists.
    groups.remove_member(session, viewer_for(session, ida.user), group.id, ben.user.id)
    session.commit()
    assert answers(session, group, text)[1] == (4, ["Ann Student"], ["Dee Student"])
    assert "Recognition followed." in text_of(row(ann.html(lens(group)), 4))


# ---- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "admin", "may_view", "may_pin"),
    [
        (Role.OWNER, False, True, True),
        (Role.INSTRUCTOR, False, True, True),
        (Role.MEMBER, False, True, False),
        (None, False, False, False),
        (None, True, True, True),  # who moderates every group, and keeps its reading list
    ],
    ids=["owner", "instructor", "member", "outsider", "site admin"],
)
def test_the_policy_lets_those_who_moderate_the_group_pin(role, admin, may_view, may_pin):
    reader = Viewer(Account(1, "Reader", admin, "private"), {7: role} if role else {})
    thread = Annotation(user_id=2, visibility=Visibility.GROUP, group_id=7, is_discussion=True)
    assert can(reader, Action.VIEW, thread) is may_view
    assert can(reader, Action.PIN, thread) is may_pin
    # Only a group's discussion of a paragraph, and not once it is removed.
    note = Annotation(user_id=2, visibility=Visibility.GROUP, group_id=7)
    removed = Annotation(
        user_id=2, visibility=Visibility.GROUP, group_id=7, is_discussion=True, deleted_at=utcnow()
    )
    assert can(reader, Action.PIN, note) is can(reader, Action.PIN, removed) is False


def test_only_the_groups_instructors_pin_edit_and_unpin(app, session, seminar):
    ida, ann, cy, group = (seminar[k] for k in ("ida", "ann", "cy", "group"))
    other = make_group(session, cy.user, name="Other seminar")  # Cy teaches another group
    groups.add_reading(session, viewer_for(session, cy.user), other.id, SLUG)
    session.commit()
    url = pin_url(group, 4)

    assert ann.post(url, body="Mine now?").status_code == 403  # a member: refused
    assert cy.post(url, body="Mine now?").status_code == 404  # another group's instructor
    anonymous = Browser(app)
    assert anonymous.post(url, body="Mine now?").status_code in (302, 401)
    assert stored_prompts(session) == []
    # Refused with words, the words come back in a form to send again.
    refused = dom(ann.post(url, body="Mine now?").get_data(as_text=True))
    assert "Only the group's instructors and site administrators pin" in text_of(refused)
    assert refused.select_one("textarea").get_text() == "Mine now?"

    ida.post(url, body="The instructor's question")
    for reader, status in ((ann, 403), (cy, 404)):
        assert reader.post(url, body="Changed").status_code == status
        assert reader.post(f"{url}/unpin").status_code == status
    (prompt,) = stored_prompts(session)
    assert prompt.body_source == "The instructor's question"


def test_a_site_administrator_pins_as_the_groups_instructors_do(app, session, seminar):
    """Site administrators moderate every group and keep its reading list: they pin too, and a
    member of the group who is one gets the instructors' page, controls included."""
    ann, group = seminar["ann"], seminar["group"]
    admin = sign_in(app, session, "Root Admin", is_admin=True)
    assert admin.post(f"/texts/{SLUG}/prompts/99999/4", body="Nowhere").status_code == 404
    assert admin.post(f"/texts/{SLUG}/prompts/99999/4/unpin").status_code == 404
    assert admin.post(pin_url(group, 4), body="From the site").status_code == 302
    assert [p.body_source for p in stored_prompts(session)] == ["From the site"]
    page = ann.html(lens(group))
    assert text_of(prompt_in(page, 4).select_one(".prompt-head")) == "Prompt from Root Admin"
    assert prompt_in(page, 4).select_one(".prompt-tools") is None
    groups.join(session, viewer_for(session, admin.user), group.invite_code)
    session.commit()
    page = admin.html(lens(group))
    assert prompt_in(page, 4).select_one(".prompt-tools a") is not None
    assert row(page, 5).select_one("a.prompt-link") is not None
    assert admin.post(f"{pin_url(group, 4)}/unpin").status_code == 302
    assert stored_prompts(session) == []


def test_an_instructor_demoted_to_member_can_no_longer_edit_the_question(app, session, seminar):
    ida, ben, group = (seminar[k] for k in ("ida", "ben", "group"))
    groups.set_role(session, viewer_for(session, ida.user), group.id, ben.user.id, Role.INSTRUCTOR)
    session.commit()
    url = pin_url(group, 4)
    assert ben.post(url, body="Ben's question").status_code == 302
    page = ben.html(lens(group))
    assert prompt_in(page, 4).select_one(".prompt-tools a") is not None

    groups.set_role(session, viewer_for(session, ida.user), group.id, ben.user.id, Role.MEMBER)
    session.commit()
    page = ben.html(lens(group))
    prompt = prompt_in(page, 4)
    assert text_of(prompt.select_one(".prompt-head")) == "Prompt from Ben Student"  # it stays
    assert prompt.select_one(".prompt-tools") is None
    assert row(page, 5).select_one("a.prompt-link") is None
    assert ben.post(url, body="Changed").status_code == 403
    assert ben.post(f"{url}/unpin").status_code == 403
    assert [p.body_source for p in stored_prompts(session)] == ["Ben's question"]
    # The owner edits it: the words are hers now.
    ida.post(url, body="Ida's question")
    assert text_of(prompt_in(ben.html(lens(group)), 4).select_one(".prompt-head")) == (
        "Prompt from Ida Teacher"
    )


def test_a_text_not_on_the_reading_list_gets_no_question(app, session, seminar):
    ida, cy = seminar["ida"], seminar["cy"]
    bare = make_group(session, ida.user, cy.user, name="No reading list")
    response = ida.post(pin_url(bare, 4), body="Anything?")
    assert response.status_code == 409
    assert "reading list" in text_of(dom(response.get_data(as_text=True)))
    assert stored_prompts(session) == []


def test_unpinning_keeps_the_discussion_and_every_answer(app, session, seminar):
    ida, ann, group, text = (seminar[k] for k in ("ida", "ann", "group", "text"))
    ida.post(pin_url(group, 4), body="What changed?")
    ann.post(discuss_url(group, 4), body="Trade came first.")
    thread = thread_at(session, group, 4)
    replies = reply_ids(session, thread)

    response = ida.post(f"{pin_url(group, 4)}/unpin")
    assert "the discussion and its answers stay" in flashed(ida, response)
    assert stored_prompts(session) == []
    assert reply_ids(session, thread) == replies and len(replies) == 1
    page = ann.html(lens(group))
    assert prompt_in(page, 4) is None
    details = row(page, 4).select_one("details.discussion")
    assert text_of(details.select_one("summary")) == "Discussion of ¶4 (1)"
    assert "Trade came first." in text_of(details)
    assert answers(session, group, text) == []
    # Nothing left to unpin; pinned again, it is a new question (earlier posts are no answers).
    assert ida.post(f"{pin_url(group, 4)}/unpin").status_code == 404
    ida.post(pin_url(group, 4), body="Again?")
    assert answers(session, group, text) == [(4, [], ["Ann Student", "Ben Student"])]


# ---- odd input -----------------------------------------------------------------------------


def test_odd_questions_are_refused_clearly_and_long_ones_kept_whole(app, session, seminar):
    ida, group = seminar["ida"], seminar["group"]
    url = pin_url(group, 4)
    assert "A prompt needs a question." in flashed(ida, ida.post(url, body="  \r\n "))
    assert "A prompt needs a question." in flashed(ida, ida.post(url))
    too_long = "Why? " * 4001
    refused = ida.post(url, body=too_long)
    assert refused.status_code == 413
    assert dom(refused.get_data(as_text=True)).select_one("textarea").get_text() == too_long
    assert ida.post(url, body="Bell\x07 and NUL\x00").status_code == 400
    assert ida.post(pin_url(group, 99), body="Where?").status_code == 404
    assert ida.post(f"/texts/{SLUG}/prompts/{group.id}/0", body="Where?").status_code == 404
    assert ida.post(f"/texts/no-such-text/prompts/{group.id}/4", body="Where?").status_code == 404
    assert ida.post(f"/texts/{SLUG}/prompts/99999/4", body="Where?").status_code == 404
    assert stored_prompts(session) == []

    long = "A question of some length, with *emphasis*. " * 250  # over 10 KB, under the limit
    assert len(long) > 10_000
    assert ida.post(url, body=long).status_code == 302
    body = prompt_in(ida.html(lens(group)), 4).select_one(".note-body")
    assert text_of(body) == re.sub(r"\*", "", long).strip()


# ---- live updates and cached parts ---------------------------------------------------------


def _events(browser, after: int) -> list[tuple[str, int]]:
    data = browser.get(EVENTS, query_string={"after": after}).get_json()
    return [(e["kind"], e["annotation"]) for e in data["events"]]


def test_pinning_editing_and_unpinning_reach_open_pages_live(app, session, seminar):
    ida, ann, cy, group = (seminar[k] for k in ("ida", "ann", "cy", "group"))
    # Ann's page is rendered (its parts cached for the group's members) before the question.
    assert prompt_in(ann.html(lens(group)), 4) is None
    cursor = ann.get(EVENTS).get_json()["cursor"]

    ida.post(pin_url(group, 4), body="First words")
    thread = thread_at(session, group, 4)
    assert _events(ann, cursor) == [("prompt", thread.id)]
    assert _events(cy, cursor) == []  # not his group's: he hears nothing
    # The page's own feed brings the paragraph as the member's page shows it, and only it.
    feed = ann.get(
        f"/texts/{SLUG}/events", query_string={"lens": f"group-{group.id}", "after": cursor}
    ).get_json()
    assert list(feed["parts"]) == ["4"]
    assert "First words" in text_of(dom(feed["parts"]["4"]).select_one(".prompt"))
    # The cached part was not served stale: the page and the part have the question.
    assert text_of(prompt_in(ann.html(lens(group)), 4).select_one(".note-body")) == "First words"
    part = ann.get(f"/texts/{SLUG}/parts/4", query_string={"lens": f"group-{group.id}"})
    assert "First words" in part.get_data(as_text=True)

    after_pin = feed["cursor"]
    ida.post(pin_url(group, 4), body="Second words")
    assert _events(ann, after_pin) == [("prompt", thread.id)]
    page = ann.html(lens(group))
    assert text_of(prompt_in(page, 4).select_one(".note-body")) == "Second words"
    refreshed = ann.get(f"/texts/{SLUG}/parts/4", query_string={"lens": f"group-{group.id}"})
    assert refreshed.headers["ETag"] != part.headers["ETag"]

    ida.post(f"{pin_url(group, 4)}/unpin")
    assert prompt_in(ann.html(lens(group)), 4) is None
    assert _events(ann, after_pin)[-1] == ("prompt", thread.id)


# ---- over time: the text revised -----------------------------------------------------------


def _revise(session, tmp_path, change) -> None:
    """The seeded text re-imported with ``change`` made to its paragraphs (a revision)."""
    paragraphs = SEED.read_text(encoding="utf-8").split("\n\n")
    revised = tmp_path / SEED.name
    revised.write_text("\n\n".join(change(paragraphs)), encoding="utf-8")
    assert importer.import_file(session, revised).status == "revised"
    session.commit()


def test_a_question_follows_its_paragraph_through_a_revision(app, session, seminar, tmp_path):
    ida, ann, group, text = (seminar[k] for k in ("ida", "ann", "group", "text"))
    fourth = text.current_revision.spans()[3].paragraph.body
    ida.post(pin_url(group, 4), body="What changed?")
    ann.post(discuss_url(group, 4), body="Trade came first.")

    # A paragraph inserted before it: the question moves on with its paragraph's words and its
    # answers (to ¶5), rather than staying on a number now another paragraph's.
    def insert(paragraphs):
        at = next(i for i, p in enumerate(paragraphs) if p.strip() == fourth)
        return [*paragraphs[:at], "An editor's note, added in a later revision.", *paragraphs[at:]]

    _revise(session, tmp_path, insert)
    page = ann.html(lens(group))
    assert prompt_in(page, 4) is None
    prompt = prompt_in(page, 5)
    assert text_of(prompt.select_one(".note-body")) == "What changed?"
    assert "Trade came first." in text_of(row(page, 5).select_one("details.discussion"))
    assert answers(session, group, text) == [(5, ["Ann Student"], ["Ben Student"])]
    # It is edited and unpinned where it is now.
    assert ida.post(pin_url(group, 5), body="What changed, then?").status_code == 302
    assert [p.body_source for p in stored_prompts(session)] == ["What changed, then?"]

    # Its paragraph gone: the thread and its answers are kept with the notes whose words are
    # gone; the dashboard still lists the question, on no paragraph.
    _revise(session, tmp_path, lambda ps: [p for p in ps if p.strip() != fourth])
    page = ann.html(lens(group))
    assert "Trade came first." in text_of(dom(page).select_one("section.orphans"))
    assert answers(session, group, text) == [(None, ["Ann Student"], ["Ben Student"])]
    count = fresh(session).scalar(select(func.count()).select_from(ParagraphPrompt))
    assert count == 1


def test_prompt_answers_of_a_group_without_prompts_or_text(app, session, seminar):
    group, text = seminar["group"], seminar["text"]
    assert prompts.prompt_answers(fresh(session), group.id, text.id) == []
    assert prompts.prompt_answers(fresh(session), group.id, 999_999) == []
