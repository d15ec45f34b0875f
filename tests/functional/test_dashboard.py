"""The seminar dashboard: every figure against hand-built data with known answers, its downloads,
the group's notes in one list, and who may open any of it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from app.models import Annotation, Motivation, ReactionKind, Role, Visibility
from app.services import annotations, dashboard, discussion, groups, moderation, prompts
from app.services.access import viewer_for
from tests import factories
from tests.factories import (
    SLUG,
    dom,
    make_annotation,
    make_group,
    recorded_queries,
    sign_in,
    text_of,
)


def question(session, user, text, quote, body, group):
    """A note marked as a question, on ``quote``, for ``group``."""
    start = text.current_revision.content.index(quote)
    draft = annotations.Draft(
        text_slug=text.slug,
        motivation=Motivation.QUESTIONING,
        body=body,
        target=annotations.SpanTarget(exact=quote, start=start, end=start + len(quote)),
        visibility=Visibility.GROUP,
        group_id=group.id,
    )
    note = annotations.create(session, viewer_for(session, user), draft)
    session.commit()
    return note


@pytest.fixture
def week(app, session, seeded):
    """Ida teaches Ann, Ben and Dee (who has not read yet); Cy reads alone. The Carr excerpt is
    due yesterday. In the group (paragraph: what, words):

    - ¶4 Ann's question "Why Copenhagen of all places?" (5, written before the due date),
      answered by Ben "Prisoners were the pretext" (4) and Ida "Look at the date" (4); Ida agrees;
    - ¶5 Ann's note "A break indeed" (3, #trade), puzzled Ben and Ida;
    - ¶6 Ann in the paragraph's discussion "The background matters here" (4);
    - ¶8 Ben's question "What happened at Genoa?" (4), unanswered;
    - ¶9 Ben's highlight; Ben's note on the whole text "Overall a good read" (4).

    Never counted: Ann's private and public notes, her note in another group of Ida's, Ben's
    deleted note, and Ben's note Ida hid (with Ann's puzzled reaction on it)."""
    ida, ann, ben, cy, group = factories.seminar_of_four(app, session)
    dee = sign_in(app, session, "Dee Member")
    groups.join(session, viewer_for(session, dee.user), group.invite_code)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG, yesterday)
    session.commit()
    as_ = {b: viewer_for(session, b.user) for b in (ida, ann, ben, cy, dee)}

    why = question(
        session, ann.user, seeded, "Litvinov in Copenhagen", "Why Copenhagen of all places?", group
    )
    discussion.reply(session, as_[ben], why.id, "Prisoners were the pretext")
    discussion.reply(session, as_[ida], why.id, "Look at the date")
    session.commit()
    brk = make_annotation(
        session,
        ann.user,
        seeded,
        "The trade agreement was rightly hailed",
        body="A break indeed",
        tags=("trade",),
        group=group,
    )
    thread = discussion.discussion_thread(session, as_[ann], SLUG, group.id, 6)
    discussion.reply(session, as_[ann], thread.id, "The background matters here")
    session.commit()
    genoa = question(session, ben.user, seeded, "Genoa", "What happened at Genoa?", group)
    rapallo = make_annotation(session, ben.user, seeded, "Rapallo", group=group)
    whole = make_annotation(
        session, ben.user, seeded, None, body="Overall a good read", group=group
    )
    discussion.react(session, as_[ida], why.id, ReactionKind.AGREE, True)
    discussion.react(session, as_[ben], brk.id, ReactionKind.QUESTION, True)
    discussion.react(session, as_[ida], brk.id, ReactionKind.QUESTION, True)
    session.commit()

    make_annotation(session, ann.user, seeded, "Krasin", body="Private thoughts words words")
    make_annotation(
        session, ann.user, seeded, "Krasin", body="Public words", visibility=Visibility.PUBLIC
    )
    other = make_group(session, ida.user, ann.user, name="Other seminar")
    make_annotation(session, ann.user, seeded, "Krasin", body="Elsewhere words", group=other)
    gone = make_annotation(session, ben.user, seeded, "Krasin", body="Deleted words", group=group)
    annotations.delete(session, as_[ben], gone.id)
    hidden = make_annotation(session, ben.user, seeded, "Krasin", body="@rude words", group=group)
    discussion.react(session, as_[ann], hidden.id, ReactionKind.QUESTION, True)
    session.commit()
    moderation.set_hidden(session, as_[ida], hidden.id, True)
    session.commit()
    # Ann's question was written three days ago, before the due date.
    session.execute(
        update(Annotation)
        .where(Annotation.id == why.id)
        .values(created_at=datetime.now(UTC) - timedelta(days=3))
    )
    session.commit()
    notes = {
        "why": why.id,
        "break": brk.id,
        "thread": thread.id,
        "genoa": genoa.id,
        "rapallo": rapallo.id,
        "whole": whole.id,
        "hidden": hidden.id,
    }
    return ida, ann, ben, cy, dee, group, notes


def url(group, what: str = "dashboard") -> str:
    return f"/groups/{group.id}/texts/{SLUG}/{what}"


def heat_rows(page) -> dict[str, tuple[str, str, bool]]:
    """Each heatmap cell: place → (its counts, its shade class, whether it says "hottest")."""
    cells = {}
    for link in page.select(".heatmap .heat-cell"):
        place = text_of(link.select_one(".heat-place"))
        shade = next(c for c in link["class"] if c.startswith("heat-") and c[5:].isdigit())
        hottest = link.select_one(".heat-hottest") is not None
        cells[place] = (text_of(link.select_one(".heat-counts")), shade, hottest)
    return cells


def test_the_heatmap_counts_the_groups_notes_replies_and_words_per_paragraph(session, week):
    ida, *_, group, _ = week
    page = dom(ida.html(url(group)))
    cells = heat_rows(page)
    quiet = ("0 notes · 0 replies · 0 words", "heat-0", False)
    assert cells == {
        "¶1": quiet,
        "¶2": quiet,
        "¶3": quiet,
        "¶4": ("1 note · 2 replies · 13 words", "heat-5", True),
        "¶5": ("1 note · 0 replies · 3 words", "heat-2", False),
        "¶6": ("0 notes · 1 reply · 4 words", "heat-2", False),
        "¶7": quiet,
        "¶8": ("1 note · 0 replies · 4 words", "heat-2", False),
        "¶9": ("1 note · 0 replies · 0 words", "heat-2", False),
        "¶10": quiet,
        "Whole text": ("1 note · 0 replies · 4 words", "heat-0", False),
    }
    # Each cell is a link to its paragraph in the group's lens, its counts in its title.
    hottest = page.select(".heatmap .heat-cell")[3]
    assert hottest["href"] == f"/texts/{SLUG}?lens=group-{group.id}#p4"
    assert hottest["title"] == "¶4: 1 note · 2 replies · 13 words (hottest)"
    assert page.select(".heatmap .heat-cell")[-1]["href"].endswith("#part-0")


def test_replies_stay_in_their_threads_paragraph_after_its_note_is_deleted(session, week):
    ida, ann, ben, *_, group, notes = week
    discussion.reply(session, viewer_for(session, ben.user), notes["why"], "One\n\ntwo  three")
    annotations.delete(session, viewer_for(session, ann.user), notes["why"])
    session.commit()
    page = dom(ida.html(url(group)))
    assert heat_rows(page)["¶4"][:2] == ("0 notes · 3 replies · 11 words", "heat-5")
    rows = {r[0]: r for r in participation(page)}
    assert rows["Ben Student"][1:4] == ["3", "2", "15"]


def test_the_questions_toggle_shades_by_question_notes_and_puzzled_reactions(session, week):
    ida, *_, group, _ = week
    page = dom(ida.html(url(group) + "?show=questions"))
    cells = heat_rows(page)
    assert {place: cell for place, cell in cells.items() if cell[1] != "heat-0"} == {
        "¶4": ("1 question", "heat-3", False),
        "¶5": ("2 questions", "heat-5", True),  # two puzzled readers
        "¶8": ("1 question", "heat-3", False),
    }
    toggle = page.select(".heat-toggle a[aria-current]")
    assert [text_of(a) for a in toggle] == ["questions"]
    # The other way back, without JavaScript: a link.
    back = page.select(".heat-toggle a")[0]
    assert dom(ida.html(back["href"])).select_one(".heat-toggle a[aria-current]").text == "activity"


def test_the_heatmap_downloads_as_an_svg_with_its_words_escaped(app, session, seeded):
    ida = sign_in(app, session, "Ida")
    group = make_group(session, ida.user, name='<script>alert("x")</script> & co')
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG)
    make_annotation(session, ida.user, seeded, "Rapallo", body="<b>bold</b>", group=group)
    response = ida.get(url(group, "dashboard/heatmap.svg"))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<script" not in body and "&lt;script&gt;" in body
    assert "href" not in body and "<style" not in body  # self-contained
    assert "¶9" in body and "1 note · 0 replies · 1 word · hottest" in body
    questions = ida.get(url(group, "dashboard/heatmap.svg") + "?show=questions")
    assert "0 questions" in questions.get_data(as_text=True)


def participation(page) -> list[list[str]]:
    return [
        [text_of(c) for c in row.select("th, td")] for row in page.select(".participation tbody tr")
    ]


def test_participation_counts_each_member_even_one_who_has_not_read(session, week):
    ida, ann, _ben, _cy, _dee, group, _notes = week
    rows = participation(dom(ida.html(url(group))))
    when = {r[0]: (r[7], r[8]) for r in rows}
    assert [r[:7] + r[9:] for r in rows] == [
        ["Ann Student", "2", "1", "12", "3", "1", "3", "yes"],
        ["Ben Student", "3", "1", "12", "3", "1", "0", "no"],
        ["Dee Member", "0", "0", "0", "0", "0", "0", "no"],
        ["Ida Teacher (owner)", "0", "1", "4", "1", "0", "0", "no"],
    ]
    assert when["Dee Member"] == ("—", "—")
    assert when["Ann Student"][0] != when["Ann Student"][1]  # first three days before the last
    # Each member's name opens their notes on the text.
    link = dom(ida.html(url(group))).select_one(".participation tbody th a")
    assert link["href"] == url(group, "notes") + f"?member={ann.user.id}"


def test_done_is_a_note_or_reply_by_the_end_of_the_due_date_in_utc(session, week):
    ida, *_, group, _ = week
    as_ida = viewer_for(session, ida.user)
    assignment = group.assignments[0].id
    today = datetime.now(UTC).date()  # everyone who wrote is done
    groups.edit_reading(session, as_ida, group.id, assignment, today, "")
    session.commit()
    rows = participation(dom(ida.html(url(group))))
    assert [r[-1] for r in rows] == ["yes", "yes", "no", "yes"]
    groups.edit_reading(session, as_ida, group.id, assignment, None, "")
    session.commit()
    assert {r[-1] for r in participation(dom(ida.html(url(group))))} == {"no due date"}


def test_participation_sorts_by_any_column_with_links(session, week):
    ida, *_, group, _ = week
    page = dom(ida.html(url(group) + "?sort=notes"))
    assert [r[0] for r in participation(page)] == [
        "Ben Student",
        "Ann Student",
        "Dee Member",
        "Ida Teacher (owner)",
    ]
    heading = page.select_one('.participation th[aria-sort="descending"] a')
    assert text_of(heading).startswith("Notes")
    # Its heading's link sorts the other way.
    page = dom(ida.html(heading["href"]))
    assert [r[0] for r in participation(page)][:2] == ["Dee Member", "Ida Teacher (owner)"]
    assert page.select_one('.participation th[aria-sort="ascending"]')
    # People with no activity yet come last whichever way a date sorts.
    page = dom(ida.html(url(group) + "?sort=first"))
    assert [r[0] for r in participation(page)][-1] == "Dee Member"
    assert ida.get(url(group) + "?sort=nonsense").status_code == 200


def test_participation_csv_for_grading(session, week):
    ida, *_, group, _ = week
    response = ida.get(url(group, "dashboard/participation.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(dashboard.CSV_COLUMNS)
    assert [r[:8] + r[10:] for r in rows[1:]] == [
        ["Ann Student", "member", "2", "1", "12", "3", "1", "3", "yes"],
        ["Ben Student", "member", "3", "1", "12", "3", "1", "0", "no"],
        ["Dee Member", "member", "0", "0", "0", "0", "0", "0", "no"],
        ["Ida Teacher", "owner", "0", "1", "4", "1", "0", "0", "no"],
    ]
    assert rows[3][8:10] == ["", ""]
    assert rows[1][8].endswith("Z") and rows[1][8] < rows[1][9]


def test_a_csv_cell_that_would_be_a_formula_is_neutralised(app, session, seeded):
    ida = factories.Browser(app, factories.make_user(session, "f@example.org", "=HYPERLINK(1)"))
    group = make_group(session, ida.user)
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG)
    session.commit()
    body = ida.get(url(group, "dashboard/participation.csv")).get_data(as_text=True)
    assert "\n'=HYPERLINK(1),owner," in body.replace("\r\n", "\n")


def threads(page, heading: str) -> list[str]:
    section = page.find(id=heading).parent
    return [text_of(li.select_one("a")) + " | " + text_of(li) for li in section.select("li")]


def test_most_discussed_most_puzzling_and_unanswered_questions(session, week):
    ida, _ann, _ben, _cy, _dee, group, notes = week
    page = dom(ida.html(url(group)))
    discussed = page.find(id="discussed-heading").parent.select("li")
    assert [text_of(li.a) for li in discussed] == ["¶4, Ann Student", "¶6 discussion"]
    assert "2 replies · 0 puzzled" in text_of(discussed[0])
    assert "Litvinov in Copenhagen" in text_of(discussed[0].blockquote)
    assert discussed[0].a["href"] == (
        f"/texts/{SLUG}?lens=group-{group.id}&focus={notes['why']}#a{notes['why']}"
    )
    puzzling = page.find(id="puzzling-heading").parent.select("li")
    assert [text_of(li.a) for li in puzzling] == ["¶5, Ann Student"]  # not the hidden note
    assert "0 replies · 2 puzzled" in text_of(puzzling[0])
    unanswered = page.find(id="unanswered-heading").parent.select("li")
    assert [li.a["href"].rsplit("#", 1)[1] for li in unanswered] == [f"a{notes['genoa']}"]
    assert "Genoa" in text_of(unanswered[0])


def test_the_dashboard_says_who_answered_each_pinned_prompt(session, week):
    """Ida pins a question to ¶6, whose discussion Ann had started before: Ann's earlier words
    are no answer to it; Ben answers; Dee has not; Ida, who asks, is in neither list."""
    ida, _ann, ben, _cy, _dee, group, _notes = week
    as_ida = viewer_for(session, ida.user)
    prompt = prompts.pin(session, as_ida, SLUG, group.id, 6, "What does *background* mean?")
    session.commit()
    discussion.reply(session, viewer_for(session, ben.user), prompt.thread_id, "The famine")
    session.commit()
    section = dom(ida.html(url(group))).find(id="dashboard-prompts-heading").parent
    (item,) = section.select("li.prompt")
    assert text_of(item.select_one(".prompt-head a")) == "¶6"
    assert item.select_one(".note-body em").get_text() == "background"
    terms, names = item.select("dt"), item.select("dd")
    who = {text_of(dt): text_of(dd) for dt, dd in zip(terms, names, strict=True)}
    assert who == {"Answered (1)": "Ben Student", "Not yet (2)": "Ann Student, Dee Member"}


def listed(browser, group, query: str = "") -> list[int]:
    page = dom(browser.html(url(group, "notes") + query))
    return [int(a["id"][1:]) for a in page.select("article.note")]


def test_the_groups_notes_in_one_list_filter_by_member_paragraph_tag_kind_unanswered(session, week):
    ida, ann, _ben, _cy, dee, group, n = week
    everything = [n["why"], n["break"], n["genoa"], n["rapallo"], n["hidden"], n["whole"]]
    assert sorted(listed(ida, group)) == sorted(everything)
    assert listed(ida, group, f"?member={ann.user.id}") == [n["why"], n["break"]]
    assert listed(ida, group, f"?member={dee.user.id}") == []
    assert sorted(listed(ida, group, "?paragraph=4")) == sorted([n["why"], n["hidden"]])
    assert listed(ida, group, "?paragraph=0") == [n["whole"]]
    assert listed(ida, group, "?tag=trade") == [n["break"]]
    assert sorted(listed(ida, group, "?kind=question")) == sorted([n["why"], n["genoa"]])
    assert listed(ida, group, "?kind=highlight") == [n["rapallo"]]
    assert sorted(listed(ida, group, "?kind=note")) == sorted([n["break"], n["hidden"], n["whole"]])
    assert sorted(listed(ida, group, "?unanswered=1")) == sorted(
        [n["break"], n["genoa"], n["rapallo"], n["hidden"], n["whole"]]
    )
    assert listed(ida, group, "?kind=question&unanswered=1") == [n["genoa"]]
    # A thread's replies come with it.
    page = dom(ida.html(url(group, "notes") + "?paragraph=4"))
    assert "Prisoners were the pretext" in text_of(page.find(id=f"a{n['why']}"))
    for bad in ("?kind=poem", "?paragraph=x", "?member=-1"):
        assert ida.get(url(group, "notes") + bad).status_code == 400
    assert ida.get(url(group, "notes") + "?paragraph=99").status_code == 404


def test_the_groups_notes_come_a_page_at_a_time(session, week, monkeypatch):
    ida, _ann, _ben, _cy, _dee, group, _n = week
    monkeypatch.setattr(dashboard, "NOTES_PER_PAGE", 4)
    first = dom(ida.html(url(group, "notes")))
    assert len(first.select("article.note")) == 4
    after = first.select_one('.pager a[rel="next"]')["href"]
    second = [int(a["id"][1:]) for a in dom(ida.html(after)).select("article.note")]
    assert len(second) == 2
    assert set(second).isdisjoint(int(a["id"][1:]) for a in first.select("article.note"))
    assert listed(ida, group, "?page=999") == second  # past the end: the last page


PATHS = ("dashboard", "dashboard/participation.csv", "dashboard/heatmap.svg", "notes")


def statuses(browser, group) -> set[int]:
    return {browser.get(url(group, path)).status_code for path in PATHS}


def test_who_may_open_the_dashboard_follows_the_group_over_time(app, session, week):
    ida, ann, _ben, cy, _dee, group, _notes = week
    assert statuses(ida, group) == {200}
    assert statuses(ann, group) == {403}  # a member
    assert statuses(cy, group) == {404}  # outside the group
    anonymous = app.test_client().get(url(group))
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    own = make_group(session, cy.user, name="Cy's seminar")  # another group's instructor
    groups.add_reading(session, viewer_for(session, cy.user), own.id, SLUG)
    session.commit()
    assert cy.get(url(own)).status_code == 200
    assert statuses(cy, group) == {404}
    as_ida = viewer_for(session, ida.user)
    groups.set_role(session, as_ida, group.id, ann.user.id, Role.INSTRUCTOR)
    session.commit()
    assert statuses(ann, group) == {200}
    groups.set_role(session, as_ida, group.id, ann.user.id, Role.MEMBER)  # demoted
    session.commit()
    assert statuses(ann, group) == {403}
    admin = sign_in(app, session, "Adm In", is_admin=True)
    assert statuses(admin, group) == {200}
    # A text that is not on the reading list has no dashboard.
    groups.remove_reading(session, as_ida, group.id, group.assignments[0].id)
    session.commit()
    assert statuses(ida, group) == {404}


def test_the_group_page_links_each_reading_to_its_dashboard_for_instructors_only(session, week):
    ida, ann, _ben, _cy, _dee, group, _notes = week
    link = f'a[href="{url(group)}"]'
    assert dom(ida.html(f"/groups/{group.id}")).select_one(f".reading-list {link}")
    assert not dom(ann.html(f"/groups/{group.id}")).select(link)


def test_a_removed_members_words_still_count_and_they_lose_the_dashboard(session, week):
    """What a removed member wrote stays in the group's discussion (members still read it), so
    it stays in the figures, their row marked as no longer a member."""
    ida, _ann, ben, _cy, _dee, group, _notes = week
    as_ida = viewer_for(session, ida.user)
    groups.set_role(session, as_ida, group.id, ben.user.id, Role.INSTRUCTOR)
    session.commit()
    assert statuses(ben, group) == {200}
    groups.remove_member(session, as_ida, group.id, ben.user.id)
    session.commit()
    assert statuses(ben, group) == {404}
    page = dom(ida.html(url(group)))
    rows = {r[0]: r for r in participation(page)}
    assert rows["Ben Student (no longer a member)"][1:4] == ["3", "1", "12"]
    assert heat_rows(page)["¶8"][0] == "1 note · 0 replies · 4 words"


def test_the_dashboard_costs_the_same_queries_for_many_notes(app, session, seeded, engine):
    ida, ann, ben, _cy, group = factories.seminar_of_four(app, session)
    groups.add_reading(session, viewer_for(session, ida.user), group.id, SLUG, date(2030, 1, 1))
    session.commit()
    as_ann = viewer_for(session, ann.user)

    def queries() -> int:
        ida.get("/")  # signed in, the text's layout cached
        ida.get(url(group))
        with recorded_queries(engine) as statements:
            assert ida.get(url(group)).status_code == 200
        return len(statements)

    def more(count: int) -> None:
        content = seeded.current_revision.content
        for n in range(count):
            start = (n * 37) % 5000
            draft = annotations.Draft(
                text_slug=SLUG,
                motivation=Motivation.COMMENTING,
                body=f"Note {n}",
                target=annotations.SpanTarget(
                    exact=content[start : start + 5], start=start, end=start + 5
                ),
                visibility=Visibility.GROUP,
                group_id=group.id,
            )
            note = annotations.create(session, as_ann, draft)
            discussion.reply(session, viewer_for(session, ben.user), note.id, "Yes")
            discussion.react(
                session, viewer_for(session, ben.user), note.id, ReactionKind.QUESTION, True
            )
        session.commit()

    more(2)
    few = queries()
    more(40)
    assert queries() == few


# ---- the reading page's heat strip ----


def strips(browser, query: str) -> dict[str, tuple[str, str]]:
    page = dom(browser.html(f"/texts/{SLUG}{query}"))
    found = {}
    for strip in page.select(".heat-strip"):
        shade = next(c for c in strip["class"] if c.startswith("heat-") and c[5:].isdigit())
        found[strip.find_parent(class_="para-row")["id"]] = (text_of(strip), shade)
    return found


def test_a_member_switches_on_the_heat_strip_in_the_groups_lens(app, session, seeded, week):
    _ida, ann, _ben, cy, dee, group, _notes = week
    lens = f"?lens=group-{group.id}"
    page = dom(dee.html(f"/texts/{SLUG}{lens}"))
    assert not page.select(".heat-strip")
    switch = page.select_one("a.heat-switch")
    assert text_of(switch) == "Show activity"
    shown = strips(dee, switch["href"].removeprefix(f"/texts/{SLUG}"))
    assert shown["p4"] == ("Group activity on ¶4: 3 notes and replies", "heat-2")
    assert shown["p6"] == ("Group activity on ¶6: 1 note or reply", "heat-1")
    assert shown["p7"] == ("Group activity on ¶7: 0 notes and replies", "heat-0")
    assert len(shown) == 10
    # Ann's own private note on ¶4 is not the group's: her strip says what Dee's says.
    assert strips(ann, f"{lens}&heat=1")["p4"] == shown["p4"]
    # The filters keep it on; its link switches it off.
    page = dom(dee.html(f"/texts/{SLUG}{lens}&heat=1"))
    assert page.select_one('form.lens-bar input[name="heat"][value="1"]')
    assert text_of(page.select_one("a.heat-switch")) == "Hide activity"
    # Not in another lens, nor for someone outside the group.
    assert strips(dee, "?lens=public&heat=1") == {}
    assert strips(cy, f"{lens}&heat=1") == {}


def test_the_heat_strip_follows_new_replies_through_the_page_cache(app, session, week):
    ida, _ann, ben, _cy, dee, group, notes = week
    query = f"?lens=group-{group.id}&heat=1"
    assert strips(dee, query)["p5"][0] == "Group activity on ¶5: 1 note or reply"
    for n in range(2):
        factories.form_reply(ben, notes["break"], f"Answer {n}")
    assert strips(dee, query)["p5"] == ("Group activity on ¶5: 3 notes and replies", "heat-2")
    moderation.set_hidden(session, viewer_for(session, ida.user), notes["break"], True)
    session.commit()
    assert strips(dee, query)["p5"][0] == "Group activity on ¶5: 2 notes and replies"
