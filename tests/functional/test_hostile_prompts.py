"""Pinned prompts, attacked: a member with a script, a removed member over time, a moderator's
hide, a flood of pins. Each test is a finding or a door that was tried and held (the heat strip's
doors are tried in test_hostile_seminar.py)."""

# Fixtures are taken from the suites of the features (imported, then named as parameters).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from app.models.base import utcnow
from app.services import groups, prompts
from app.services.access import viewer_for
from tests.factories import PAGE, SLUG, dom, flashed, fresh, make_group, sign_in, text_of
from tests.functional.test_prompts import (
    EVENTS,
    _revise,
    discuss_url,
    lens,
    pin_url,
    prompt_in,
    reply_ids,
    row,
    seminar,  # noqa: F401 (a fixture)
    stored_prompts,
    thread_at,
)

QUESTION = "What did the treaty change?"


def test_a_moderator_cannot_hide_the_discussion_a_question_heads(app, session, seminar):
    """Hiding the wordless first post of a paragraph's discussion (a script's POST: no page
    offers it) stopped every member answering the pinned question, which still headed it with
    its form, each answer refused. The group's discussion is not someone's note to hide: its
    replies are hidden one by one."""
    ida, ann, ben, group = (seminar[k] for k in ("ida", "ann", "ben", "group"))
    ann.post(discuss_url(group, 4), body="Trade came first.")
    ida.post(pin_url(group, 4), body=QUESTION)
    thread = thread_at(session, group, 4)
    admin = sign_in(app, session, "Root Admin", is_admin=True)
    for moderator in (ida, admin):
        assert moderator.post(f"/notes/{thread.id}/hide", hidden="1").status_code == 403
        hidden = moderator.api("POST", f"/api/v1/annotations/{thread.id}/hidden", {"hidden": True})
        assert hidden.status_code == 403
        assert "hide its replies one by one" in hidden.get_json()["detail"]
    assert fresh(session).get(type(thread), thread.id).hidden_at is None
    assert ben.post(discuss_url(group, 4), body="Recognition followed.").status_code == 302
    assert len(reply_ids(session, thread)) == 2
    assert text_of(prompt_in(ben.html(lens(group)), 4).select_one(".note-body")) == QUESTION
    # An answer is still a moderator's to hide.
    answer = max(reply_ids(session, thread))
    assert ida.post(f"/notes/{answer}/hide", hidden="1").status_code == 302
    # One hidden before this rule is shown again, and the group answers there once more.
    stored = fresh(session).get(type(thread), thread.id)
    stored.hidden_at, stored.hidden_by_id = utcnow(), ida.user.id
    session.commit()
    assert ben.post(discuss_url(group, 4), body="Refused?").status_code == 403
    assert ida.post(f"/notes/{thread.id}/hide", hidden="0").status_code == 302
    assert ben.post(discuss_url(group, 4), body="Answered again.").status_code == 302


def test_a_removed_member_who_started_the_discussion_reads_its_question_nowhere(
    app, session, seminar
):
    """Ann wrote first in ¶4's discussion, so its first post is hers; removed from the group,
    the policy still lets her see her own posts. The question pinned to it must not follow
    them: not on the page in any lens, its print version, its parts or the live feed."""
    ida, ann, group = (seminar[k] for k in ("ida", "ann", "group"))
    ann.post(discuss_url(group, 4), body="Trade came first.")
    cursor = ann.get(EVENTS).get_json()["cursor"]
    groups.remove_member(session, viewer_for(session, ida.user), group.id, ann.user.id)
    session.commit()
    ida.post(pin_url(group, 4), body=QUESTION)
    assert len(stored_prompts(session)) == 1
    for path in (
        PAGE,
        lens(group),
        f"{PAGE}?lens=mine",
        f"{PAGE}?lens=public",
        f"{PAGE}/print",
        f"{PAGE}/print?lens=mine",
        f"{PAGE}/print?lens=group-{group.id}",
        f"/texts/{SLUG}/parts/4",
        f"/texts/{SLUG}/parts/4?lens=mine",
        f"/texts/{SLUG}/parts/4?lens=group-{group.id}",
        f"/texts/{SLUG}/events?lens=group-{group.id}&after={cursor}",
        f"{EVENTS}?after={cursor}",
    ):
        response = ann.get(path)
        assert response.status_code == 200, path
        assert "treaty change" not in response.get_data(as_text=True), path
    # Nor may she answer it, pin or unpin.
    assert ann.post(discuss_url(group, 4), body="Still here?").status_code == 404
    assert ann.post(pin_url(group, 4), body="Mine").status_code == 404
    assert ann.post(f"{pin_url(group, 4)}/unpin").status_code == 404


@pytest.mark.parametrize("number", ["-1", "1e3", "%D9%A1", "4.0", "x", "99999999999999999999"])
def test_odd_paragraph_numbers_from_a_script_are_refused_without_a_trace(
    app, session, seminar, number
):
    ida, group = seminar["ida"], seminar["group"]
    for url in (f"/texts/{SLUG}/prompts/{group.id}/{number}", f"/texts/{SLUG}/prompts/x/4"):
        assert ida.post(url, body=QUESTION).status_code == 404, url
        assert ida.post(f"{url}/unpin").status_code == 404, url
    assert stored_prompts(session) == []


def test_an_instructor_pins_to_another_groups_thread_through_their_own_nowhere(
    app, session, seminar
):
    """Cy teaches a group of his own with the text on its list; the ids of Ida's group and its
    thread in his URLs reach nothing of hers, and his question stays in his group's lens."""
    ida, ann, cy, group = (seminar[k] for k in ("ida", "ann", "cy", "group"))
    ida.post(pin_url(group, 4), body=QUESTION)
    own = make_group(session, cy.user, name="Cy's seminar")
    groups.add_reading(session, viewer_for(session, cy.user), own.id, SLUG)
    session.commit()
    assert cy.post(pin_url(group, 4), body="Overwritten?").status_code == 404
    assert cy.post(f"{pin_url(group, 4)}/unpin").status_code == 404
    assert cy.post(pin_url(own, 4), body="Cy's own question").status_code == 302
    assert sorted(p.body_source for p in stored_prompts(session)) == ["Cy's own question", QUESTION]
    assert text_of(prompt_in(ann.html(lens(group)), 4).select_one(".note-body")) == QUESTION


def test_a_flood_of_pins_stops_at_the_write_quota_and_bumps_one_part(app, session, seminar):
    """Each pin or unpin re-renders the paragraph on every open page of the group: a script
    toggling it is held by the write quota, as reactions are, and each write changes that
    paragraph's part alone."""
    ida, ann, group = (seminar[k] for k in ("ida", "ann", "group"))
    app.config.update(WRITES_PER_MINUTE=6, WRITES_PER_DAY=0)
    cursor = ann.get(EVENTS).get_json()["cursor"]
    statuses = []
    for n in range(7):
        url = pin_url(group, 4) if n % 2 == 0 else f"{pin_url(group, 4)}/unpin"
        statuses.append(ida.post(url, body=f"Question {n}").status_code)
    assert statuses == [302] * 6 + [429]
    feed = ann.get(
        f"/texts/{SLUG}/events", query_string={"lens": f"group-{group.id}", "after": cursor}
    ).get_json()
    assert list(feed["parts"]) == ["4"]
    assert stored_prompts(session) == []  # the sixth write, an unpin, was the last


def test_a_removed_discussion_does_not_come_back_beside_the_one_started_since(
    app, session, seminar
):
    """Ida removes ¶4's discussion, question and answers with it; Ben starts it again and Ida
    pins a new question. Restored beside it, the old one made two discussions of ¶4: the page
    showed the new, the dashboard listed both questions on ¶4, and "Unpin" took off the one
    nobody saw while the one on the page stayed."""
    ida, ann, ben, group, text = (seminar[k] for k in ("ida", "ann", "ben", "group", "text"))
    ann.post(discuss_url(group, 4), body="Trade came first.")
    ida.post(pin_url(group, 4), body=QUESTION)
    old = thread_at(session, group, 4)
    assert ida.post(f"/notes/{old.id}/delete").status_code == 302
    assert prompt_in(ben.html(lens(group)), 4) is None
    ben.post(discuss_url(group, 4), body="Starting again.")
    ida.post(pin_url(group, 4), body="A new question")
    new = thread_at(session, group, 4)

    refused = ida.api("POST", f"/api/v1/annotations/{old.id}/restore")
    assert refused.status_code == 409
    assert "remove the new one first" in refused.get_json()["detail"]
    # The form: back to the notebook with the message (the deleted note has no page to show it).
    answer = ida.post(f"/notes/{old.id}/restore")
    assert answer.location.endswith("/notes")
    assert "remove the new one first" in text_of(dom(flashed(ida, answer)))
    assert thread_at(session, group, 4).id == new.id  # one discussion of ¶4
    assert [p.paragraph for p in prompts.prompt_answers(fresh(session), group.id, text.id)] == [4]

    # The new one removed, the old comes back with its question and its answer.
    ida.post(f"/notes/{new.id}/delete")
    assert ida.post(f"/notes/{old.id}/restore").status_code == 302
    page = ben.html(lens(group))
    assert text_of(prompt_in(page, 4).select_one(".note-body")) == QUESTION
    assert "Trade came first." in text_of(row(page, 4).select_one("details.discussion"))


def test_a_question_whose_paragraph_was_revised_away_can_still_be_unpinned(
    app, session, seminar, tmp_path
):
    """Its paragraph gone, the question stayed on the dashboard ("A paragraph since revised
    away") for good: unpinning names a paragraph by number, and it has none. The list offers
    to unpin it there; only the group's instructors may."""
    ida, ann, cy, group, text = (seminar[k] for k in ("ida", "ann", "cy", "group", "text"))
    fourth = text.current_revision.spans()[3].paragraph.body
    ida.post(pin_url(group, 4), body=QUESTION)
    ann.post(discuss_url(group, 4), body="Trade came first.")
    thread = thread_at(session, group, 4)
    _revise(session, tmp_path, lambda ps: [p for p in ps if p.strip() != fourth])
    dashboard = f"/groups/{group.id}/texts/{SLUG}/dashboard"
    (item,) = dom(ida.html(dashboard)).select("li.prompt")
    assert "A paragraph since revised away" in text_of(item.select_one(".prompt-head"))
    form = item.select_one("form.prompt-unpin")
    assert form["action"] == f"/notes/{thread.id}/unpin"
    assert text_of(form.select_one("button")) == "Unpin the question"

    assert ann.post(form["action"]).status_code == 403  # a member
    assert cy.post(form["action"]).status_code == 404  # not his group
    assert len(stored_prompts(session)) == 1
    done = ida.post(form["action"])
    assert done.headers["Location"].endswith(f"{dashboard}#dashboard-prompts-heading")
    assert "Question unpinned" in text_of(dom(flashed(ida, done)))
    assert stored_prompts(session) == []
    assert dom(ida.html(dashboard)).select("li.prompt") == []
    assert reply_ids(session, fresh(session).get(type(thread), thread.id))  # the answer stays
    assert ida.post(form["action"]).status_code == 404  # nothing left to unpin
