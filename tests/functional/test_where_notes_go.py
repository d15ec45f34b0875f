"""Where a new note goes: in a seminar's lens, to the seminar unless the reader says otherwise,
with the audience named on the Save button; a private note among shared ones is told apart by
more than colour (issue 17, "Where a note goes")."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from app.models import HighlightColor, Visibility
from tests import factories
from tests.factories import PAGE, dom, text_of


@pytest.fixture
def seminar(app, session, seeded):
    return factories.seminar_of_four(app, session)


def _note_form(html: str, number: int):
    (form,) = dom(html).select(f"div.para-row#p{number} form")
    return form


def _paragraph_number(text, quote_: str) -> int:
    content = text.current_revision.content
    return content[: content.index(quote_)].count("\n\n") + 1


def _chosen(form) -> str:
    return form.select_one("select.audience-select option[selected]")["value"]


def test_in_a_groups_lens_new_notes_default_to_the_group(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    page = dom(ben.html(f"{PAGE}?lens=group-{group.id}"))
    # What the scripts' editor and quick highlights use, and the form they copy.
    assert page.select_one("article.reading")["data-audience"] == f"group-{group.id}"
    # Without JavaScript: "Note on ¶5" opens the form on the page, set for the group.
    form = _note_form(ben.html(f"{PAGE}?lens=group-{group.id}&note=5"), 5)
    assert _chosen(form) == f"group-{group.id}"
    assert text_of(form.select_one("button.save-to")) == f"Save to {group.name}"
    # Each choice carries the words the button takes when it is chosen.
    saves = {o["value"]: o["data-save"] for o in form.select("select.audience-select option")}
    assert saves == {
        "private": "Save for me only",
        f"group-{group.id}": f"Save to {group.name}",
        "public": "Save publicly",
    }
    # Sent as it came, the note is the seminar's: the others read it.
    fifth = seeded.current_revision.spans()[4]
    sent = ben.post(
        f"/texts/{seeded.slug}/notes",
        body="For the seminar.",
        start=str(fifth.start),
        end=str(fifth.end),
        audience=_chosen(form),
    )
    assert sent.status_code == 302
    assert "For the seminar." in ann.html(f"{PAGE}?lens=group-{group.id}")


def test_elsewhere_new_notes_go_where_the_readers_last_one_went(session, seminar, seeded):
    _, _, ben, cy, group = seminar
    form = _note_form(ben.html(f"{PAGE}?lens=public&note=5"), 5)
    assert _chosen(form) == "private"  # Ben has never written: Only me
    assert text_of(form.select_one("button.save-to")) == "Save for me only"
    factories.api_note(ben, seeded, "Krasin", "Out loud.", visibility="public")
    form = _note_form(ben.html(f"{PAGE}?lens=public&note=5"), 5)
    assert (_chosen(form), text_of(form.select_one("button.save-to"))) == (
        "public",
        "Save publicly",
    )
    # An outsider asking for the group's lens is shown one of theirs, and no group offered.
    page = dom(cy.html(f"{PAGE}?lens=group-{group.id}"))
    reading = page.select_one("article.reading")
    assert reading["data-lens"] != f"group-{group.id}"
    assert reading["data-audience"] == "private"
    assert not page.select(f'option[value="group-{group.id}"]')


def test_a_note_for_the_group_leaves_the_default_elsewhere_alone(session, seminar, seeded):
    """Found in review: the group's default, once used, was kept as the reader's last choice,
    and then preset the group in their own lens and the public one too."""
    _, _, ben, _, group = seminar
    factories.api_note(ben, seeded, "Krasin", "", visibility="group", group=group)
    for lens in ("mine", "public"):
        page = dom(ben.html(f"{PAGE}?lens={lens}"))
        assert page.select_one("article.reading")["data-audience"] == "private", lens


def test_a_group_the_reader_left_is_never_preset(session, seminar, seeded):
    """Found in review: a last choice naming a group the reader had left offered nothing the
    form could select, under a button saying "Save to the group"."""
    from app.models import User

    _, _, ben, _, group = seminar
    session.get(User, ben.user.id).last_audience = f"group-{group.id}"  # as older versions kept it
    session.commit()
    assert ben.post(f"/groups/{group.id}/leave").status_code == 302
    form = _note_form(ben.html(f"{PAGE}?lens=public&note=5"), 5)
    assert _chosen(form) == "private"
    assert text_of(form.select_one("button.save-to")) == "Save for me only"


def test_a_removed_member_writing_to_the_group_keeps_their_words(session, seminar, seeded):
    """Found in review: without JavaScript, a member removed while the page was open sent a note
    to the group and got a bare 403 page: the words were gone."""
    ida, _, ben, _, group = seminar
    form = _note_form(ben.html(f"{PAGE}?lens=group-{group.id}&note=5"), 5)
    assert ida.post(f"/groups/{group.id}/members/{ben.user.id}/remove").status_code == 302
    fifth = seeded.current_revision.spans()[4]
    answer = ben.client.post(
        f"/texts/{seeded.slug}/notes",
        data={
            "csrf_token": ben.token,
            "body": "Words I wrote.",
            "start": str(fifth.start),
            "end": str(fifth.end),
            "audience": _chosen(form),
        },
    )
    assert answer.status_code == 403
    page = dom(answer.get_data(as_text=True))
    assert page.select_one("textarea[name=body]").get_text() == "Words I wrote."


def test_a_private_note_in_a_shared_lens_says_so_in_words(session, seminar, seeded):
    _, ann, _, _, group = seminar
    private = factories.make_annotation(
        session, ann.user, seeded, "Krasin", body="Mine.", visibility=Visibility.PRIVATE
    )
    shared = factories.make_annotation(
        session,
        ann.user,
        seeded,
        "Litvinov",
        body="Ours.",
        group=group,
        visibility=Visibility.GROUP,
    )
    page = dom(ann.html(f"{PAGE}?lens=group-{group.id}"))
    card = page.select_one(f"#a{private.id}")
    assert "note-private" in card["class"]
    label = card.select_one(".audience-private")
    assert text_of(label) == "Only me" and label.select_one("svg.icon-lock[aria-hidden=true]")
    assert "note-private" not in page.select_one(f"#a{shared.id}")["class"]
    assert "hl-private" in page.select_one(f'mark[data-top="{private.id}"]')["class"]
    assert "hl-private" not in page.select_one(f'mark[data-top="{shared.id}"]')["class"]


def test_the_readers_private_notes_never_push_the_discussion_out_of_the_margin(
    session, seminar, seeded
):
    _, ann, ben, _, group = seminar
    words = seeded.current_revision.paragraphs[0].body.split()
    # Ann's three private notes come first in the paragraph, the seminar's two after them.
    private = [
        factories.make_annotation(session, ann.user, seeded, words[n], body=f"mine {n}")
        for n in range(3)
    ]
    shared = [
        factories.make_annotation(
            session,
            ben.user,
            seeded,
            words[-1 - n],
            body=f"ours {n}",
            group=group,
            visibility=Visibility.GROUP,
        )
        for n in range(2)
    ]

    def margin(lens: str) -> tuple[list[int], str]:
        row = dom(ann.html(f"{PAGE}?lens={lens}")).select_one("div.para-row#p1")
        more = row.select_one(".more-notes-link")
        cards = [int(card["id"].removeprefix("a")) for card in row.select("article.note")]
        return cards, text_of(more) if more else ""

    cards, more = margin(f"group-{group.id}")
    assert set(cards[:2]) == {a.id for a in shared}  # the seminar's, however late in the text
    assert len(cards) == 3 and cards[2] in {a.id for a in private}
    assert "Show 2 more" in more  # her other private notes, one click away
    cards, _ = margin("mine")
    assert set(cards) == {a.id for a in private}  # her own lens: hers alone


def _delete_link(html: str, note_id: int):
    return dom(html).select_one(f"#a{note_id} a.delete-link")


def test_delete_and_undo_return_to_the_same_lens_filters_and_paragraph(session, seminar, seeded):
    ann = seminar[1]
    note = factories.make_annotation(
        session, ann.user, seeded, "Krasin", body="Mine.", color=HighlightColor.YELLOW
    )
    number = _paragraph_number(seeded, "Krasin")
    page = f"{PAGE}?lens=mine&color=yellow"
    link = _delete_link(ann.html(page), note.id)
    # With JavaScript: margin.js sends the link's address with the page's query as ``back``.
    answer = ann.client.post(
        link["data-delete"] + "&back=" + quote("lens=mine&color=yellow&note=3&focus=9&x=1"),
        data={"csrf_token": ann.token},
    )
    assert answer.status_code == 302
    assert answer.location == (
        f"{PAGE}?lens=mine&color=yellow&undo={note.id}#p{number}"
    )  # the page's own arguments only: no form left open, no stray parameter
    # The page it lands on offers Undo, which comes back to the same place, at the note.
    landed = dom(ann.html(answer.location))
    undo = landed.select_one(".flash-undo form")
    restored = ann.client.post(
        undo["action"],
        data={"csrf_token": ann.token, "back": undo.select_one("input[name=back]")["value"]},
    )
    assert restored.location == (f"{PAGE}?lens=mine&color=yellow&focus={note.id}#a{note.id}")


def test_without_javascript_delete_returns_to_the_page_it_came_from(session, seminar, seeded):
    _, ann, _, _, group = seminar
    note = factories.make_annotation(
        session, ann.user, seeded, "Krasin", body="Ours.", group=group, visibility=Visibility.GROUP
    )
    number = _paragraph_number(seeded, "Krasin")
    link = _delete_link(ann.html(f"{PAGE}?lens=group-{group.id}&sort=newest"), note.id)
    # The link leads to the note's page, whose Delete button knows the page to go back to.
    note_page = dom(ann.html(link["href"]))
    button = note_page.select_one(f'#a{note.id} button[formaction*="/delete"]')
    answer = ann.client.post(button["formaction"], data={"csrf_token": ann.token})
    assert answer.location == (f"{PAGE}?lens=group-{group.id}&sort=newest&undo={note.id}#p{number}")


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example/x",
        "https://evil.example/",
        "lens=" + "x" * 5000,
        "%ff%fe",
        "lens=mine%0d%0aSet-Cookie:%20x=1",
        "slug=other-text&_external=1&_anchor=x&undo=1&focus=2",
        "lens=mine&lens=public",
    ],
)
def test_a_forged_back_never_leaves_the_notes_own_text(session, seminar, seeded, back):
    ann = seminar[1]
    note = factories.make_annotation(session, ann.user, seeded, "Krasin", body="Mine.")
    answer = ann.client.post(
        f"/notes/{note.id}/delete", data={"csrf_token": ann.token, "back": back}
    )
    assert answer.status_code == 302
    location = answer.location
    assert location.startswith(f"{PAGE}?") and "\r" not in location and "\n" not in location
    assert not any("x=1" in cookie for cookie in answer.headers.getlist("Set-Cookie"))
    assert f"undo={note.id}" in location and "focus" not in location and "slug" not in location


def test_a_back_with_a_control_character_is_refused_before_anything_changes(
    session, seminar, seeded
):
    ann = seminar[1]
    note = factories.make_annotation(session, ann.user, seeded, "Krasin", body="Mine.")
    answer = ann.client.post(
        f"/notes/{note.id}/delete", data={"csrf_token": ann.token, "back": "lens=mine\x00"}
    )
    assert answer.status_code == 400
    assert f'id="a{note.id}"' in ann.html(f"{PAGE}?lens=mine")  # still there


def test_an_action_that_names_no_page_returns_where_the_note_shows(session, seminar, seeded):
    """Found in review: a delete from the note's own page reached from the inbox (no page to
    return to), or a moderator's removal, landed in the default lens at the top; its Undo then
    brought the note back in a lens that did not show it."""
    ida, _, ben, _, group = seminar
    note = factories.make_annotation(
        session, ben.user, seeded, "Krasin", body="Ours.", group=group, visibility=Visibility.GROUP
    )
    number = _paragraph_number(seeded, "Krasin")
    note_page = dom(ida.html(f"/notes/{note.id}"))  # the instructor's, from the inbox say
    remove = note_page.select_one(f'#a{note.id} button[formaction*="/delete"]')
    answer = ida.client.post(remove["formaction"], data={"csrf_token": ida.token})
    assert answer.location == f"{PAGE}?lens=group-{group.id}&undo={note.id}#p{number}"
    undo = dom(ida.html(answer.location)).select_one(".flash-undo form")
    restored = ida.client.post(
        undo["action"],
        data={"csrf_token": ida.token, "back": undo.select_one("input[name=back]")["value"]},
    )
    assert restored.location == (f"{PAGE}?lens=group-{group.id}&focus={note.id}#a{note.id}")


def test_reply_edit_and_react_without_javascript_return_to_the_note_in_the_same_page(
    session, seminar, seeded
):
    """Issue 17 item 7: every action returns to the same lens, filters and position: a reply to
    the parent's thread (open), an edit to the note, a reaction to where it was pressed."""
    _, ann, ben, _, group = seminar
    note = factories.make_annotation(
        session, ann.user, seeded, "Krasin", body="Ours.", group=group, visibility=Visibility.GROUP
    )
    filters = {"lens": [f"group-{group.id}"], "sort": ["newest"], "kind": ["note"]}
    page = f"{PAGE}?lens=group-{group.id}&sort=newest&kind=note"

    def lands(location: str, **extra) -> str:
        """The page's arguments (and ``extra``) and the anchor a redirect lands on."""
        where = urlsplit(location)
        assert where.path == PAGE
        assert parse_qs(where.query) == {**filters, **{k: [v] for k, v in extra.items()}}
        return where.fragment

    card = dom(ben.html(page)).select_one(f"article#a{note.id}")
    # Reply: the margin's link leads to the note's page, whose form knows the page to go back to.
    reply_page = dom(ben.html(card.select_one("a.reply-link")["href"]))
    form = reply_page.select_one(f"details#reply-{note.id} form")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    answer = ben.client.post(form["action"], data={**fields, "body": "An answer."})
    reply_anchor = lands(answer.location, focus=str(note.id))  # the parent's thread open
    assert f'id="{reply_anchor}"' in ben.html(answer.location)  # at the new reply
    # The note page's "Back" link goes to the same page.
    lands(reply_page.select_one(".note-page > p > a")["href"], focus=str(note.id))
    # Edit: from the author's margin, back to the note, in the same lens and filters.
    own = dom(ann.html(page)).select_one(f"article#a{note.id} a.edit-link")
    assert dom(ann.html(own["href"])).select_one("form.stacked-form").get("action") is None
    edited = ann.client.post(own["href"], data={"csrf_token": ann.token, "body": "Ours, edited."})
    assert lands(edited.location, focus=str(note.id)) == f"a{note.id}"
    # A reaction pressed on the note's page (reached from this page) comes back to it too.
    react = dom(ben.html(card.select_one("a.reply-link")["href"])).select_one(
        f"#a{note.id} button.reaction-agree"
    )
    reacted = ben.client.post(react["formaction"], data={"csrf_token": ben.token})
    assert lands(reacted.location, focus=str(note.id)) == f"a{note.id}"


def test_the_edit_page_makes_a_note_a_question_and_back_as_the_margin_does(
    session, seminar, seeded
):
    ann = seminar[1]
    note = factories.make_annotation(session, ann.user, seeded, "Krasin", body="Who was he?")
    edit = f"/notes/{note.id}/edit"
    form = dom(ann.html(edit)).select_one("form.stacked-form")
    assert not form.select_one("input[name=question]").has_attr("checked")
    ann.client.post(edit, data={"csrf_token": ann.token, "body": "Who was he?", "question": "1"})
    assert dom(ann.html(edit)).select_one("input[name=question]").has_attr("checked")
    assert f'aria-label="Question by {ann.user.display_name}' in ann.html(f"{PAGE}?lens=mine")
    ann.client.post(edit, data={"csrf_token": ann.token, "body": "He traded."})
    assert f'aria-label="Note by {ann.user.display_name}' in ann.html(f"{PAGE}?lens=mine")
