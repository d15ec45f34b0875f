"""The reading page in parts rendered once per audience (services/texts/parts.py), over time.

A paragraph's part is rendered once for everyone who sees it alike and then shared; a change
re-renders only the parts it touches, for the audiences it touches; what is one reader's own
(private notes, their hidden words, their controls, their reactions) never reaches another
reader through a shared part, whoever loaded it first.
"""

from __future__ import annotations

import pytest
from flask import template_rendered

from app.models import Visibility
from tests import factories
from tests.factories import dom, make_group, recorded_queries, text_of

PAGE = "/texts/carr-rapprochement"
WORD = "Krasin"


@pytest.fixture
def seminar(app, session, seeded):
    return factories.seminar_of_four(app, session)


@pytest.fixture
def renders(app):
    """The parts each render of the parts template made, in order."""
    made: list[list[int]] = []

    def record(_sender, template, context, **_extra):
        if template.name == "library/_parts.html":
            made.append(list(context["numbers"]))

    template_rendered.connect(record, app)
    yield made
    template_rendered.disconnect(record, app)


def _note(session, browser, text, body, group=None, visibility=None, quote=WORD):
    return factories.make_annotation(
        session,
        browser.user,
        text,
        quote,
        body=body,
        group=group,
        visibility=visibility or (Visibility.GROUP if group else Visibility.PRIVATE),
    )


def _paragraph_of(text, quote=WORD) -> int:
    content = text.current_revision.content
    offset = content.index(quote)
    return content[:offset].count("\n\n") + 1


def _lens(group) -> str:
    return f"{PAGE}?lens=group-{group.id}"


def test_a_paragraph_is_rendered_once_for_a_seminar_and_again_only_where_a_note_lands(
    session, seminar, seeded, renders
):
    _, ann, ben, _, group = seminar
    ann.html(_lens(group))
    assert len(renders) == 1 and len(renders[0]) > 10  # every part, once
    ben.html(_lens(group))
    assert renders[1:] == [], "a second member's page was rendered again"
    note = _note(session, ann, seeded, "A trader first.", group)
    page = ben.html(_lens(group))
    assert renders[1:] == [[_paragraph_of(seeded)]]
    assert "A trader first." in text_of(dom(page).select_one(f"#a{note.id}"))
    ann.html(_lens(group))
    assert renders[2:] == [], "the new note's paragraph was rendered again for its author"


def test_a_private_note_stays_out_of_the_parts_its_paragraph_shares(
    session, seminar, seeded, renders
):
    _, ann, ben, _, group = seminar
    _note(session, ben, seeded, "For the seminar.", group)
    private = _note(session, ann, seeded, "Only mine.", visibility=Visibility.PRIVATE)
    # Ann first: her page has her private note, rendered for her alone.
    assert f'id="a{private.id}"' in ann.html(_lens(group))
    for page in (ben.html(_lens(group)), ben.html(_lens(group))):
        # (Its card's id: a bare "a3" can be in a CSRF token by chance.)
        assert "Only mine." not in page and f'id="a{private.id}"' not in page
        assert f'data-starts="{private.id}"' not in page and f'data-top="{private.id}"' not in page
        assert "For the seminar." in page
    # Ben's copy of that paragraph is the seminar's, not one made from Ann's.
    assert "Only mine." in ann.html(_lens(group))


def test_a_hidden_note_shows_its_words_to_its_author_and_moderators_only(session, seminar, seeded):
    ida, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Words to hide.", group)
    for reader in (ann, ben, ida):
        reader.html(_lens(group))  # every audience's copy made before the hide
    assert ida.post(f"/notes/{note.id}/hide", hidden="1").status_code == 302
    assert "Words to hide." not in ben.html(_lens(group))
    assert "Words to hide." in ann.html(_lens(group))
    assert "Words to hide." in ida.html(_lens(group))
    assert "Words to hide." not in ben.html(_lens(group))


def test_own_controls_are_in_every_copy_and_shown_by_the_readers_own_stylesheet(
    app, session, seminar, seeded
):
    _, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Mine to edit.", group)
    card = dom(ben.html(_lens(group))).select_one(f"article#a{note.id}")
    controls = card.select_one(".own-controls")
    assert controls["data-author"] == str(ann.user.id)
    assert card.select_one("a.flag-link")["data-author"] == str(ann.user.id)
    page = dom(ben.html(_lens(group)))
    sheet = page.select_one('link[rel="stylesheet"][href^="/readers/"]')["href"]
    assert sheet == f"/readers/{ben.user.id}.css"
    css = ben.get(sheet).get_data(as_text=True)
    assert f'.own-controls[data-author="{ben.user.id}"]' in css
    assert f'.not-own[data-author="{ben.user.id}"]' in css
    assert str(ann.user.id) not in css.replace(f'"{ben.user.id}"', "")
    # The edit itself is refused to anyone but the author, whatever the page shows.
    assert ben.get(f"/notes/{note.id}/edit").status_code == 403


def test_a_part_has_its_own_address_with_an_etag(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    number = _paragraph_of(seeded)
    url = f"{PAGE}/parts/{number}?lens=group-{group.id}"
    first = ben.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert dom(first.get_data(as_text=True)).select_one(f"div.para-row#p{number}")
    again = ben.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    # Ann's private note in that paragraph changes nothing Ben sees: still 304 for him.
    _note(session, ann, seeded, "Private thought.", visibility=Visibility.PRIVATE)
    assert ben.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # A note for the group does.
    _note(session, ann, seeded, "For everyone here.", group)
    changed = ben.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "For everyone here." in changed.get_data(as_text=True)
    assert "Private thought." not in changed.get_data(as_text=True)


def test_a_part_address_shows_only_what_the_page_would(session, seminar, seeded):
    _, ann, _, cy, group = seminar
    _note(session, ann, seeded, "Seminar only.", group)
    number = _paragraph_of(seeded)
    # An outsider asking for the group's lens gets the public one, as on the page.
    answer = cy.get(f"{PAGE}/parts/{number}?lens=group-{group.id}")
    assert answer.status_code == 200 and "Seminar only." not in answer.get_data(as_text=True)
    assert cy.get(f"{PAGE}/parts/99999").status_code == 404
    assert cy.get("/texts/no-such-text/parts/1").status_code == 404


def test_the_feed_names_the_parts_each_change_touched(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    cursor = ben.api("GET", f"/api/v1/texts/{seeded.slug}/events").get_json()["cursor"]
    note = _note(session, ann, seeded, "Where does this go?", group)
    whole = _note(session, ann, seeded, "On all of it.", group, quote=None)
    events = ben.api("GET", f"/api/v1/texts/{seeded.slug}/events?after={cursor}").get_json()
    parts = {e["annotation"]: e["parts"] for e in events["events"]}
    assert parts == {note.id: [_paragraph_of(seeded)], whole.id: [0]}


def _poll(browser, group, after, query=""):
    """The reading page's own feed, as live.js asks it."""
    answer = browser.get(f"{PAGE}/events?lens=group-{group.id}&after={after}{query}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_json()


def test_the_pages_feed_brings_the_changed_parts_as_the_page_shows_them(session, seminar, seeded):
    _, ann, ben, cy, group = seminar
    number = _paragraph_of(seeded)
    cursor = int(dom(ben.html(_lens(group))).select_one("article.reading")["data-cursor"])
    assert _poll(ben, group, cursor) == {"cursor": cursor, "events": [], "parts": {}, "lens": None}

    private = _note(session, ann, seeded, "Private thought.", visibility=Visibility.PRIVATE)
    quiet = _poll(ben, group, cursor)  # Ann's private note: nothing for Ben, the cursor moves on
    assert quiet["events"] == [] and quiet["parts"] == {} and quiet["cursor"] > cursor
    shared = _note(session, ann, seeded, "For everyone here.", group)
    news = _poll(ben, group, quiet["cursor"])
    assert [e["annotation"] for e in news["events"]] == [shared.id]
    assert list(news["parts"]) == [str(number)]
    part = dom(news["parts"][str(number)])
    assert part.select_one(f"div.para-row#p{number} #a{shared.id}")
    assert "Private thought." not in news["parts"][str(number)]
    # The same part as its own address serves it, with the same query.
    direct = ben.get(f"{PAGE}/parts/{number}?lens=group-{group.id}").get_data(as_text=True)
    assert direct == news["parts"][str(number)]
    # Ann's feed brings her own render of it: her private note is in it.
    own = _poll(ann, group, cursor)
    assert f'id="a{private.id}"' in own["parts"][str(number)]
    # From the new cursor, nothing again.
    assert _poll(ben, group, news["cursor"])["parts"] == {}
    # An outsider is told nothing of the seminar's note, and gets no part of it.
    outsider = _poll(cy, group, cursor)
    assert outsider["events"] == [] and outsider["parts"] == {}


def test_the_feed_sends_only_parts_changed_for_the_pages_lens(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    number = _paragraph_of(seeded)
    start = _poll(ben, group, 0)["cursor"]
    note = _note(session, ann, seeded, "Seminar only.", group)
    # Ben may know of the group's note, but his public page does not change for it.
    public = ben.get(f"{PAGE}/events?lens=public&after={start}").get_json()
    assert [e["annotation"] for e in public["events"]] == [note.id]
    assert public["parts"] == {}
    # Filters are the page's: a page showing only Ben's notes leaves it out.
    filtered = _poll(ben, group, start, f"&member={ann.user.id}")
    assert f'id="a{note.id}"' in filtered["parts"][str(number)]
    others = _poll(ben, group, start, f"&member={ben.user.id}")
    assert f'id="a{note.id}"' not in others["parts"][str(number)]


def test_the_feed_runs_a_few_queries_whatever_changed(app, engine, session, seminar, seeded):
    _, ann, ben, _, group = seminar
    start = _poll(ben, group, 0)["cursor"]

    def queries(after: int) -> int:
        app.extensions["render_cache"].clear()
        with recorded_queries(engine) as statements:
            _poll(ben, group, after)
        return len(statements)

    assert queries(start) == 1  # nothing new: the text and its cursor, whoever asks
    words = seeded.current_revision.paragraphs[0].body.split()
    for n in range(2):
        _note(session, ann, seeded, f"note {n}", group, quote=words[n])
    few = queries(start)
    for n in range(2, 40):
        _note(session, ann, seeded, f"note {n}", group, quote=words[n % len(words)])
    assert queries(start) == few


def test_the_feed_brings_a_part_that_stops_being_the_readers_own(session, seminar, seeded):
    """Found in review: a part holding Ann's private note is hers alone; once the note is gone
    it is the group's shared part again, whose version had not moved, and the feed left it out."""
    _, ann, _, _, group = seminar
    number = _paragraph_of(seeded)
    private = _note(session, ann, seeded, "Only mine.", visibility=Visibility.PRIVATE)
    start = _poll(ann, group, 0)["cursor"]
    assert ann.api("DELETE", f"/api/v1/annotations/{private.id}").status_code == 204
    news = _poll(ann, group, start)
    assert "Only mine." not in news["parts"][str(number)]
    assert dom(news["parts"][str(number)]).select_one(f"div.para-row#p{number}")


def test_the_feed_says_which_lens_it_rendered_in(session, seminar, seeded):
    """Found in review: a member removed while the page was open got parts of the lens they fall
    back to, swapped into a page labelled with the group's: the feed names its lens, and the page
    is loaded again when it is not its own (live.js)."""
    ida, ann, ben, _, group = seminar
    start = _poll(ben, group, 0)["cursor"]
    _note(session, ann, seeded, "Still here?", group)
    assert _poll(ben, group, start)["lens"] == f"group-{group.id}"
    assert ida.post(f"/groups/{group.id}/members/{ben.user.id}/remove").status_code == 302
    _note(session, ann, seeded, "After Ben left.", group)
    after = _poll(ben, group, start)
    assert after["lens"] != f"group-{group.id}"
    assert "After Ben left." not in "".join(after["parts"].values())


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{PAGE}/events?after=x", 400),
        (f"{PAGE}/events?after=1&color=plaid", 400),
        (f"{PAGE}/events?after=1&expand=-3", 400),
        ("/texts/no-such-text/events?after=1", 404),
    ],
)
def test_the_pages_feed_refuses_bad_input_clearly(seminar, path, status):
    answer = seminar[2].get(path)
    assert answer.status_code == status
    assert "Traceback" not in answer.get_data(as_text=True)


def test_own_reactions_are_listed_for_the_page_to_mark(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Agreeable.", group)
    reacted = ben.api("PUT", f"/api/v1/annotations/{note.id}/reactions/agree")
    assert reacted.status_code == 204
    page = dom(ben.html(_lens(group)))
    assert page.select_one("article.reading")["data-my-reactions"].split() == [f"{note.id}:agree"]
    assert dom(ann.html(_lens(group))).select_one("article.reading")["data-my-reactions"] == ""


def test_a_readers_own_parts_are_kept_per_lens(app, session, seminar, seeded):
    """Found in review: a part rendered for one reader alone was keyed without its lens, so
    the lens loaded first filled it for the others (and a discussion went to the wrong group)."""
    _, ann, _, cy, group = seminar
    other = make_group(session, cy.user, ann.user, name="Other seminar")
    private = _note(session, ann, seeded, "My own highlight.", visibility=Visibility.PRIVATE)
    number = _paragraph_of(seeded)
    ann.html(f"{PAGE}?lens=public")
    assert f'id="a{private.id}"' not in ann.html(f"{PAGE}?lens=public")
    for lens_group in (other, group, other):
        page = dom(ann.html(f"{PAGE}?lens=group-{lens_group.id}"))
        assert page.select_one(f"#a{private.id}"), lens_group.name
        discuss = page.select_one(f'#p{number} a[data-form="discuss"]')
        assert discuss["data-action"].endswith(f"/discuss/{lens_group.id}/{number}")


def test_readers_in_other_groups_besides_share_the_seminars_parts(
    session, seminar, seeded, renders
):
    """Found in review: the shared key held all of the reader's groups, so Ann (in a second
    group) and Ben rendered the seminar's lens once each."""
    _, ann, ben, cy, group = seminar
    make_group(session, cy.user, ann.user, name="Other seminar")
    ann.html(_lens(group))
    ben.html(_lens(group))
    assert len(renders) == 1, renders
