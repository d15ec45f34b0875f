"""The seminar dashboard and adding a text, attacked: a member with a script, a removed member,
another group's instructor, odd bytes, races and floods. Each test is a finding or a door that
was tried and held."""

# Fixtures are taken from the suites of the features (imported, then named as parameters).
# ruff: noqa: F811

from __future__ import annotations

import base64
import xml.etree.ElementTree as ElementTree

import pytest
from sqlalchemy import func, select

from app.models import Group, Role, Text, Visibility
from app.services import annotations, discussion, groups, moderation
from app.services.access import viewer_for
from app.services.texts import adding
from tests.factories import SLUG, dom, fresh, make_group, sign_in, text_of
from tests.functional.test_add_text import NEW, PLAIN, post_form, save, upload
from tests.functional.test_add_text import teacher as ida  # noqa: F401 (a fixture)
from tests.functional.test_dashboard import listed, strips, url, week  # noqa: F401 (week: a fixture)

# ---- adding a text --------------------------------------------------------------------------


def test_a_save_that_loses_the_race_for_a_url_name_never_revises_the_winners_text(
    ida, session, monkeypatch
):
    """Two saves of one URL name at once (PostgreSQL): both find it free, the first stores. The
    second must be refused, not turned into a new revision of the first's text (whose editor it
    would then become)."""
    preview = upload(ida, PLAIN, slug=SLUG)
    monkeypatch.setattr(adding, "_slug_problem", lambda _session, _slug: None)  # checked, free
    response = save(ida, preview, slug=SLUG)
    assert response.status_code == 409
    seed = fresh(session).scalar(select(Text).where(Text.slug == SLUG))
    assert len(seed.revisions) == 1 and seed.added_by_id is None
    assert seed.title != "The Week's Text"


def test_saving_parses_too_and_counts_against_the_per_minute_limit(ida, session):
    """Save parses the carried bytes again; a script posting saves (never previewing) with a
    megabyte the importer refuses would otherwise keep a worker parsing without any limit."""
    refused = {"csrf_token": ida.token, "step": "save", "source": "", "source_name": "x.txt"}
    statuses = [post_form(ida, refused).status_code for _ in range(adding.PREVIEWS_PER_MINUTE + 1)]
    assert statuses[:-1] == [422] * adding.PREVIEWS_PER_MINUTE
    assert statuses[-1] == 429


def test_an_adder_who_no_longer_teaches_no_longer_edits_the_library_s_text(app, session, ida):
    """Carl, an instructor, adds a text that other groups read; demoted to member (his texts
    are the library's now), he may no longer rename it; made instructor again, he may."""
    carl = sign_in(app, session, "Carl Coteacher")
    groups.join(session, viewer_for(session, carl.user), ida.group.invite_code)
    as_ida = viewer_for(session, ida.user)
    groups.set_role(session, as_ida, ida.group.id, carl.user.id, Role.INSTRUCTOR)
    session.commit()
    assert save(carl, upload(carl, PLAIN)).status_code == 302
    assert carl.get("/texts/weeks-text/edit").status_code == 200
    for page in ("/", "/texts/weeks-text"):
        assert dom(carl.html(page)).find("a", href="/texts/weeks-text/edit") is not None
    groups.set_role(session, as_ida, ida.group.id, carl.user.id, Role.MEMBER)
    session.commit()
    assert carl.get("/texts/weeks-text/edit").status_code == 403
    response = carl.post("/texts/weeks-text/edit", title="Vandalised", author="", citation="")
    assert response.status_code == 403
    for page in ("/", "/texts/weeks-text"):  # the library's link and the reading page's
        assert dom(carl.html(page)).find("a", href="/texts/weeks-text/edit") is None
    assert fresh(session).scalar(select(Text.title).where(Text.slug == "weeks-text")) == (
        "The Week's Text"
    )
    groups.set_role(session, as_ida, ida.group.id, carl.user.id, Role.INSTRUCTOR)
    session.commit()
    assert carl.get("/texts/weeks-text/edit").status_code == 200


def test_a_script_renaming_a_text_is_stopped_each_name_busts_every_readers_cache(ida, session):
    assert save(ida, upload(ida, PLAIN)).status_code == 302
    fields = {"author": "", "citation": ""}
    for n in range(adding.EDITS_PER_MINUTE):
        response = ida.post("/texts/weeks-text/edit", title=f"Name {n}", **fields)
        assert response.status_code == 302
    response = ida.post("/texts/weeks-text/edit", title="One too many", **fields)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    page = dom(response.get_data(as_text=True))
    assert "Too many changes to a text's details" in text_of(page.select_one(".form-errors"))
    assert page.select_one("#text-title-field")["value"] == "One too many"  # kept as typed
    assert fresh(session).scalar(select(Text.title).where(Text.slug == "weeks-text")) == (
        f"Name {adding.EDITS_PER_MINUTE - 1}"
    )


def fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


@pytest.mark.parametrize("form", [str.upper, fullwidth, lambda s: f"  {s.title()}\u200b "])
@pytest.mark.parametrize("taken", [SLUG, "new"])
def test_a_url_name_in_use_or_reserved_is_refused_in_any_case_or_width(ida, session, form, taken):
    before = fresh(session).scalar(select(func.count(Text.id)))
    response = save(ida, upload(ida, PLAIN), slug=form(taken))
    assert response.status_code == 409
    assert fresh(session).scalar(select(func.count(Text.id))) == before


def test_the_carried_file_name_is_a_name_not_a_path_as_an_uploads(ida, session):
    fields = {
        "csrf_token": ida.token,
        "step": "save",
        "source": base64.b64encode(PLAIN).decode(),
        "source_name": "../../etc\\weeks-text.txt",
    }
    assert post_form(ida, fields).status_code == 302
    stored = fresh(session).scalar(select(Text).where(Text.slug == "weeks-text"))
    assert stored.source_name == "weeks-text.txt"


def test_a_body_too_large_from_someone_who_may_not_add_texts_is_no_form_for_them(
    app, session, seeded
):
    """The size is refused before anyone is looked at; the answer must not be the form for a
    visitor or a member (nor a 500)."""
    big = {"text": "x" * (2 * adding.MAX_BYTES), "csrf_token": "none"}
    anonymous = app.test_client().post(NEW, data=big)
    member = sign_in(app, session, "Ann Student")
    as_member = member.client.post(NEW, data=big)
    for response in (anonymous, as_member):
        assert response.status_code == 413
        assert not dom(response.get_data(as_text=True)).select(f'form[action="{NEW}"]')


@pytest.mark.parametrize(
    ("carried", "name"),
    [
        (b"T\n\n" + b"x" * (adding.MAX_BYTES + 10), "big.txt"),  # past the limit, built by hand
        (b"T\n\n\xff\xfe broken", "bytes.txt"),  # not UTF-8
        (b"T\n\nBody.", "run.exe"),  # not a format the importer reads
        (b"T\n\nBody.", ""),  # no name
        (b"---\nslug: new\n---\n# T\n\nBody.", "front.md"),  # the form's own address
    ],
)
def test_a_hand_built_save_is_refused_as_the_preview_would_be(ida, session, carried, name):
    before = fresh(session).scalar(select(func.count(Text.id)))
    fields = {
        "csrf_token": ida.token,
        "step": "save",
        "source": base64.b64encode(carried).decode(),
        "source_name": name,
    }
    response = post_form(ida, fields)
    assert response.status_code in (409, 413, 422), response.status_code
    assert fresh(session).scalar(select(func.count(Text.id))) == before


# ---- the dashboard and the heat strip ---------------------------------------------------------


ODD = ["", "-", "--notes", "x" * 5000, "0", "-1", "1e9", "99999999999999999999", "١", " 1", "%"]


def test_no_parameter_of_the_dashboard_or_the_notes_list_is_a_500(week):
    ida, *_rest, group, _notes = week
    for value in ODD:
        for path, name in [
            ("dashboard", "sort"),
            ("dashboard", "show"),
            ("dashboard/heatmap.svg", "show"),
            ("notes", "member"),
            ("notes", "paragraph"),
            ("notes", "kind"),
            ("notes", "tag"),
            ("notes", "page"),
            ("notes", "unanswered"),
        ]:
            status = ida.get(url(group, path), query_string={name: value}).status_code
            assert status in (200, 400, 404), (path, name, value, status)


def test_the_heat_switch_on_any_lens_is_never_a_500_and_shows_only_in_a_group_lens(week):
    _ida, ann, *_rest, group, _notes = week
    lenses = ["", "mine", "public", f"group-{group.id}", "group-999999", "group-0", "group-x"]
    for lens in lenses:
        for heat in ("1", "0", "yes", "x" * 3000):
            response = ann.get(f"/texts/{SLUG}", query_string={"lens": lens, "heat": heat})
            assert response.status_code in (200, 400), (lens, heat, response.status_code)
            shown = "heat-strip" in response.get_data(as_text=True)
            # A group lens Ann is not in falls back to her own group's, whose strip it is.
            in_a_group = response.status_code == 200 and lens not in ("mine", "public")
            assert shown == (heat == "1" and in_a_group), (lens, heat)


def test_the_heat_strip_drops_a_note_moved_out_of_the_group_or_deleted(session, week):
    """The strip's parts are shared and cached: a note leaving the group's audience must leave
    the count of every member's copy at once."""
    _ida, _ann, ben, _cy, dee, group, notes = week
    query = f"?lens=group-{group.id}&heat=1"
    assert strips(dee, query)["p9"][0] == "Group activity on ¶9: 1 note or reply"
    annotations.set_visibility(
        session, viewer_for(session, ben.user), notes["rapallo"], Visibility.PRIVATE
    )
    session.commit()
    assert strips(dee, query)["p9"][0] == "Group activity on ¶9: 0 notes and replies"
    assert strips(dee, query)["p8"][0] == "Group activity on ¶8: 1 note or reply"
    annotations.delete(session, viewer_for(session, ben.user), notes["genoa"])
    session.commit()
    assert strips(dee, query)["p8"][0] == "Group activity on ¶8: 0 notes and replies"


def test_a_removed_member_loses_the_heat_strip_though_the_part_was_cached_for_them(session, week):
    ida, _ann, _ben, _cy, dee, group, _notes = week
    query = f"?lens=group-{group.id}&heat=1"
    assert strips(dee, query)  # rendered and kept for the group's members
    groups.remove_member(session, viewer_for(session, ida.user), group.id, dee.user.id)
    session.commit()
    assert strips(dee, query) == {}
    page = dee.get(f"/texts/{SLUG}{query}")
    assert "Group activity" not in page.get_data(as_text=True)


def test_another_groups_instructor_gets_no_strip_and_no_dashboard_of_this_group(session, week):
    _ida, _ann, _ben, cy, _dee, group, _notes = week
    own = make_group(session, cy.user, name="Cy's seminar")
    groups.add_reading(session, viewer_for(session, cy.user), own.id, SLUG)
    session.commit()
    # The lens falls back to Cy's own group, which has written nothing: none of this group's.
    shown = strips(cy, f"?lens=group-{group.id}&heat=1")
    assert shown["p4"] == ("Group activity on ¶4: 0 notes and replies", "heat-0")
    for path in ("dashboard", "dashboard/participation.csv", "dashboard/heatmap.svg", "notes"):
        # the same answer as for a group that does not exist: nothing said about this one
        assert cy.get(url(group, path)).status_code == 404
        assert cy.get(f"/groups/999999/texts/{SLUG}/{path}").status_code == 404


def test_the_notes_lists_unanswered_is_the_dashboards_a_hidden_reply_is_no_answer(session, week):
    """The dashboard lists a question whose only reply a moderator hid as unanswered; the
    group's notes filtered by "unanswered" must list it too."""
    ida, _ann, _ben, _cy, _dee, group, notes = week
    reply = discussion.reply(session, viewer_for(session, ida.user), notes["genoa"], "Hm")
    session.commit()
    moderation.set_hidden(session, viewer_for(session, ida.user), reply.id, True)
    session.commit()
    board = dom(ida.html(url(group)))
    unanswered = board.find(id="unanswered-heading").parent
    assert [text_of(li.a) for li in unanswered.select("li")] == ["¶8, Ben Student"]
    assert listed(ida, group, "?kind=question&unanswered=1") == [notes["genoa"]]
    assert listed(ida, group, "?unanswered=1").count(notes["genoa"]) == 1


def test_the_svg_download_is_well_formed_xml_whatever_the_names(app, session, seeded):
    ida = sign_in(app, session, "Ida")
    group = make_group(session, ida.user, name="Week \uffff ]]> </svg> <!-- & \u202e")
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG)
    session.commit()
    response = ida.get(url(group, "dashboard/heatmap.svg"))
    assert response.status_code == 200
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_a_note_moved_to_another_group_leaves_one_strip_and_joins_the_other(session, week):
    _ida, ann, _ben, _cy, _dee, group, notes = week
    other = fresh(session).scalar(select(Group).where(Group.name == "Other seminar"))
    here, there = f"?lens=group-{group.id}&heat=1", f"?lens=group-{other.id}&heat=1"
    assert strips(ann, here)["p5"][0] == "Group activity on ¶5: 1 note or reply"
    assert strips(ann, there)["p5"][0] == "Group activity on ¶5: 0 notes and replies"
    annotations.set_visibility(
        session, viewer_for(session, ann.user), notes["break"], Visibility.GROUP, other.id
    )
    session.commit()
    assert strips(ann, here)["p5"][0] == "Group activity on ¶5: 0 notes and replies"
    assert strips(ann, there)["p5"][0] == "Group activity on ¶5: 1 note or reply"
