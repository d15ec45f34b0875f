"""Seminar groups through the browser's forms: create, invite, join, leave, roles, reading list."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Group, Membership, ReadingAssignment, Role
from tests import factories
from tests.factories import (
    PAGE,
    SLUG,
    Browser,
    csrf_token,
    dom,
    flashed,
    fresh,
    make_group,
    sign_in,
    text_of,
)


def role_of(session, group_id: int, user_id: int) -> Role | None:
    fresh(session)
    return session.scalar(
        select(Membership.role).where(
            Membership.group_id == group_id, Membership.user_id == user_id
        )
    )


def group_id_from(response) -> int:
    match = re.fullmatch(r"/groups/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# ---- creating ---------------------------------------------------------------------------------


def test_creating_a_group_makes_its_creator_owner_with_the_invite_link_on(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    response = ada.post("/groups", name="  Russian   history ", description="Tuesdays, room 4")
    group_id = group_id_from(response)

    group = fresh(session).get(Group, group_id)
    assert group.name == "Russian history"
    assert group.description == "Tuesdays, room 4"
    assert group.invite_code
    assert role_of(session, group_id, ada.user.id) is Role.OWNER

    page = ada.html(f"/groups/{group_id}")
    assert "Group created." in page
    assert "You are the owner." in page
    invite = dom(page).select_one("input#invite-link")
    assert invite["value"] == f"http://localhost/join/{group.invite_code}"
    listing = dom(ada.html("/groups")).select("ul.group-list li")
    said = {text_of(entry.a): text_of(entry.select_one(".hint")) for entry in listing}
    assert said == {"Russian history": "· owner · 1 member"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Give the group a name."), ("x" * 121, "at most 120 characters")],
)
def test_a_group_without_a_proper_name_is_refused_with_a_clear_message(app, session, name, message):
    ada = sign_in(app, session, "Ada Lovelace")
    response = ada.post("/groups", name=name)
    assert response.headers["Location"] == "/groups"
    page = flashed(ada, response)
    assert message in page
    assert fresh(session).scalar(select(func.count(Group.id))) == 0


def test_signing_in_is_needed_to_create_or_see_groups(client, session):
    assert client.get("/groups").status_code == 302
    response = client.post("/groups", data={"name": "x", "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert fresh(session).scalar(select(func.count(Group.id))) == 0


# ---- the invite link --------------------------------------------------------------------------


def test_the_invite_link_shows_the_group_and_joins_on_post_and_twice_is_harmless(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    group = make_group(session, ada.user, name="Carr seminar")
    link = f"/join/{group.invite_code}"

    page = bea.html(link)
    assert "Join “Carr seminar”" in page and "Join the group" in page
    assert role_of(session, group.id, bea.user.id) is None  # looking is not joining

    response = bea.post(link)
    assert response.headers["Location"] == f"/groups/{group.id}"
    assert role_of(session, group.id, bea.user.id) is Role.MEMBER
    assert "Welcome to Carr seminar." in flashed(bea, response)

    again = bea.post(link)
    assert again.headers["Location"] == f"/groups/{group.id}"
    count = select(func.count(Membership.id)).where(Membership.group_id == group.id)
    assert fresh(session).scalar(count) == 2
    assert role_of(session, group.id, bea.user.id) is Role.MEMBER
    assert "You are already a member." in bea.html(link)

    anonymous = app.test_client()
    assert "/auth/login" in anonymous.get(link).headers["Location"]


def test_a_new_invite_link_replaces_the_old_one_and_switching_it_off_admits_no_one(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    cy = sign_in(app, session, "Cy")
    group = make_group(session, ada.user, bea.user)
    old = group.invite_code

    assert bea.post(f"/groups/{group.id}/invite", on="1").status_code == 403  # a member
    response = ada.post(f"/groups/{group.id}/invite", on="1")
    assert "New invite link made." in flashed(ada, response)
    fresh(session)
    new = session.get(Group, group.id).invite_code
    assert new and new != old

    assert cy.get(f"/join/{old}").status_code == 404
    assert cy.post(f"/join/{old}").status_code == 404
    assert role_of(session, group.id, cy.user.id) is None

    response = ada.post(f"/groups/{group.id}/invite", on="0")
    assert "Invite link switched off." in flashed(ada, response)
    fresh(session)
    assert session.get(Group, group.id).invite_code is None
    assert "The invite link is switched off; nobody can join." in ada.html(f"/groups/{group.id}")
    for code in (old, new):
        assert cy.get(f"/join/{code}").status_code == 404
        assert cy.post(f"/join/{code}").status_code == 404
    assert role_of(session, group.id, cy.user.id) is None

    ada.post(f"/groups/{group.id}/invite", on="1")  # on again: a fresh link works
    fresh(session)
    third = session.get(Group, group.id).invite_code
    assert third not in (old, new)
    assert cy.post(f"/join/{third}").status_code == 302
    assert role_of(session, group.id, cy.user.id) is Role.MEMBER


# ---- leaving ----------------------------------------------------------------------------------


def test_the_owner_cannot_leave(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    group = make_group(session, ada.user)
    response = ada.post(f"/groups/{group.id}/leave")
    assert response.headers["Location"] == f"/groups/{group.id}"
    assert "The owner cannot leave the group" in flashed(ada, response)
    assert role_of(session, group.id, ada.user.id) is Role.OWNER


def test_a_member_who_leaves_stops_seeing_the_groups_notes_at_once(app, session, seeded):
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    group = make_group(session, ada.user, bea.user)
    note = factories.make_annotation(
        session,
        ada.user,
        seeded,
        "Litvinov in Copenhagen",
        body="Seminar-only thought",
        group=group,
    )
    lens = f"{PAGE}?lens=group-{group.id}"
    assert "Seminar-only thought" in bea.html(lens)
    assert bea.get(f"/api/v1/annotations/{note.id}").status_code == 200
    assert bea.get(f"/api/v1/annotations?text={SLUG}").get_json()["total"] == 1

    response = bea.post(f"/groups/{group.id}/leave")
    assert response.headers["Location"] == "/groups"
    assert "You have left the group." in flashed(bea, response)
    assert role_of(session, group.id, bea.user.id) is None

    page = bea.html(lens)
    assert "Seminar-only thought" not in page and dom(page).find(id=f"a{note.id}") is None
    # Neither a lens nor an audience any more (the forms' <template>s included).
    assert dom(page).find_all(attrs={"value": f"group-{group.id}"}) == []
    assert bea.get(f"/api/v1/annotations/{note.id}").status_code == 404
    assert bea.get(f"/api/v1/annotations?text={SLUG}").get_json()["total"] == 0
    assert bea.get(f"/groups/{group.id}").status_code == 404
    assert "Carr seminar" not in bea.html("/groups")
    # The owner still sees it: leaving changes the leaver's view only.
    assert "Seminar-only thought" in ada.html(lens)


# ---- members and roles ------------------------------------------------------------------------


def test_owner_and_instructors_manage_members_and_members_cannot(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    cy = sign_in(app, session, "Cy")
    dee = sign_in(app, session, "Dee")
    group = make_group(session, ada.user, bea.user, cy.user, dee.user)
    base = f"/groups/{group.id}/members"

    response = ada.post(f"{base}/{bea.user.id}/role", role="instructor")
    assert "Role changed." in flashed(ada, response)
    assert role_of(session, group.id, bea.user.id) is Role.INSTRUCTOR
    assert "You are an instructor." in bea.html(f"/groups/{group.id}")

    # An instructor removes members, but roles are the owner's to give: an instructor who
    # could make instructors could make one of a second account of their own.
    refused = bea.post(f"{base}/{cy.user.id}/role", role="instructor")
    assert refused.status_code == 403 and "owner" in refused.get_data(as_text=True)
    assert role_of(session, group.id, cy.user.id) is Role.MEMBER
    assert "Make instructor" not in bea.html(f"/groups/{group.id}")
    response = bea.post(f"{base}/{dee.user.id}/remove")
    assert "Member removed." in flashed(bea, response)
    assert role_of(session, group.id, dee.user.id) is None
    ada.post(f"{base}/{cy.user.id}/role", role="instructor")
    assert role_of(session, group.id, cy.user.id) is Role.INSTRUCTOR
    assert bea.post(f"{base}/{cy.user.id}/remove").status_code == 403  # nor other instructors
    ada.post(f"{base}/{cy.user.id}/role", role="member")
    assert role_of(session, group.id, cy.user.id) is Role.MEMBER

    # A member can do neither, and the page offers them no such buttons.
    page = cy.html(f"/groups/{group.id}")
    assert "Make instructor" not in page and "Remove Bea" not in page
    assert cy.post(f"{base}/{bea.user.id}/remove").status_code == 403
    assert cy.post(f"{base}/{cy.user.id}/role", role="instructor").status_code == 403
    assert role_of(session, group.id, bea.user.id) is Role.INSTRUCTOR
    assert role_of(session, group.id, cy.user.id) is Role.MEMBER

    # Nobody removes or demotes the owner, and there is no "owner" role to hand out.
    response = bea.post(f"{base}/{ada.user.id}/remove")
    assert "The owner cannot be removed." in flashed(bea, response)
    assert bea.post(f"{base}/{ada.user.id}/role", role="member").status_code == 403
    assert bea.post(f"{base}/{cy.user.id}/role", role="owner").status_code == 400
    assert role_of(session, group.id, ada.user.id) is Role.OWNER
    assert role_of(session, group.id, cy.user.id) is Role.MEMBER
    # Removing someone who is not in the group is a plain 404.
    assert ada.post(f"{base}/{dee.user.id}/remove").status_code == 404


def test_a_non_member_gets_404_for_everything_about_the_group(app, session):
    ada = sign_in(app, session, "Ada Lovelace")
    eve = sign_in(app, session, "Eve")
    group = make_group(session, ada.user, name="Closed circle")
    missing = eve.get("/groups/999999")
    response = eve.get(f"/groups/{group.id}")
    assert response.status_code == missing.status_code == 404
    assert "Closed circle" not in response.get_data(as_text=True)
    assert eve.post(f"/groups/{group.id}/leave").status_code == 404
    assert eve.post(f"/groups/{group.id}/members/{ada.user.id}/remove").status_code == 404
    assert eve.post(f"/groups/{group.id}/invite", on="0").status_code == 404
    assert eve.post(f"/groups/{group.id}/readings", text=SLUG).status_code == 404
    assert role_of(session, group.id, ada.user.id) is Role.OWNER
    assert fresh(session).get(Group, group.id).invite_code


# ---- the reading list -------------------------------------------------------------------------


def test_reading_list_due_date_and_prompt_shown_above_the_text_to_members_only(
    app, session, seeded
):
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    eve = sign_in(app, session, "Eve")
    group = make_group(session, ada.user, bea.user)
    make_group(session, eve.user, name="Another seminar")  # Eve reads in a group, not this one
    prompt = "Why did Lenin want trade with Britain before recognition?"

    assert bea.post(f"/groups/{group.id}/readings", text=SLUG).status_code == 403
    response = ada.post(
        f"/groups/{group.id}/readings", text=SLUG, due_on="2030-03-01", prompt=prompt
    )
    assert "Reading list updated." in flashed(ada, response)

    def due(page: str) -> list[tuple[str, str]]:
        return [(t.get("datetime"), t.get_text()) for t in dom(page).select("time")]

    group_page = bea.html(f"/groups/{group.id}")
    assert "Rapprochement" in group_page and "due" in group_page
    assert ("2030-03-01", "1 March 2030") in due(group_page)
    assert prompt in group_page

    page = bea.html(PAGE)
    parsed = dom(page)
    # The seminar's lens by default.
    assert parsed.select_one("article.reading")["data-lens"] == f"group-{group.id}"
    assert prompt in page
    assert ("2030-03-01", "1 March 2030") in due(page)
    # Above the text.
    (said,) = [p for p in parsed.select(".assignment-prompt") if p.get_text() == prompt]
    assert said.find_next(id="p1") is parsed.select_one("div.para-row#p1")
    for outsider in (eve, Browser(app)):
        page = outsider.html(PAGE)
        assert prompt not in page and "1 March 2030" not in page

    # Posting again changes the due date and prompt rather than adding a second entry.
    ada.post(f"/groups/{group.id}/readings", text=SLUG, due_on="", prompt="Read closely.")
    assignments = fresh(session).scalars(select(ReadingAssignment)).all()
    assert [(a.due_on, a.prompt) for a in assignments] == [(None, "Read closely.")]
    assert "Read closely." in bea.html(PAGE) and prompt not in bea.html(PAGE)


@pytest.mark.parametrize("due_on", ["next tuesday", "2030-02-30", "01/03/2030", "20300301"])
def test_a_bad_due_date_is_a_400_and_changes_nothing(app, session, seeded, due_on):
    ada = sign_in(app, session, "Ada Lovelace")
    group = make_group(session, ada.user)
    response = ada.post(
        f"/groups/{group.id}/readings", text=SLUG, due_on=due_on, prompt="Read ¶4 twice."
    )
    assert response.status_code == 400
    assert fresh(session).scalar(select(func.count(ReadingAssignment.id))) == 0
    # The group page again, the form holding what was sent, the message beside the date.
    form = dom(response.get_data(as_text=True)).select_one("form[action$='/readings']")
    assert text_of(form.select_one("#due_on-error")) == (
        f"“{due_on}” is not a date: give the due date as YYYY-MM-DD, or none."
    )
    assert form.select_one("#due_on")["aria-describedby"] == "due_on-error"
    assert form.select_one("#prompt").get_text() == "Read ¶4 twice."
    assert form.select_one("#text option[selected]")["value"] == SLUG


def test_an_unknown_text_cannot_go_on_the_reading_list(app, session, seeded):
    ada = sign_in(app, session, "Ada Lovelace")
    group = make_group(session, ada.user)
    assert ada.post(f"/groups/{group.id}/readings", text="no-such-text").status_code == 404
    assert fresh(session).scalar(select(func.count(ReadingAssignment.id))) == 0


# ---- editing the reading list -----------------------------------------------------------------


def reading_of(session, assignment_id: int) -> tuple:
    a = fresh(session).get(ReadingAssignment, assignment_id)
    return (a.due_on.isoformat() if a.due_on else None, a.prompt)


def add_reading(session, teacher, group, due_on=None, prompt="Read closely.") -> int:
    from app.services import groups
    from app.services.access import viewer_for

    assignment = groups.add_reading(session, viewer_for(session, teacher), group.id, SLUG)
    assignment.due_on = None if due_on is None else date.fromisoformat(due_on)
    assignment.prompt = prompt
    session.commit()
    return assignment.id


def taught_by_ada_and_bea(app, session):
    """Ada owns the Carr seminar, Bea is its instructor, Cy a member."""
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    cy = sign_in(app, session, "Cy")
    group = make_group(session, ada.user, bea.user, cy.user)
    ada.post(f"/groups/{group.id}/members/{bea.user.id}/role", role="instructor")
    return ada, bea, cy, group


def test_an_instructor_edits_an_entrys_due_date_and_prompt_and_members_see_it(app, session, seeded):
    ada, bea, cy, group = taught_by_ada_and_bea(app, session)
    entry = add_reading(session, ada.user, group, "2030-03-01", "Read closely.")
    edit = f"/groups/{group.id}/readings/{entry}"

    # The entry's form on an instructor's page holds what the entry has now.
    form = dom(bea.html(f"/groups/{group.id}")).select_one(f"form[action='{edit}']")
    assert form.select_one(f"#due_on-{entry}")["value"] == "2030-03-01"
    assert form.select_one(f"#due_on-{entry}")["type"] == "date"
    assert form.select_one(f"#prompt-{entry}").get_text() == "Read closely."

    response = bea.post(edit, due_on="2030-04-15", prompt="  Mark where Carr hedges.  ")
    assert "Reading list updated." in flashed(bea, response)
    assert reading_of(session, entry) == ("2030-04-15", "Mark where Carr hedges.")
    page = cy.html(f"/groups/{group.id}")
    assert "15 April 2030" in page and "Mark where Carr hedges." in page
    assert "1 March 2030" not in page
    assert "Mark where Carr hedges." in cy.html(PAGE)  # above the text, for the seminar

    # An empty date takes the due date away; the entry stays, the only one.
    ada.post(edit, due_on="", prompt="")
    assert reading_of(session, entry) == (None, "")
    assert fresh(session).scalar(select(func.count(ReadingAssignment.id))) == 1


def test_only_the_groups_instructors_edit_its_reading_list(app, session, seeded):
    ada = sign_in(app, session, "Ada Lovelace")
    cy = sign_in(app, session, "Cy")
    dee = sign_in(app, session, "Dee")
    eve = sign_in(app, session, "Eve")
    group = make_group(session, ada.user, cy.user, dee.user)
    entry = add_reading(session, ada.user, group, "2030-03-01", "Read closely.")
    elsewhere = make_group(session, eve.user, ada.user, name="Another seminar")
    theirs = add_reading(session, eve.user, elsewhere, None, "Theirs.")
    edit = f"/groups/{group.id}/readings/{entry}"
    ada.post(f"/groups/{group.id}/members/{dee.user.id}/remove")

    # A member is refused, and their page offers no form to try.
    assert cy.post(edit, due_on="2031-01-01", prompt="Mine now").status_code == 403
    assert dom(cy.html(f"/groups/{group.id}")).select(f"form[action='{edit}']") == []
    # Someone removed, an outsider, and a signed-out visitor: as if there were no such group.
    assert dee.post(edit, due_on="2031-01-01", prompt="Mine now").status_code == 404
    assert eve.post(edit, due_on="2031-01-01", prompt="Mine now").status_code == 404
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/auth/login")
    refused = anonymous.post(edit, data={"csrf_token": token, "due_on": "2031-01-01"})
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    # Another group's entry is not this group's to edit, though Ada is in both; nor is one
    # that does not exist; and a bad date there says so before it says nothing.
    assert ada.post(f"/groups/{group.id}/readings/{theirs}", prompt="Hijacked").status_code == 404
    assert ada.post(f"/groups/{group.id}/readings/999999", due_on="soon").status_code == 404
    assert ada.post(f"/groups/{group.id}/readings/{entry}", csrf_token="").status_code == 400

    assert reading_of(session, entry) == ("2030-03-01", "Read closely.")
    assert reading_of(session, theirs) == (None, "Theirs.")


@pytest.mark.parametrize(
    ("due_on", "prompt", "status", "field", "message"),
    [
        ("someday", "Kept words", 400, "due_on", "“someday” is not a date"),
        ("2030-13-01", "Kept words", 400, "due_on", "give the due date as YYYY-MM-DD"),
        ("9" * 5000, "Kept words", 400, "due_on", "“" + "9" * 40 + "…” is not a date"),
        ("2030-05-01", "x" * 4001, 422, "prompt", "at most 4,000 characters"),
    ],
)
def test_a_refused_edit_comes_back_open_on_the_group_page_with_nothing_lost(
    app, session, seeded, due_on, prompt, status, field, message
):
    ada = sign_in(app, session, "Ada Lovelace")
    group = make_group(session, ada.user)
    entry = add_reading(session, ada.user, group, "2030-03-01", "Read closely.")

    response = ada.post(f"/groups/{group.id}/readings/{entry}", due_on=due_on, prompt=prompt)
    assert response.status_code == status
    assert reading_of(session, entry) == ("2030-03-01", "Read closely.")
    page = dom(response.get_data(as_text=True))
    assert text_of(page.h1) == "Carr seminar"
    form = page.select_one(f"form[action='/groups/{group.id}/readings/{entry}']")
    assert form.find_parent("details").has_attr("open")
    assert form.select_one(f"#prompt-{entry}").get_text() == prompt  # the words typed
    invalid = form.select_one(f"#{field}-{entry}")
    assert invalid["aria-invalid"] == "true" and invalid.has_attr("autofocus")
    error = form.select_one(f"#{invalid['aria-describedby']}")
    assert message in text_of(error)
    # Only that form: the others are as the page always shows them.
    assert len(page.select("details[open]")) == 1
    assert len(page.select("[aria-invalid]")) == 1


# ---- what cannot be taken back asks first -----------------------------------------------------


def confirming(page, button_text: str):
    """The button whose words begin ``button_text``, and the words of the disclosure it is in."""
    (button,) = [b for b in page.select("button") if text_of(b).startswith(button_text)]
    details = button.find_parent("details")
    assert details is not None and not details.has_attr("open"), f"{button_text} asks nothing"
    return button, text_of(details.p)


def test_a_new_link_and_removals_ask_first_and_say_what_they_do(app, session, seeded):
    ada, _bea, cy, group = taught_by_ada_and_bea(app, session)
    add_reading(session, ada.user, group)
    page = dom(ada.html(f"/groups/{group.id}"))

    button, says = confirming(page, "Make a new link")
    assert "button-secondary" in button["class"]
    assert "The current link will stop working" in says
    assert "people who have not joined yet will need the new one" in says
    _, says = confirming(page, "Switch the link off")
    assert "this one will not work again" in says
    _, says = confirming(page, "Remove Cy")
    assert says.startswith("Cy leaves the group at once: they stop seeing its notes")
    assert "invite link will not let them back in" in says
    _, says = confirming(page, "Remove Bea")
    assert says.startswith("Bea leaves the group at once, and stops being an instructor:")
    _, says = confirming(page, "Remove “Rapprochement")
    assert "leaves the reading list, with its due date and prompt" in says
    assert "notes the group wrote on it stay" in says

    # The link to copy: in a read-only field; the Copy button is group.js's to show.
    assert page.select_one("#invite-link").has_attr("readonly")
    assert page.select_one("#copy-invite").has_attr("hidden")
    assert page.select_one("#copy-status")["role"] == "status"
    assert any("js/group.js" in s["src"] for s in page.select("script[src]"))
    # A member's page has none of it, nor the script.
    member_page = dom(cy.html(f"/groups/{group.id}"))
    assert member_page.select("details.group-ask, #invite-link, script[src*='group.js']") == []
