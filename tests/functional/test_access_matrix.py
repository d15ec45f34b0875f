"""The access policy as a matrix, through every read path and every action.

visibility (private, group, public) × viewer (author, member, instructor, member of another
group, other user, anonymous, admin, disabled account) × action, checked through the reading
page, the API (single, listing) and the live feed, and by trying each action for real.
"""

from __future__ import annotations

import pytest

from app.models import Role, Visibility
from app.services import groups
from app.services.access import viewer_for
from tests import factories
from tests.factories import AuthActions, csrf_token, dom

PAGE = "/texts/carr-rapprochement"
VIEWERS = ["author", "member", "instructor", "outsider", "other", "anonymous", "admin", "disabled"]
KINDS = ["private", "group", "public"]

# Who may see each kind of annotation.
SEES = {
    "private": {"author"},
    "group": {"author", "member", "instructor", "admin"},
    "public": set(VIEWERS),
}
# Who may reply and react.
TALKS = {
    "private": {"author"},
    "group": {"author", "member", "instructor"},
    "public": {"author", "member", "instructor", "outsider", "other", "admin"},
}
# Who may hide, and remove what others wrote.
HIDES = {"private": set(), "group": {"instructor", "admin"}, "public": {"admin"}}
# Who may flag (not the author), and who is told of a flag in their inbox (the moderators of the
# audience: a group's instructors, the site's administrators for a public note).
FLAGS = {
    "private": set(),
    "group": {"member", "instructor", "admin"},
    "public": {"member", "instructor", "outsider", "other", "admin"},
}
TOLD = {"private": set(), "group": {"instructor"}, "public": {"admin"}}


@pytest.fixture
def world(app, session, seeded):
    people = {
        name: factories.make_user(session, f"{name}@example.org", name.capitalize())
        for name in ["author", "member", "instructor", "outsider", "other", "disabled"]
    }
    people["admin"] = factories.make_user(session, "admin@example.org", "Admin", is_admin=True)
    seminar = groups.create(session, viewer_for(session, people["instructor"]), "Seminar")
    other_group = groups.create(session, viewer_for(session, people["outsider"]), "Other")
    session.flush()
    for name in ("author", "member", "disabled"):
        groups.join(session, viewer_for(session, people[name]), seminar.invite_code)
    session.commit()
    assert viewer_for(session, people["instructor"]).roles[seminar.id] is Role.OWNER
    notes = {
        "private": factories.make_annotation(
            session, people["author"], seeded, "Krasin", body="words for me alone"
        ),
        "group": factories.make_annotation(
            session, people["author"], seeded, "Arcos", body="words for the seminar", group=seminar
        ),
        "public": factories.make_annotation(
            session,
            people["author"],
            seeded,
            "Rapallo",
            body="words for everyone",
            visibility=Visibility.PUBLIC,
        ),
    }
    clients = {}
    for name in VIEWERS:
        client = app.test_client()
        if name != "anonymous":
            assert AuthActions(client).login(email=f"{name}@example.org").status_code == 302
        clients[name] = client
    people["disabled"].is_disabled = True  # after signing in: that session must end
    session.commit()
    return {
        "people": people,
        "group": seminar,
        "other_group": other_group,
        "notes": notes,
        "clients": clients,
    }


LENSES = ("mine", "public", "group", "other_group")


def _lens_keys(world) -> list[str]:
    return [f"group-{world[k].id}" if k.endswith("group") else k for k in LENSES]


def _all_lenses(client, world) -> list[str]:
    """The reading page and its print version (every note of the lens) in every lens."""
    return [
        client.get(page, query_string={"lens": k}).get_data(as_text=True)
        for page in (PAGE, f"{PAGE}/print")
        for k in _lens_keys(world)
    ]


def _all_parts(client, world) -> list[str]:
    """The parts holding the notes, and the whole text's, from their own addresses in every
    lens, as a live update fetches them."""
    numbers = {0}
    for note in world["notes"].values():
        content = note.revision.content
        numbers.add(content[: note.start].count("\n\n") + 1)
    return [
        client.get(f"{PAGE}/parts/{n}", query_string={"lens": k}).get_data(as_text=True)
        for k in _lens_keys(world)
        for n in sorted(numbers)
    ]


def _all_fed_parts(client, world) -> list[str]:
    """The parts the reading page's own feed brings from the start of the change log, in every
    lens, as a live update receives them."""
    return [
        html
        for k in _lens_keys(world)
        for html in client.get(f"{PAGE}/events", query_string={"lens": k, "after": 0})
        .get_json()["parts"]
        .values()
    ]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_read_paths(world, viewer):
    client = world["clients"][viewer]
    lens_pages = _all_lenses(client, world)
    pages = "".join(lens_pages)
    parts = "".join(_all_parts(client, world))
    fed_parts = "".join(_all_fed_parts(client, world))
    listing = client.get("/api/v1/annotations", query_string={"text": "carr-rapprochement"})
    listed = {item["id"].rsplit("/", 1)[1] for item in listing.get_json()["first"]["items"]}
    feed = client.get("/api/v1/texts/carr-rapprochement/events", query_string={"after": 0})
    fed = {str(e["annotation"]) for e in feed.get_json()["events"]}
    for kind in KINDS:
        note = world["notes"][kind]
        allowed = viewer in SEES[kind]
        single = client.get(f"/api/v1/annotations/{note.id}")
        assert single.status_code == (200 if allowed else 404), (kind, viewer)
        assert (str(note.id) in listed) is allowed, (kind, viewer)
        assert (str(note.id) in fed) is allowed, (kind, viewer)
        # Pages show group notes in the group's lens, which admins (not members) do not have.
        on_page = allowed and not (viewer == "admin" and kind == "group")
        assert (note.body_source in pages) is on_page, (kind, viewer)
        assert (note.body_source in parts) is on_page, (kind, viewer)
        assert (note.body_source in fed_parts) is on_page, (kind, viewer)
        if not allowed:
            assert all(dom(page).find(id=f"a{note.id}") is None for page in lens_pages)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_actions(world, viewer, session):
    client = world["clients"][viewer]
    token = csrf_token(client, PAGE)
    headers = {"X-CSRFToken": token}
    for kind in KINDS:
        note = world["notes"][kind]
        url = f"/api/v1/annotations/{note.id}"
        sees, talks, hides = viewer in SEES[kind], viewer in TALKS[kind], viewer in HIDES[kind]
        denied = 404 if not sees else 403
        signed_out = viewer in ("anonymous", "disabled")

        def expect(response, allowed, ok, kind=kind, signed_out=signed_out, denied=denied):
            expected = ok if allowed else (401 if signed_out else denied)
            assert response.status_code == expected, (kind, viewer, response.get_json())

        reply = {
            "type": "Annotation",
            "motivation": "replying",
            "target": f"http://localhost{url}",
            "body": [{"type": "TextualBody", "value": f"reply by {viewer}"}],
        }
        expect(client.post("/api/v1/annotations", json=reply, headers=headers), talks, 201)
        is_author = viewer == "author"
        # Readers react to others' notes: the author talks in the thread but does not react.
        expect(client.put(f"{url}/reactions/agree", headers=headers), talks and not is_author, 204)
        expect(
            client.patch(
                url, json={"body": [{"type": "TextualBody", "value": "edited"}]}, headers=headers
            ),
            is_author,
            200,
        )
        flag = {"reason": f"flag by {viewer}"}
        expect(client.post(f"{url}/flags", json=flag, headers=headers), viewer in FLAGS[kind], 201)
        expect(client.post(f"{url}/hidden", json={"hidden": True}, headers=headers), hides, 200)
        if hides:
            client.post(f"{url}/hidden", json={"hidden": False}, headers=headers)
        # Delete last (its author deletes it, a moderator removes it), then undo, so the other
        # cells still find the note. The author alone undoes their deletion; a removal, the
        # moderators (the author included, who cannot).
        deletes = is_author or hides
        expect(client.delete(url, headers=headers), deletes, 204)
        if deletes:
            undoers = HIDES[kind] if hides else {viewer}
            for other in set(VIEWERS) - undoers - {"anonymous", "disabled"}:
                restored = world["clients"][other].post(
                    f"{url}/restore", headers={"X-CSRFToken": csrf_token(world["clients"][other])}
                )
                assert restored.status_code == 404, (kind, viewer, other)
            assert client.post(f"{url}/restore", headers=headers).status_code == 200


def test_a_flag_tells_the_moderators_of_its_audience_and_nobody_else(world):
    clients = world["clients"]
    for kind in KINDS:
        url = f"/api/v1/annotations/{world['notes'][kind].id}/flags"
        for flagger in FLAGS[kind]:
            client = clients[flagger]
            reason = {"reason": f"{kind} flag by {flagger}"}
            response = client.post(url, json=reason, headers={"X-CSRFToken": csrf_token(client)})
            assert response.status_code == 201, (kind, flagger)
    for reader in VIEWERS:
        inbox = clients[reader].get("/inbox")
        if reader in ("anonymous", "disabled"):
            assert inbox.status_code == 302, reader  # to sign in
            continue
        page = inbox.get_data(as_text=True)
        for kind in KINDS:
            for flagger in FLAGS[kind]:
                told = reader in TOLD[kind] and reader != flagger
                assert (f"{kind} flag by {flagger}" in page) is told, (reader, kind, flagger)
