"""The seminar against a hostile member: moves, removals, hides, side channels and floods.

Each test acts out what a member with a grudge (or a script) tried, through the forms and the
API as a browser or a client would, and checks what the others then read.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import (
    Annotation,
    AnnotationVersion,
    Event,
    Flag,
    Motivation,
    Notification,
    Visibility,
)
from app.services import annotations, discussion, groups
from app.services.access import viewer_for
from tests import factories
from tests.factories import (
    PAGE,
    Browser,
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


@pytest.fixture
def seminar(app, session, seeded):
    """Ada owns the seminar; Bea and Cy are members; Bea also owns a group of her own."""
    ada = sign_in(app, session, "Ada Lovelace")
    bea = sign_in(app, session, "Bea")
    cy = sign_in(app, session, "Cy")
    group = make_group(session, ada.user, bea.user, cy.user)
    own = make_group(session, bea.user, name="Bea's own")
    return {"ada": ada, "bea": bea, "cy": cy, "group": group, "own": own, "text": seeded}


def remove(session, owner, group, member) -> None:
    groups.remove_member(session, viewer_for(session, owner.user), group.id, member.user.id)
    session.commit()


def audience_of(session, annotation_id: int) -> tuple[Visibility, int | None]:
    stored = fresh(session).get(Annotation, annotation_id)
    return stored.visibility, stored.group_id


# ---- a move never shows anyone's words to new readers -----------------------------------------


def test_a_thread_with_others_replies_stays_with_its_audience(app, session, seminar):
    ada, bea, group, own, text = (seminar[k] for k in ("ada", "bea", "group", "own", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "My question", "group", group)
    reply = form_reply(ada, note, "The owner's answer, for the group only")

    for audience in ({"scholia:visibility": "public"}, {"scholia:group": own.id}):
        payload = {"scholia:visibility": "group", **audience}
        refused = bea.api("PATCH", f"/api/v1/annotations/{note}", payload)
        assert refused.status_code == 409
        assert "Others have replied" in refused.get_json()["detail"]
    response = bea.post(f"/notes/{note}/visibility", audience="public", confirm="1")
    assert "Others have replied" in flashed(bea, response)
    assert audience_of(session, note) == audience_of(session, reply) == (Visibility.GROUP, group.id)
    anonymous = Browser(app)
    assert anonymous.get(f"/api/v1/annotations/{reply}").status_code == 404
    assert anonymous.get(f"/notes/{note}").status_code == 404
    assert "for the group only" not in anonymous.html(f"{PAGE}?lens=public")


def test_a_deleted_reply_by_someone_else_keeps_the_thread_too(app, session, seminar):
    """Its author may restore it: moved, it would come back before new readers."""
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "My question", "group", group)
    reply = form_reply(ada, note, "Said, then deleted")
    ada.post(f"/notes/{reply}/delete")
    refused = bea.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "public"})
    assert refused.status_code == 409
    assert ada.api("POST", f"/api/v1/annotations/{reply}/restore").status_code == 200
    assert seminar["cy"].get(f"/api/v1/annotations/{reply}").status_code == 200  # the group's
    assert Browser(app).get(f"/api/v1/annotations/{reply}").status_code == 404  # nobody else's


def test_a_thread_of_the_authors_own_words_moves_and_its_history_stays_theirs(
    app, session, seminar
):
    bea, cy = seminar["bea"], seminar["cy"]
    note = api_note(bea, seminar["text"], "Litvinov in Copenhagen", "Draft written for myself")
    bea.api(
        "PATCH",
        f"/api/v1/annotations/{note}",
        {"body": [{"type": "TextualBody", "value": "Ready for the seminar"}]},
    )
    own_reply = form_reply(bea, note, "A thought of mine under it")  # private: only Bea replies
    moved = bea.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "public"})
    assert moved.status_code == 200
    assert audience_of(session, own_reply) == (Visibility.PUBLIC, None)

    # Everyone reads the note now, but not what Bea wrote while it was hers alone.
    history = cy.html(f"/notes/{note}/history")
    assert "Ready for the seminar" in history
    assert "Draft written for myself" not in history
    assert "only its author can read it" in history
    assert "Draft written for myself" in bea.html(f"/notes/{note}/history")

    # What she writes from now on is written for the new audience, and so is its history.
    bea.api(
        "PATCH",
        f"/api/v1/annotations/{note}",
        {"body": [{"type": "TextualBody", "value": "Revised in public"}]},
    )
    history = cy.html(f"/notes/{note}/history")
    assert "Ready for the seminar" in history and "Revised in public" in history
    assert "Draft written for myself" not in history
    assert (
        fresh(session).scalar(
            select(func.count())
            .select_from(AnnotationVersion)
            .where(AnnotationVersion.annotation_id == note, AnnotationVersion.author_only)
        )
        == 1
    )


# ---- a removed member writes nothing more in the group ----------------------------------------


def test_a_removed_member_can_no_longer_change_what_they_wrote_in_the_group(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(bea, text, "Litvinov in Copenhagen", "Written as a member", "group", group)
    reply = form_reply(bea, note, "A reply as a member")
    deleted = form_reply(bea, note, "Deleted as a member")
    bea.post(f"/notes/{deleted}/delete")
    remove(session, ada, group, bea)

    change = {"body": [{"type": "TextualBody", "value": "Rewritten after removal"}]}
    for target in (note, reply):
        for method in ("PATCH", "PUT"):
            refused = bea.api(method, f"/api/v1/annotations/{target}", change)
            assert refused.status_code == 403, (method, target)
            assert "no longer a member" in refused.get_json()["detail"]
        assert bea.api("DELETE", f"/api/v1/annotations/{target}").status_code == 403
        assert bea.post(f"/notes/{target}/delete").status_code == 403
        assert bea.post(f"/notes/{target}/edit", body="Rewritten by form").status_code == 403
    moved = bea.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "public"})
    assert moved.status_code == 403
    assert bea.api("POST", f"/api/v1/annotations/{deleted}/restore").status_code == 404
    assert bea.post(f"/notes/{deleted}/restore").status_code == 404
    assert api_reply(bea, note, "Still here?").status_code == 403

    page = cy.html(f"{PAGE}?lens=group-{group.id}")
    assert "Written as a member" in page and "A reply as a member" in page
    assert "Rewritten" not in page and "Deleted as a member" not in page
    stored = fresh(session).get(Annotation, note)
    assert stored.body_source == "Written as a member" and stored.deleted_at is None


def test_a_member_let_back_in_may_write_again(app, session, seminar):
    ada, bea, group, text = (seminar[k] for k in ("ada", "bea", "group", "text"))
    note = api_note(bea, text, "Krasin", "Mine", "group", group)
    remove(session, ada, group, bea)
    change = {"body": [{"type": "TextualBody", "value": "Back again"}]}
    assert bea.api("PATCH", f"/api/v1/annotations/{note}", change).status_code == 403
    groups.readmit(session, viewer_for(session, ada.user), group.id, bea.user.id)
    session.commit()
    assert bea.post(f"/join/{group.invite_code}").status_code == 302
    assert bea.api("PATCH", f"/api/v1/annotations/{note}", change).status_code == 200


# ---- a hide sticks ----------------------------------------------------------------------------


def test_a_hidden_note_cannot_be_moved_to_be_unhidden_elsewhere(app, session, seminar):
    ada, bea, cy, group, own, text = (
        seminar[k] for k in ("ada", "bea", "cy", "group", "own", "text")
    )
    note = api_note(bea, text, "Litvinov in Copenhagen", "Something rude", "group", group)
    assert (
        ada.api("POST", f"/api/v1/annotations/{note}/hidden", {"hidden": True}).status_code == 200
    )

    for payload in (
        {"scholia:visibility": "group", "scholia:group": own.id},
        {"scholia:visibility": "public"},
        {"scholia:visibility": "private"},
    ):
        refused = bea.api("PATCH", f"/api/v1/annotations/{note}", payload)
        assert refused.status_code == 403
        assert "hidden" in refused.get_json()["detail"]
    assert bea.api("POST", f"/api/v1/annotations/{note}/hidden", {"hidden": False}).status_code == (
        403
    )
    assert audience_of(session, note) == (Visibility.GROUP, group.id)
    assert dom(bea.html(f"/notes/{note}")).select_one(f"#audience-{note}") is None  # nor offered
    assert "Something rude" not in cy.html(f"{PAGE}?lens=group-{group.id}")
    seen = cy.get(f"/api/v1/annotations/{note}").get_json()
    assert seen["scholia:hidden"] is True and "Something rude" not in str(seen)

    # Only a moderator of the audience it is in shows it again.
    assert ada.api("POST", f"/api/v1/annotations/{note}/hidden", {"hidden": False}).status_code == (
        200
    )
    assert "Something rude" in cy.html(f"{PAGE}?lens=group-{group.id}")


def test_an_author_who_moderates_does_not_undo_a_hide_of_their_own_note(app, session, seminar):
    """An instructor's note, hidden by the site's administrator, stays hidden."""
    ada, group, text = (seminar[k] for k in ("ada", "group", "text"))
    admin = sign_in(app, session, "Admin", is_admin=True)
    note = api_note(ada, text, "Krasin", "The owner's own remark", "group", group)
    assert admin.api(
        "POST", f"/api/v1/annotations/{note}/hidden", {"hidden": True}
    ).status_code == (200)
    refused = ada.api("POST", f"/api/v1/annotations/{note}/hidden", {"hidden": False})
    assert refused.status_code == 403
    assert fresh(session).get(Annotation, note).hidden_at is not None
    # Hiding and unhiding one's own note oneself stays possible.
    mine = api_note(ada, text, "Arcos", "Hidden by myself", "group", group)
    ada.api("POST", f"/api/v1/annotations/{mine}/hidden", {"hidden": True})
    assert ada.api("POST", f"/api/v1/annotations/{mine}/hidden", {"hidden": False}).status_code == (
        200
    )


def test_a_thread_under_moderation_stays_where_it_is(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    hidden_reply_thread = api_note(bea, text, "Krasin", "Root", "group", group)
    hidden_reply = form_reply(bea, hidden_reply_thread, "My own rude reply")
    ada.api("POST", f"/api/v1/annotations/{hidden_reply}/hidden", {"hidden": True})
    refused = bea.api(
        "PATCH", f"/api/v1/annotations/{hidden_reply_thread}", {"scholia:visibility": "public"}
    )
    assert refused.status_code == 409 and "hidden" in refused.get_json()["detail"]

    flagged = api_note(bea, text, "Arcos", "Flag bait", "group", group)
    cy.post(f"/notes/{flagged}/flag", reason="Please look at this")
    refused = bea.api("PATCH", f"/api/v1/annotations/{flagged}", {"scholia:visibility": "private"})
    assert refused.status_code == 409 and "look at" in refused.get_json()["detail"]
    assert audience_of(session, flagged) == (Visibility.GROUP, group.id)
    # Once the instructor has dismissed the flag, it is the author's to move again.
    flag_id = fresh(session).scalar(select(Flag.id).where(Flag.annotation_id == flagged))
    ada.post(f"/groups/{group.id}/flags/{flag_id}/resolve")
    moved = bea.api("PATCH", f"/api/v1/annotations/{flagged}", {"scholia:visibility": "private"})
    assert moved.status_code == 200


# ---- what is derived from hidden words --------------------------------------------------------


def test_a_hidden_notes_tags_are_in_no_suggestion_list_or_filter(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = factories.make_annotation(
        session, bea.user, text, "Krasin", body="words", tags=("secretword",), group=group
    )
    cy_note = factories.make_annotation(
        session, cy.user, text, "Arcos", body="mine", tags=("cystag",), group=group
    )
    lens = f"{PAGE}?lens=group-{group.id}"

    def suggested(page: str) -> list[str]:
        return [option["value"] for option in dom(page).select("datalist#tag-suggestions option")]

    def card(page: str, note_id: int):
        return dom(page).select_one(f"article.note#a{note_id}")

    assert "secretword" in suggested(cy.html(lens))  # before the hide: a tag like any other
    ada.post(f"/notes/{note.id}/hide", hidden="1")

    page = cy.html(lens)
    assert "secretword" not in page
    assert card(page, note.id) is not None  # the card says it was hidden, nothing more
    assert card(cy.html(f"{lens}&tag=secretword"), note.id) is None
    assert card(cy.html(f"{lens}&kind=note"), note.id) is None
    assert card(cy.html(f"{lens}&kind=note"), cy_note.id) is not None
    # The notebook's tag list is the reader's own tags.
    notebook = cy.html("/notes")
    assert "cystag" in notebook and "secretword" not in notebook

    for moderator_or_author in (ada, bea):
        assert "secretword" in suggested(moderator_or_author.html(lens))
        assert card(moderator_or_author.html(f"{lens}&tag=secretword"), note.id) is not None


# ---- a thread no page can fail on, and moderators who can remove it ---------------------------

CHAIN = 1_100  # replies each answering the last: deeper than Python's recursion limit


def test_a_chain_of_a_thousand_replies_renders_and_a_moderator_removes_it(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    root = factories.make_annotation(session, bea.user, text, "Krasin", body="Root", group=group)
    author = viewer_for(session, bea.user)
    parent = root.id
    for n in range(CHAIN):
        parent = discussion.reply(session, author, parent, f"link {n}").id
    session.commit()

    lens = f"{PAGE}?lens=group-{group.id}"
    page = cy.html(lens)
    assert f"{CHAIN} replies" in page and "link 1099" in page
    note_page = cy.html(f"/notes/{parent}")
    assert len(dom(note_page).select("li.reply")) == CHAIN
    assert Browser(app).get(f"/notes/{root.id}").status_code == 404

    # Cy may not; the owner removes the whole thread at once.
    assert cy.api("DELETE", f"/api/v1/annotations/{root.id}").status_code == 403
    assert "Remove thread" in ada.html(f"/notes/{root.id}")
    response = ada.post(f"/notes/{root.id}/delete")
    assert "Removed, with its replies." in flashed(ada, response)
    assert "link 5" not in cy.html(lens) and "Root" not in cy.html(lens)
    assert cy.get(f"/notes/{parent}").status_code == 404
    live = fresh(session).scalar(
        select(func.count()).where(Annotation.root_id == root.id, Annotation.deleted_at.is_(None))
    )
    assert live == 0
    # Its author cannot bring back what a moderator removed; the moderator can.
    assert bea.post(f"/notes/{root.id}/restore").status_code == 404
    assert bea.api("POST", f"/api/v1/annotations/{parent}/restore").status_code == 404
    assert ada.post(f"/notes/{root.id}/restore").status_code == 302
    assert "link 1099" in cy.html(lens)


def test_a_moderator_removes_one_reply_with_the_answers_beneath_it(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    root = api_note(cy, text, "Krasin", "A fair question", "group", group)
    flood = form_reply(bea, root, "Flood 1")
    deeper = form_reply(bea, flood, "Flood 2")
    kept = form_reply(cy, root, "A fair answer")
    assert ada.api("DELETE", f"/api/v1/annotations/{flood}").status_code == 204
    page = cy.html(f"{PAGE}?lens=group-{group.id}")
    assert "Flood" not in page and "A fair answer" in page and "A fair question" in page
    stored = fresh(session)
    assert stored.get(Annotation, deeper).deleted_by_id == ada.user.id
    assert stored.get(Annotation, kept).deleted_at is None


# ---- a page that grows with its annotations, the same for every anonymous visitor -------------


def _nested_public_highlights(session, user, text, first: int, count: int) -> None:
    """Highlights one inside the other in the longest paragraph, the ``first``-th to the
    ``first + count``-th from the outside."""
    content = text.current_revision.content
    span = max(text.current_revision.spans(), key=lambda s: s.end - s.start)
    assert span.end - span.start > 2 * (first + count)
    author = viewer_for(session, user)
    for n in range(first, first + count):
        start, end = span.start + n, span.end - n
        draft = annotations.Draft(
            text_slug=text.slug,
            motivation=Motivation.HIGHLIGHTING,
            target=annotations.SpanTarget(exact=content[start:end], start=start, end=end),
            visibility=Visibility.PUBLIC,
        )
        annotations.create(session, author, draft)
    session.commit()


def test_the_page_grows_linearly_with_nested_highlights(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    anonymous = Browser(app)

    def size() -> int:
        return len(anonymous.get(f"{PAGE}?lens=public").get_data())

    base = size()
    _nested_public_highlights(session, bea.user, text, 0, 150)
    small = size()
    _nested_public_highlights(session, bea.user, text, 150, 150)  # 300, each inside the last
    large = size()
    # Doubling the highlights at most doubles what they add (quadratic growth quadruples it).
    assert (large - base) < 2.3 * (small - base), (base, small, large)


def test_anonymous_visitors_share_one_cached_page(app, session, seminar, engine):
    from tests.factories import recorded_queries

    first, second = app.test_client(), app.test_client()
    html = first.get(PAGE).get_data(as_text=True)
    assert "csrf" not in html.lower()
    assert first.get_cookie("session") is None
    with recorded_queries(engine) as statements:
        response = second.get(PAGE)
    assert response.get_data(as_text=True) == html
    assert second.get_cookie("session") is None
    assert len(statements) <= 1, statements  # where the text's change log stands, nothing else


def test_what_one_visitor_adds_to_the_address_never_reaches_another(app, session, seminar):
    """The shared page's links are made from what the page shows, not from the request."""
    bea, text = seminar["bea"], seminar["text"]
    for _ in range(4):  # four notes on one paragraph: a "Show 1 more" link
        factories.make_annotation(
            session, bea.user, text, "Krasin", body="public", visibility=Visibility.PUBLIC
        )
    first, second = app.test_client(), app.test_client()
    baited = first.get(f"{PAGE}?lens=public&utm_source=phish-here&next=//evil.example")
    assert baited.status_code == 200
    page = second.get(f"{PAGE}?lens=public").get_data(as_text=True)
    assert dom(page).select("a.more-notes-link")
    assert "phish-here" not in page and "evil.example" not in page


# ---- one account cannot flood a text ----------------------------------------------------------


@pytest.fixture
def tight_quota(app):
    app.config.update(WRITES_PER_MINUTE=3, WRITES_PER_DAY=5)


def _annotations_by(session, user) -> int:
    return fresh(session).scalar(
        select(func.count()).select_from(Annotation).where(Annotation.user_id == user.id)
    )


def test_a_flood_of_creates_is_refused_with_429_and_retry_after(app, session, seminar, tight_quota):
    bea, text = seminar["bea"], seminar["text"]
    note = api_note(bea, text, "Krasin", "one")
    api_reply(bea, note, "two")
    api_note(bea, text, "Arcos", "three")
    payload = {
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": "four"}],
        "target": {"source": f"http://localhost{PAGE}", "selector": []},
    }
    refused = bea.api("POST", "/api/v1/annotations", payload)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "try again" in refused.get_json()["detail"]
    assert api_reply(bea, note, "five").status_code == 429
    form = bea.post(f"{PAGE}/notes", body="Words I do not want to lose")
    assert form.status_code == 429 and form.headers["Retry-After"]
    assert "Words I do not want to lose" in form.get_data(as_text=True)
    assert _annotations_by(session, bea.user) == 3
    # Others are not held back by Bea's quota.
    assert seminar["cy"].api("POST", "/api/v1/annotations", payload).status_code == 201


def test_the_quota_frees_up_as_the_window_passes(app, session, seminar, tight_quota):
    bea, text = seminar["bea"], seminar["text"]
    for quote in ("Krasin", "Arcos", "Rapallo"):
        api_note(bea, text, quote, "note")
    assert bea.post(f"{PAGE}/notes", body="too soon").status_code == 429

    # Two minutes on: the minute's quota is free again, the day's has two left.
    for row in fresh(session).scalars(select(Event).where(Event.actor_id == bea.user.id)):
        row.created_at -= timedelta(minutes=2)
    session.commit()
    assert bea.post(f"{PAGE}/notes", body="four").status_code == 302
    assert bea.post(f"{PAGE}/notes", body="five").status_code == 302
    refused = bea.post(f"{PAGE}/notes", body="six")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 3600  # the day's quota, hours away
    assert re.search(r"try again in \d+ hours", refused.get_data(as_text=True))
    assert _annotations_by(session, bea.user) == 5


def test_every_kind_of_change_counts_against_the_quota(app, session, seminar, tight_quota):
    """Toggling a reaction, editing, moving: each is a change every open page must render
    again, and one account's script must not be able to make them without end."""
    bea, cy, text, group = seminar["bea"], seminar["cy"], seminar["text"], seminar["group"]
    note = api_note(cy, text, "Krasin", "Cy's note", "group", group)
    mine = api_note(bea, text, "Arcos", "Bea's note")
    reaction = f"/api/v1/annotations/{note}/reactions/agree"
    for method in ("PUT", "DELETE"):
        assert bea.api(method, reaction).status_code == 204
    edit = {"body": [{"type": "TextualBody", "value": "again"}]}
    refused = bea.api("PATCH", f"/api/v1/annotations/{mine}", edit)  # the fourth change
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert bea.api("PUT", reaction).status_code == 429
    assert fresh(session).get(Annotation, mine).body_source == "Bea's note"
    ada = seminar["ada"]
    assert ada.api("PUT", reaction).status_code == 204  # her quota is hers


# ---- a careless client ------------------------------------------------------------------------


def _target(text, quote: str, **position) -> dict:
    selectors = [{"type": "TextQuoteSelector", "exact": quote}]
    if position:
        selectors.append({"type": "TextPositionSelector", **position})
    return {"source": f"http://localhost{PAGE}", "selector": selectors}


def test_motivations_fit_what_is_written(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    note = api_note(bea, text, "Krasin", "A note")
    top_level_reply = {
        "type": "Annotation",
        "motivation": "replying",
        "body": [{"type": "TextualBody", "value": "Replying to nothing"}],
        "target": _target(text, "Arcos"),
    }
    refused = bea.api("POST", "/api/v1/annotations", top_level_reply)
    assert refused.status_code == 422 and "replying" in refused.get_json()["detail"]
    highlighting_reply = api_reply(bea, note, "A reply", motivation="highlighting")
    assert highlighting_reply.status_code == 422
    made_a_reply = bea.api("PATCH", f"/api/v1/annotations/{note}", {"motivation": "replying"})
    assert made_a_reply.status_code == 422
    assert _annotations_by(session, bea.user) == 1


def test_a_position_is_a_number_not_a_boolean(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    content = text.current_revision.content
    payload = {
        "type": "Annotation",
        "target": _target(text, content[0:6], start=False, end=6),
    }
    refused = bea.api("POST", "/api/v1/annotations", payload)
    assert refused.status_code == 400 and "integer" in refused.get_json()["detail"]
    assert _annotations_by(session, bea.user) == 0


def test_a_reply_or_a_whole_text_note_cannot_be_emptied_by_an_edit(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    note = api_note(bea, text, "Krasin", "Has words")
    reply = api_reply(bea, note, "Has words too").get_json()["id"].rsplit("/", 1)[1]
    whole = bea.api(
        "POST",
        "/api/v1/annotations",
        {
            "type": "Annotation",
            "body": [{"type": "TextualBody", "value": "On the whole text"}],
            "target": f"http://localhost{PAGE}",
        },
    ).get_json()["id"]
    whole = whole.rsplit("/", 1)[1]
    for target, words in ((reply, "Has words too"), (whole, "On the whole text")):
        refused = bea.api("PUT", f"/api/v1/annotations/{target}", {})
        assert refused.status_code == 422 and "needs some words" in refused.get_json()["detail"]
        blank = {"body": [{"type": "TextualBody", "value": "   "}]}
        assert bea.api("PATCH", f"/api/v1/annotations/{target}", blank).status_code == 422
        assert "needs some words" in flashed(bea, bea.post(f"/notes/{target}/edit", body=" "))
        assert fresh(session).get(Annotation, int(target)).body_source == words
    # A highlight on words may lose its words: it is a highlight again.
    assert bea.api("PUT", f"/api/v1/annotations/{note}", {}).status_code == 200


def test_flagging_twice_is_one_flag(app, session, seminar):
    bea, cy, text, group = seminar["bea"], seminar["cy"], seminar["text"], seminar["group"]
    note = api_note(bea, text, "Krasin", "Flag me", "group", group)
    for _ in range(5):
        assert cy.post(f"/notes/{note}/flag", reason="Rude").status_code == 302
    flags = fresh(session).scalars(select(Flag).where(Flag.annotation_id == note)).all()
    assert len(flags) == 1
    # One notice for the instructor, not one per try.
    to_ada = select(Notification).where(Notification.user_id == seminar["ada"].user.id)
    assert len(fresh(session).scalars(to_ada).all()) == 1
    # Flag is not offered (nor accepted) on what an instructor has already hidden.
    other = api_note(bea, text, "Arcos", "Already hidden", "group", group)
    seminar["ada"].post(f"/notes/{other}/hide", hidden="1")
    refused = cy.post(f"/notes/{other}/flag", reason="Rude")
    assert refused.status_code == 403
    assert "An instructor has hidden this annotation." in refused.get_data(as_text=True)
    response = cy.api("POST", f"/api/v1/annotations/{other}/flags", {"reason": "Rude"})
    assert response.status_code == 403
    assert response.get_json()["detail"] == "An instructor has hidden this annotation."
    assert f"/notes/{other}/flag" not in cy.html(f"/notes/{other}")
    assert "/flag" not in str(
        dom(cy.html(f"{PAGE}?lens=group-{group.id}")).select_one(f"#a{other}")
    )
    assert len(fresh(session).scalars(to_ada).all()) == 1


def test_a_300000_character_context_is_refused_at_once(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    target = _target(text, "Krasin")
    target["selector"][0].update(prefix="x" * 300_000, suffix="y" * 300_000)
    refused = bea.api("POST", "/api/v1/annotations", {"type": "Annotation", "target": target})
    assert refused.status_code == 413
    assert "prefix may have at most 1,000 characters" in refused.get_json()["detail"]
    assert _annotations_by(session, bea.user) == 0


def test_restoring_part_of_a_removal_brings_back_that_part_alone(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    root = api_note(cy, text, "Krasin", "The question", "group", group)
    first = form_reply(bea, root, "First answer")
    beneath = form_reply(bea, first, "Beneath the first")
    form_reply(cy, root, "Second answer")
    lens = f"{PAGE}?lens=group-{group.id}"

    def shown() -> set[str]:
        page = cy.html(lens)
        words = ("The question", "First answer", "Beneath the first", "Second answer")
        return {w for w in words if w in page}

    assert ada.api("DELETE", f"/api/v1/annotations/{first}").status_code == 204
    assert ada.api("DELETE", f"/api/v1/annotations/{root}").status_code == 204  # a later removal
    assert shown() == set()
    refused = ada.api("POST", f"/api/v1/annotations/{beneath}/restore")
    assert (
        refused.status_code == 409 and "removed what this answers" in refused.get_json()["detail"]
    )
    assert ada.api("POST", f"/api/v1/annotations/{root}/restore").status_code == 200
    assert shown() == {"The question", "Second answer"}  # the earlier removal stays
    assert ada.api("POST", f"/api/v1/annotations/{first}/restore").status_code == 200
    assert shown() == {"The question", "Second answer", "First answer", "Beneath the first"}


def test_deleting_a_note_keeps_the_answers_others_wrote(app, session, seminar):
    """An author who deletes their note does not take the seminar's answers with it."""
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    note = api_note(bea, text, "Krasin", "A question I regret", "group", group)
    answer = form_reply(ada, note, "The instructor's answer")
    lens = f"{PAGE}?lens=group-{group.id}"
    assert bea.api("DELETE", f"/api/v1/annotations/{note}").status_code == 204

    page = cy.html(lens)
    parsed = dom(page)
    card = parsed.select_one(f"article.note.note-deleted#a{note}")
    assert "Note deleted. Its answers are kept." in text_of(card)
    assert "The instructor's answer" in text_of(card)
    assert "A question I regret" not in page
    # Nothing of the card names its author: not its words, nor its attributes (aria-label...).
    attributes = [str(v) for e in [card, *card.find_all(True)] for v in e.attrs.values()]
    assert "Bea" not in text_of(card) and not any("Bea" in v for v in attributes)
    # Its highlight is gone.
    assert not any(str(note) in m["data-starts"].split() for m in parsed.select("[data-starts]"))
    for path in (f"/notes/{note}", f"/notes/{answer}"):
        thread_page = cy.html(path)
        assert "The instructor's answer" in thread_page
        assert "A question I regret" not in thread_page
    assert cy.get(f"/api/v1/annotations/{note}").status_code == 404
    # Outside the group nobody learns of it; with its answer deleted too, it is gone.
    assert Browser(app).get(f"/notes/{answer}").status_code == 404
    ada.post(f"/notes/{answer}/delete")
    assert "Note deleted." not in cy.html(lens)
    assert cy.get(f"/notes/{note}").status_code == 404


def test_an_edit_that_keeps_a_tag_and_adds_another_saves_both(app, session, seminar):
    bea, text = seminar["bea"], seminar["text"]
    note = factories.make_annotation(session, bea.user, text, "Krasin", body="x", tags=("a1",))
    changes = {
        "body": [
            {"type": "TextualBody", "value": "x"},
            {"type": "TextualBody", "purpose": "tagging", "value": "a1"},
            {"type": "TextualBody", "purpose": "tagging", "value": "b2"},
        ]
    }
    assert bea.api("PATCH", f"/api/v1/annotations/{note.id}", changes).status_code == 200
    assert bea.post(f"/notes/{note.id}/edit", body="x", tags="b2 c3 a1").status_code == 302
    assert fresh(session).get(Annotation, note.id).tag_names == ["a1", "b2", "c3"]


@pytest.mark.parametrize("query", ["note=", "note=&note=2", "expand=", "expand=&discuss="])
def test_an_empty_paragraph_parameter_is_no_paragraph(app, session, seminar, query):
    bea, text = seminar["bea"], seminar["text"]
    for _ in range(4):  # a "Show 1 more" link, whose address repeats the page's
        factories.make_annotation(
            session, bea.user, text, "Krasin", body="public", visibility=Visibility.PUBLIC
        )
    for reader in (bea, Browser(app)):
        assert reader.get(f"{PAGE}?lens=public&{query}").status_code == 200


def test_a_removed_member_cannot_rejoin_by_the_invite_link(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    api_note(cy, text, "Krasin", "For the seminar", "group", group)
    ada.post(f"/groups/{group.id}/members/{bea.user.id}/remove")
    refused = bea.post(f"/join/{group.invite_code}")
    assert refused.status_code == 403 and "removed you" in refused.get_data(as_text=True)
    assert "For the seminar" not in bea.html(f"{PAGE}?lens=group-{group.id}")
    page = ada.html(f"/groups/{group.id}")
    assert "Let Bea join again" in page
    # Members see nobody's removal; the instructors let her back.
    assert "Let Bea join again" not in cy.html(f"/groups/{group.id}")
    assert cy.post(f"/groups/{group.id}/removed/{bea.user.id}/readmit").status_code == 403
    ada.post(f"/groups/{group.id}/removed/{bea.user.id}/readmit")
    assert bea.post(f"/join/{group.invite_code}").status_code == 302
    assert "For the seminar" in bea.html(f"{PAGE}?lens=group-{group.id}")


def test_an_instructor_cannot_make_a_second_account_an_instructor(app, session, seminar):
    """Else it could show again what someone else hid of the instructor's own."""
    ada, bea, group = seminar["ada"], seminar["bea"], seminar["group"]
    sock = sign_in(app, session, "Sock")
    ada.post(f"/groups/{group.id}/members/{bea.user.id}/role", role="instructor")
    assert sock.post(f"/join/{group.invite_code}").status_code == 302
    refused = bea.post(f"/groups/{group.id}/members/{sock.user.id}/role", role="instructor")
    assert refused.status_code == 403


def test_a_reply_written_for_the_seminar_is_not_posted_to_a_thread_gone_public(app, seminar):
    """The writer opened the thread in the group; its author made it public before the reply
    arrived: the reply comes back to its writer instead of going out to everyone."""
    bea, cy, group, text = (seminar[k] for k in ("bea", "cy", "group", "text"))
    note = api_note(cy, text, "Krasin", "Cy's question", "group", group)
    reply_form = dom(bea.html(f"/notes/{note}")).select_one(f'form[action="/notes/{note}/reply"]')
    seen = reply_form.select_one('input[name="audience"]')["value"]
    assert seen == f"group-{group.id}"  # what Bea saw
    cy.api("PATCH", f"/api/v1/annotations/{note}", {"scholia:visibility": "public"})
    words = "Only for the seminar: my real opinion"
    refused = bea.post(f"/notes/{note}/reply", body=words, audience=f"group-{group.id}")
    assert refused.status_code == 409
    assert words in refused.get_data(as_text=True)  # back to her, to send again or not
    assert words not in Browser(app).html(f"/notes/{note}")
    # In the reading page's margin the reply link names the audience too, for margin.js.
    margin = dom(bea.html(f"{PAGE}?lens=public"))
    link = margin.select_one(f'a[data-form="reply"][data-annotation="{note}"]')
    assert link["data-audience"] == "public"


def test_notes_on_the_whole_text_are_listed_ten_at_a_time(app, session, seminar):
    """A flood of long notes on the whole text must not make every visitor's page huge."""
    bea, text = seminar["bea"], seminar["text"]
    for n in range(25):
        factories.make_annotation(
            session,
            bea.user,
            text,
            body=f"whole-text note {n:02} " + "words " * 3000,
            visibility=Visibility.PUBLIC,
        )
    anonymous = Browser(app)
    page = dom(anonymous.html(f"{PAGE}?lens=public"))
    notes = page.select_one("section.text-notes")
    assert len(notes.select("article.note")) == 10
    assert len(re.findall(r"whole-text note \d\d", text_of(page))) == 10
    assert "Notes on the whole text (25)" in text_of(page)
    (more,) = notes.select("a.more-notes-link")
    assert more.get_text().startswith("Show 15 more notes") and "expand=0" in more["href"]
    everything = dom(anonymous.html(more["href"]))
    assert len(everything.select("section.text-notes article.note")) == 25
    assert len(re.findall(r"whole-text note \d\d", text_of(everything))) == 25


def test_a_hidden_notes_kind_is_not_shown_to_those_who_cannot_read_it(app, session, seminar):
    ada, bea, cy, group, text = (seminar[k] for k in ("ada", "bea", "cy", "group", "text"))
    question = api_note(
        bea, text, "Krasin", "Is this rude?", "group", group, motivation="questioning"
    )
    ada.post(f"/notes/{question}/hide", hidden="1")
    lens = f"{PAGE}?lens=group-{group.id}"
    page = dom(cy.html(lens))
    card = page.select_one(f"article.note#a{question}")
    assert card["aria-label"].startswith("Hidden note by Bea")
    assert card.select(".kind-question") == []
    labels = [mark["data-label"] for mark in page.select("[data-label]")]
    assert "hidden annotation" in labels
    assert not any(label.startswith("note by") for label in labels)
    # Its author still sees what it is.
    own = dom(bea.html(lens)).select_one(f"article.note#a{question}")
    assert own["aria-label"].startswith("Question by Bea")
