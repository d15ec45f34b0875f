"""Issue 18's open-data features attacked as a hostile reader would: an import that names dates
no calendar holds, claims a thread by another's ``via``, or plants a group's paragraph thread."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import Annotation, Visibility
from app.models.base import utcnow
from app.services import annotations, discussion, moderation
from app.services.access import viewer_for
from tests import factories
from tests.functional.test_import import QUOTE, SLUG, api_import, collection, note, page_import

HYPOTHESIS = "application/json"


def stored(session, **where) -> list[Annotation]:
    query = select(Annotation).filter_by(**where).order_by(Annotation.id)
    return list(factories.fresh(session).scalars(query))


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:45"]
)
def test_a_date_past_the_calendars_ends_in_a_file_is_not_a_server_error(ada, session, when):
    response = api_import(ada, collection({**note(1, QUOTE, "Dated oddly"), "created": when}))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["counts"]["imported"] == 1
    page = page_import(ada, collection({**note(2, QUOTE, "Dated oddly"), "modified": when}))
    assert page.status_code == 200
    assert [a.body_source for a in stored(session)] == ["Dated oddly", "Dated oddly"]


def test_a_reply_never_joins_someone_elses_thread_that_claims_its_parents_id(
    app, ada, session, seeded
):
    """Anyone may POST an annotation with any ``id`` (kept as ``via``): a public note claiming the
    Hypothesis id of Ada's private annotation must not gather her private reply into its thread,
    where everyone would read it."""
    mallory = factories.sign_in(app, session, "Mallory")
    bait = factories.api_note(
        mallory, seeded, QUOTE, "Bait", visibility="public", id="https://hypothes.is/a/abc"
    )
    mine = [
        {
            "id": "r1",
            "uri": factories.TEXT_URL,
            "references": ["abc"],
            "text": "My private answer",
            "permissions": {"read": ["acct:ada@hypothes.is"]},
        }
    ]
    response = api_import(ada, json.dumps(mine).encode(), HYPOTHESIS)
    assert response.status_code == 201
    (line,) = response.get_json()["items"]
    assert line["outcome"] == "skipped" and "parent" in line["reason"]
    assert stored(session, parent_id=bait) == []
    assert stored(session, user_id=ada.user.id) == []


def test_a_reply_still_finds_its_parent_imported_by_the_same_reader_before(ada, session):
    first = [{"id": "abc", "uri": factories.TEXT_URL, "text": "Mine", "target": []}]
    assert api_import(ada, json.dumps(first).encode(), HYPOTHESIS).status_code == 201
    later = [{"id": "r1", "uri": factories.TEXT_URL, "references": ["abc"], "text": "And more"}]
    response = api_import(ada, json.dumps(later).encode(), HYPOTHESIS)
    assert response.get_json()["counts"]["imported"] == 1
    (parent,) = stored(session, via="https://hypothes.is/a/abc")
    (answer,) = stored(session, parent_id=parent.id)
    assert answer.body_source == "And more"


def group_item(n: int, quote: str, body: str = "", **extra) -> dict:
    audience = {"scholia:visibility": "group", "scholia:groupName": "Carr seminar"}
    return note(n, quote, body, **audience, **extra)


def test_an_import_joins_a_groups_paragraph_thread_and_plants_no_words_in_it(
    app, ada, session, seeded
):
    """A paragraph's discussion is the group's: nobody may edit or delete it, and it has no words
    of its own. An imported one joins the group's thread on that paragraph (or starts it, as
    writing in it would), its replies go under it, and words the file gave it are not kept."""
    ben = factories.sign_in(app, session, "Ben")
    group = factories.make_group(session, ben.user, ada.user, name="Carr seminar")
    paragraph = next(s for s in seeded.current_revision.spans() if QUOTE in s.paragraph.body)
    planted = group_item(1, QUOTE, "Words nobody could take back", **{"scholia:discussion": True})
    answer = {
        "id": "https://elsewhere.example/api/v1/annotations/2",
        "type": "Annotation",
        "motivation": "replying",
        "creator": {"type": "Person", "name": "Ada"},
        "body": [{"type": "TextualBody", "value": "On this paragraph"}],
        "target": planted["id"],
    }
    thread = discussion.discussion_thread(
        session, viewer_for(session, ben.user), SLUG, group.id, paragraph.paragraph.number
    )
    session.commit()

    response = api_import(ada, collection(planted, answer))
    assert response.status_code == 201
    (only,) = stored(session, is_discussion=True)
    assert (only.id, only.body_source) == (thread.id, "")
    assert (only.start, only.end) == (paragraph.start, paragraph.end)
    (reply,) = stored(session, parent_id=thread.id)
    assert (reply.body_source, reply.visibility) == ("On this paragraph", Visibility.GROUP)
    again = api_import(ada, collection(planted, answer))
    assert again.get_json()["counts"]["already imported"] == 2


def test_a_reply_posted_to_a_container_tells_nothing_of_a_note_it_may_not_see(
    app, ada, session, seeded
):
    """Posting a reply to the wrong text's container is a 409; for a private note of someone
    else's it must be the 404 of a note that never was, or the answer would say it exists and,
    tried container by container, which text it is on."""
    mallory = factories.sign_in(app, session, "Mallory")
    private = factories.api_note(ada, seeded, QUOTE, "Ada's alone", visibility="private")
    answers = []
    for target in (private, private + 1000):
        response = factories.api_reply(mallory, target, "Is it there?")
        answers.append(response.status_code)
        for slug in (SLUG, "any-other-text"):
            response = mallory.client.post(
                f"/api/v1/texts/{slug}/annotations/",
                json={
                    "type": "Annotation",
                    "motivation": "replying",
                    "body": [{"type": "TextualBody", "value": "Is it there?"}],
                    "target": f"http://localhost/api/v1/annotations/{target}",
                },
                headers={"X-CSRFToken": mallory.token},
            )
            answers.append((response.status_code, response.get_json()["detail"]))
    assert answers[:3] == answers[3:]
    assert all(status == 404 for status, _ in answers[1:3])
    assert stored(session, user_id=mallory.user.id) == []


def test_importing_again_undoes_nothing_a_moderator_did(app, ada, session, seeded):
    """The same file after an instructor hid one of its notes and removed another: both are
    already imported; neither comes back nor shows again, whatever the file says of them."""
    ida = factories.sign_in(app, session, "Ida")
    group = factories.make_group(session, ida.user, ada.user, name="Carr seminar")
    data = collection(
        group_item(1, QUOTE, "Hidden by Ida", **{"scholia:hidden": False}),
        group_item(2, "Moscow", "Removed by Ida"),
    )
    assert api_import(ada, data).status_code == 201
    hidden, removed = stored(session, group_id=group.id)
    moderation.set_hidden(session, viewer_for(session, ida.user), hidden.id, True)
    annotations.delete(session, viewer_for(session, ida.user), removed.id)
    session.commit()

    again = api_import(ada, data)
    assert again.get_json()["counts"]["already imported"] == 2
    hidden, removed = stored(session, group_id=group.id)
    assert hidden.is_hidden and removed.deleted_at is not None
    assert len(stored(session)) == 2


def test_a_note_dated_in_the_future_does_not_head_the_newest_lens(app, ada, session, seeded):
    """A public note imported with a created time years ahead would sort first in every reader's
    "newest" lens for as long as it stands: an imported time is at most the time of the import."""
    later = {"created": "2999-01-01T00:00:00Z", "modified": "2999-06-01T00:00:00Z"}
    data = collection(note(1, QUOTE, "Pinned", **{"scholia:visibility": "public"}, **later))
    assert api_import(ada, data).status_code == 201
    (imported,) = stored(session)
    assert imported.created_at <= utcnow() and imported.updated_at <= utcnow()
    served = ada.get(f"/api/v1/annotations/{imported.id}").get_json()
    assert not served["created"].startswith("2999") and not served["modified"].startswith("2999")


def test_a_reply_the_file_keeps_narrower_than_its_thread_is_not_published(ada, session):
    """Hypothesis lets a reply be read by its writer alone under a public annotation; here a
    reply is read by its thread's audience, so such a reply is skipped rather than published.
    One the file gives the thread's audience (or none) is imported."""
    world = {"read": ["group:__world__"]}
    rows = [
        {"id": "root", "uri": "u", "text": "Public", "permissions": world, "target": []},
        {"id": "mine", "uri": "u", "references": ["root"], "text": "Only me", "permissions": {}},
        {
            "id": "me2",
            "uri": "u",
            "references": ["root"],
            "text": "Only me too",
            "permissions": {"read": ["acct:ada@hypothes.is"]},
        },
        {"id": "all", "uri": "u", "references": ["root"], "text": "All", "permissions": world},
        {"id": "unsaid", "uri": "u", "references": ["root"], "text": "Unsaid"},
    ]
    report = api_import(ada, json.dumps({"rows": rows}).encode(), HYPOTHESIS).get_json()
    outcome = {line["id"]: line["outcome"] for line in report["items"]}
    assert outcome == {
        "https://hypothes.is/a/root": "imported",
        "https://hypothes.is/a/mine": "imported",
        "https://hypothes.is/a/me2": "skipped",
        "https://hypothes.is/a/all": "imported",
        "https://hypothes.is/a/unsaid": "imported",
    }
    assert "thread's" in report["items"][2]["reason"]
    assert "Only me too" not in {a.body_source for a in stored(session)}


def test_a_group_of_the_same_name_made_to_catch_a_seminars_notes_catches_none(
    app, ada, session, seeded
):
    """Group names are not unique: a stranger's group named as Ada's seminar, which she was
    invited to, must not receive her seminar's notes when she imports them. With two groups of
    that name the note is kept private, and the report says why."""
    ida, mallory = (factories.sign_in(app, session, name) for name in ("Ida", "Mallory"))
    factories.make_group(session, ida.user, ada.user, name="Carr seminar")
    trap = factories.make_group(session, mallory.user, ada.user, name="Carr seminar")
    report = api_import(ada, collection(group_item(1, QUOTE, "For the seminar"))).get_json()
    (line,) = report["items"]
    assert line["outcome"] == "imported" and "kept private" in line["reason"]
    (note_,) = stored(session)
    assert note_.visibility is Visibility.PRIVATE
    assert stored(session, group_id=trap.id) == []


def test_a_hidden_notes_via_and_canonical_are_hidden_with_its_words(app, session, seeded):
    """A POST's id (kept as via) and canonical may be any string: words a moderator hides with
    the body, or hiding would leave them for every member to read through the API."""
    ida, ann, ben, _, group = factories.seminar_of_four(app, session)
    extra = {"id": "urn:x:Words-the-instructor-hid", "canonical": "urn:x:More-of-them"}
    note_id = factories.api_note(ann, seeded, QUOTE, "Rude", "group", group, **extra)
    moderation.set_hidden(session, viewer_for(session, ida.user), note_id, True)
    session.commit()

    served = {
        who: b.get(f"/api/v1/annotations/{note_id}").get_json()
        for who, b in (("ben", ben), ("ann", ann), ("ida", ida))
    }
    assert served["ben"]["scholia:hidden"] is True
    assert not {"body", "via", "canonical"} & served["ben"].keys()
    listed = ben.get(f"/api/v1/texts/{SLUG}/annotations/").get_data(as_text=True)
    assert "instructor-hid" not in listed and "More-of-them" not in listed
    for reader in ("ann", "ida"):  # its author, and the moderator who hid it
        assert served[reader]["via"] == extra["id"]
        assert served[reader]["canonical"] == extra["canonical"]
