"""Exports (issue 18 §4): my notebook as Markdown and W3C JSON-LD, a group's discussion as CSV and
JSON-LD for its instructors; streamed, read a batch at a time, through the one access policy."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

from app.models import (
    Annotation,
    HighlightColor,
    Motivation,
    ParagraphRole,
    ReactionKind,
    Role,
    Text,
    Visibility,
)
from app.models.text import paragraph_at
from app.services import annotations, discussion, groups, importer, markdown, moderation
from app.services.access import viewer_for
from app.services.exports import BATCH_SIZE
from tests import factories
from tests.factories import dom, fresh, make_annotation, make_group, recorded_queries, sign_in

NOTEBOOK_MD = "/api/v1/exports/notebook.md"
NOTEBOOK_LD = "/api/v1/exports/notebook.jsonld"
W3C_FIELDS = {"id", "type", "motivation", "created", "modified", "creator", "target"}
# The odd text: every character Markdown or Obsidian reads as markup, and a second paragraph
# that starts like a numbered list.
ODD_TITLE = "Notes *on* [it] > `x` #1 | ~~a~~ <b>"
ODD_FIRST = "He wrote > not a quote # nor a heading, `code` and ``` a fence <!-- no comment"
ODD_SECOND = "1. Not a list - nor *emphasis* ==mark== $x$ %%c%% ^id"


@pytest.fixture
def odd_text(session, seeded):
    parsed = importer.ParsedText(
        title=ODD_TITLE,
        author="A_uthor [ed.]",
        slug="odd",
        paragraphs=[(ParagraphRole.BODY, ODD_FIRST), (ParagraphRole.BODY, ODD_SECOND)],
    )
    text = importer.store(session, parsed, "odd.txt").text
    session.commit()
    return text


def rendered(markdown: str):
    """The Markdown as CommonMark renders it (what Obsidian's reading view builds on), after
    its front matter (which Obsidian reads as the note's properties)."""
    assert markdown.startswith("---\n")
    return dom(MarkdownIt("commonmark").render(markdown.split("\n---\n", 1)[1]))


def link_to(
    annotation_id: int, slug: str = factories.SLUG, lens: str | None = None, root: int | None = None
) -> str:
    """The reading page at the annotation, its thread (its ``root``'s) open."""
    focus = f"focus={root or annotation_id}"
    query = f"lens={lens}&{focus}" if lens else focus
    return f"http://localhost/texts/{slug}?{query}#a{annotation_id}"


def body_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# ---- my notebook as Markdown ----


def test_markdown_keeps_each_hazard_in_its_place(app, session, seeded, odd_text):
    ada = sign_in(app, session, "Ada")
    quote = ODD_FIRST[-20:] + "\n\n" + ODD_SECOND[:30]  # across two paragraphs: a newline
    content = odd_text.current_revision.content
    start = content.index(quote)
    draft = annotations.Draft(
        text_slug="odd",
        motivation=Motivation.COMMENTING,
        body="# My heading\n\n<!-- never closed\n\nSee **this**.\n\n```python\nunclosed = True",
        tags=["what?#now", "close reading"],
        target=annotations.SpanTarget(exact=quote, start=start, end=start + len(quote)),
    )
    odd = annotations.create(session, viewer_for(session, ada.user), draft)
    session.commit()
    carr = make_annotation(session, ada.user, seeded, "Litvinov in Copenhagen", body="On Carr")

    markdown = body_of(ada.get(NOTEBOOK_MD))
    assert markdown.startswith('---\ntitle: "Notebook of Ada"\n')
    page = rendered(markdown)
    assert [h.get_text() for h in page.select("h1")] == ["Notebook of Ada"]
    # A heading a text, sorted by title, each its own title to the letter.
    assert [h.get_text() for h in page.select("h2")] == [ODD_TITLE, seeded.title]
    quotes = page.select("blockquote")
    assert len(quotes) == 2
    odd_quote = quotes[0].select("p")
    # The quote's two paragraphs, word for word, then the citation with its link.
    assert odd_quote[0].get_text() == ODD_FIRST[-20:]
    assert odd_quote[1].get_text() == ODD_SECOND[:30]
    assert odd_quote[2].get_text().startswith(f"— {ODD_TITLE}, A_uthor [ed.], ¶1")
    assert odd_quote[2].select_one("a")["href"] == link_to(odd.id, "odd")
    assert quotes[1].select_one("a")["href"] == link_to(carr.id)
    assert f"{seeded.title}, {seeded.author}, ¶" in quotes[1].get_text()
    # The note's own Markdown, its heading below the export's, an HTML comment shown as the
    # words it is (as Scholia shows it), its open fence closed before the tags, which stay a
    # paragraph of their own.
    assert page.select_one("h4").get_text() == "My heading"
    assert page.select_one("h4").find_next_sibling("p").get_text() == "<!-- never closed"
    assert page.select_one("strong").get_text() == "this"
    assert page.select_one("pre code").get_text() == "unclosed = True\n"
    tags = page.select_one("pre").find_next_sibling("p")
    assert tags.get_text() == "#close-reading #what-now"
    assert "#close-reading #what-now" in markdown.splitlines()


def test_a_notes_obsidian_comment_or_math_left_open_hides_no_note_after_it(app, session, seeded):
    """Obsidian reads ``%%`` as a comment and ``$$`` as display math, each running across lines
    to its closing pair: left open in one note, it would hide (or set as math) every note after
    it. They are escaped, outside code, so both show as the characters Scholia showed."""
    ada = sign_in(app, session, "Ada")
    body = "I am 100%% sure, $$ and all: `%% in code`"
    make_annotation(session, ada.user, seeded, "Litvinov in Copenhagen", body=body)
    make_annotation(session, ada.user, seeded, "Moscow", body="The next note")

    markdown = body_of(ada.get(NOTEBOOK_MD))
    unescaped = re.sub(r"\\.", "", markdown.split("`%% in code`")[0])
    assert "%%" not in unescaped and "$$" not in unescaped
    words = [p.get_text() for p in rendered(markdown).select("p")]
    assert body.replace("`", "") in words and "The next note" in words


def test_plain_text_and_html_notes_show_in_markdown_as_scholia_shows_them(app, session, seeded):
    """An API client's plain text is words (no emphasis, heading or list made of them), and its
    HTML is what the allow-list kept, shown as HTML, not as tags in the words."""
    ada = sign_in(app, session, "Ada")
    viewer = viewer_for(session, ada.user)
    bodies = {
        "Litvinov in Copenhagen": (markdown.PLAIN, "*Not emphasis*\n# Not a heading\n\n1. No list"),
        "Moscow": (
            markdown.HTML,
            '<p>A <strong>bold</strong> claim</p>\n\n<p><a href="https://example.org">See</a>'
            "<script>alert(1)</script> *as is*</p>",
        ),
    }
    for quote, (kind, body) in bodies.items():
        start = seeded.current_revision.content.index(quote)
        draft = annotations.Draft(
            text_slug=seeded.slug,
            motivation=Motivation.COMMENTING,
            body=body,
            target=annotations.SpanTarget(exact=quote, start=start, end=start + len(quote)),
            form=annotations.BodyForm(kind),
        )
        annotations.create(session, viewer, draft)
        session.commit()

    page = rendered(body_of(ada.get(NOTEBOOK_MD)))
    words = [p.get_text() for p in page.select("p")]
    assert "*Not emphasis*\n# Not a heading" in words and "1. No list" in words
    assert not page.select("h4, ol")
    assert {em.get_text() for em in page.select("em")} == {seeded.title, seeded.author}
    assert page.select_one("strong").get_text() == "bold"
    assert page.select_one("a[href='https://example.org']").get_text() == "See"
    assert "A bold claim" in words and "See *as is*" in words
    assert not page.select("script") and "alert" not in page.get_text()


def test_markdown_groups_by_paragraph_and_lists_my_replies_only(app, session, seeded):
    ann, ben = sign_in(app, session, "Ann"), sign_in(app, session, "Ben")
    bens = make_annotation(
        session,
        ben.user,
        seeded,
        "Litvinov in Copenhagen",
        body="Ben's words",
        visibility=Visibility.PUBLIC,
    )
    mine = discussion.reply(session, viewer_for(session, ann.user), bens.id, "Ann answers")
    session.commit()
    whole = make_annotation(session, ann.user, seeded, None, body="On all of it")
    highlight = make_annotation(session, ann.user, seeded, "Rapallo", color=HighlightColor.GREEN)
    bens_id = bens.id

    markdown = body_of(ann.get(NOTEBOOK_MD))
    assert "Ben's words" not in markdown and "Ben" not in markdown
    page = rendered(markdown)
    assert [h.get_text() for h in page.select("h3")] == [
        f"¶{highlight_paragraph(session, highlight)}",
        "Whole text and changed passages",
        "Replies",
    ]
    replies = page.select("h3")[-1].find_next_siblings("p")
    assert replies[0].select_one("a")["href"] == link_to(mine.id, lens="public", root=bens_id)
    assert replies[1].get_text() == "Ann answers"
    assert whole.body_source in markdown
    # The notebook page's filters: a colour leaves only the green highlight.
    filtered = rendered(body_of(ann.get(NOTEBOOK_MD + "?color=green")))
    assert [a["href"] for a in filtered.select("a")] == [link_to(highlight.id)]
    assert ann.get(NOTEBOOK_MD + "?color=mauve").status_code == 400


def highlight_paragraph(session, annotation) -> int:
    spans = annotations.paragraph_spans(session, fresh(session).get(Annotation, annotation.id))
    return paragraph_at(spans, annotation.start).paragraph.number


# ---- my notebook as JSON-LD ----


def test_a_jsonld_exports_id_is_a_uri_even_when_its_filter_is_not_ascii(app, session, seeded):
    """Its id is the address it was asked at, a URI a JSON-LD reader can resolve: a tag of
    accented letters in the query is percent-encoded, not left as it was decoded."""
    ann = sign_in(app, session, "Ann Student")
    data = json.loads(body_of(ann.get(f"{NOTEBOOK_LD}?tag=débat")))
    assert data["id"] == "http://localhost/api/v1/exports/notebook.jsonld?tag=d%C3%A9bat"
    assert data["id"].isascii()


def test_notebook_jsonld_items_are_the_apis_annotations_parents_first(app, session, seeded):
    _ida, ann, ben, _cy, group = factories.seminar_of_four(app, session)
    mine = make_annotation(session, ann.user, seeded, "Rapallo", body="Mine", group=group)
    bens = make_annotation(
        session, ben.user, seeded, "Litvinov", body="Ben's", visibility=Visibility.PUBLIC
    )
    as_ann = viewer_for(session, ann.user)
    first = discussion.reply(session, as_ann, mine.id, "My own thread")
    discussion.reply(session, as_ann, first.id, "And again")
    discussion.reply(session, as_ann, bens.id, "To Ben")
    session.commit()

    response = ann.get(NOTEBOOK_LD)
    assert response.mimetype == "application/ld+json"
    data = json.loads(body_of(response))
    assert data["type"] == "AnnotationCollection"
    assert data["label"] == "Notebook of Ann Student"
    assert data["generator"]["type"] == "Software" and data["generated"].endswith("Z")
    assert data["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
    items = data["items"]
    assert data["total"] == len(items) == 4
    assert "Ben's" not in json.dumps(data)
    position = {item["id"]: n for n, item in enumerate(items)}
    for n, item in enumerate(items):
        assert item.keys() >= W3C_FIELDS and item["type"] == "Annotation"
        assert item["creator"]["name"] == "Ann Student"
        # Each item is the annotation as the API serves it, with its group's name beside it.
        served = ann.get(item["id"]).get_json()
        del served["@context"]
        assert {k: v for k, v in item.items() if k != "scholia:groupName"} == served
        if isinstance(item["target"], str) and item["target"] in position:
            assert position[item["target"]] < n  # a parent before its replies
    assert [i.get("scholia:groupName") for i in items[:3]] == ["Carr seminar"] * 3
    assert "scholia:groupName" not in items[3]  # my reply to Ben's public note


# ---- a group's discussion ----


@pytest.fixture
def seminar(app, session, seeded):
    """Ida teaches Ann and Ben: a note of Ann's that looks like a formula, with Ben's reply and
    two reactions, a note of Ben's Ida hid, and notes of Ann's outside the group."""
    ida, ann, ben, cy, group = factories.seminar_of_four(app, session)
    note = make_annotation(
        session,
        ann.user,
        seeded,
        "Litvinov in Copenhagen",
        body='=SUM(A1:A3)\nsecond line, "quoted"',
        tags=("diplomacy", "nep"),
        group=group,
    )
    reply = discussion.reply(session, viewer_for(session, ben.user), note.id, "+1 agreed")
    session.commit()
    discussion.react(session, viewer_for(session, ben.user), note.id, ReactionKind.AGREE, True)
    discussion.react(session, viewer_for(session, ida.user), note.id, ReactionKind.QUESTION, True)
    session.commit()
    hidden = make_annotation(session, ben.user, seeded, "Rapallo", body="@rude", group=group)
    moderation.set_hidden(session, viewer_for(session, ida.user), hidden.id, True)
    session.commit()
    make_annotation(session, ann.user, seeded, "Genoa", body="Private thoughts")
    make_annotation(
        session, ann.user, seeded, "Krasin", body="Public", visibility=Visibility.PUBLIC
    )
    return ida, ann, ben, cy, group, fresh(session).get(Annotation, note.id), reply, hidden


def paragraph_of(session, quote: str, seeded) -> str:
    content = seeded.current_revision.content
    spans = seeded.current_revision.spans()
    return str(paragraph_at(spans, content.index(quote)).paragraph.number)


def _utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_group_csv_has_exactly_the_groups_rows(session, seeded, seminar):
    ida, _ann, _ben, _cy, group, note, reply, hidden = seminar
    response = ida.get(f"/api/v1/exports/groups/{group.id}.csv")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel reads it as UTF-8
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    lens = f"group-{group.id}"
    para = paragraph_of(session, "Litvinov in Copenhagen", seeded)
    assert rows == [
        ["author", "text", "paragraph", "quote", "body", "tags", "audience", "created", "agree",
         "puzzled", "parent id", "id", "hidden", "link", "suggestion"],
        ["Ann Student", seeded.title, para, "Litvinov in Copenhagen",
         "'=SUM(A1:A3)\nsecond line, \"quoted\"", "diplomacy nep", "group: Carr seminar",
         _utc(note.created_at), "1", "1", "", str(note.id), "no", link_to(note.id, lens=lens), ""],
        ["Ben Student", seeded.title, para, "", "'+1 agreed", "", "group: Carr seminar",
         _utc(fresh(session).get(Annotation, reply.id).created_at), "0", "0", str(note.id),
         str(reply.id), "no", link_to(reply.id, lens=lens, root=note.id), ""],
        ["Ben Student", seeded.title, paragraph_of(session, "Rapallo", seeded), "Rapallo",
         "'@rude", "", "group: Carr seminar", _utc(hidden.created_at), "0", "0", "",
         str(hidden.id), "yes", link_to(hidden.id, lens=lens), ""],
    ]  # fmt: skip


def test_group_jsonld_has_every_thread_and_the_hidden_note(session, seminar):
    ida, _ann, _ben, _cy, group, note, reply, hidden = seminar
    data = json.loads(body_of(ida.get(f"/api/v1/exports/groups/{group.id}.jsonld")))
    items = data["items"]
    assert data["total"] == 3 and data["label"] == "Discussion of Carr seminar"
    assert [factories.annotation_id(i) for i in items] == [note.id, reply.id, hidden.id]
    assert items[1]["target"] == items[0]["id"]
    assert items[2]["scholia:hidden"] is True
    assert items[2]["body"][0]["value"] == "@rude"  # the instructor reads hidden words
    assert {i["scholia:groupName"] for i in items} == {"Carr seminar"}
    assert {i["scholia:group"] for i in items} == {group.id}


def test_who_may_export_a_discussion_follows_the_group_over_time(app, session, seminar):
    ida, ann, ben, cy, group, *_ = seminar
    paths = [f"/api/v1/exports/groups/{group.id}.{kind}" for kind in ("csv", "jsonld")]

    def statuses(browser) -> set[int]:
        # Buffered, as a server reads a streamed answer to its end (and closes it).
        return {browser.get(path, buffered=True).status_code for path in paths}

    assert statuses(ida) == {200}
    assert statuses(ann) == {403}  # a member
    assert statuses(cy) == {404}  # not in the group
    anonymous = app.test_client().get(paths[0])
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json"
    as_ida = viewer_for(session, ida.user)
    groups.set_role(session, as_ida, group.id, ann.user.id, Role.INSTRUCTOR)
    session.commit()
    assert statuses(ann) == {200}
    groups.set_role(session, as_ida, group.id, ann.user.id, Role.MEMBER)  # demoted
    session.commit()
    assert statuses(ann) == {403}
    groups.set_role(session, as_ida, group.id, ben.user.id, Role.INSTRUCTOR)
    session.commit()
    groups.remove_member(session, as_ida, group.id, ben.user.id)  # removed
    session.commit()
    assert statuses(ben) == {404}
    own = make_group(session, cy.user, name="Cy's own seminar")  # another group's instructor
    assert cy.get(f"/api/v1/exports/groups/{own.id}.csv", buffered=True).status_code == 200
    assert statuses(cy) == {404}
    admin = sign_in(app, session, "Adm In", is_admin=True)
    assert statuses(admin) == {200}
    assert app.test_client().get(NOTEBOOK_MD).status_code == 401


def test_download_names_are_safe(app, session, seeded):
    ida = sign_in(app, session, "Ida")
    group = make_group(session, ida.user, name='Q&A "seminar" / ../Ünïcode; x=1')
    response = ida.get(f"/api/v1/exports/groups/{group.id}.csv", buffered=True)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="q-a-seminar-unicode-x-1-discussion-')
    plain, extended = disposition.split("; ")[1:]
    assert plain.endswith('.csv"') and plain.count('"') == 2
    name = unquote(extended.removeprefix("filename*=UTF-8''"))
    assert name.startswith("Q-A-seminar-Ünïcode-x-1-discussion-") and name.endswith(".csv")
    assert not set('/\\"; ') & set(name)


# ---- streaming, a batch at a time ----


def many_notes(session, author, text, group, count: int) -> None:
    """``count`` group notes and replies (one in three a reply), in one transaction."""
    acting = viewer_for(session, author)
    content = text.current_revision.content
    last = None
    for n in range(count):
        if n % 3 == 2:
            discussion.reply(session, acting, last.id, f"Reply {n}")
            continue
        start = (n * 7) % 5000
        draft = annotations.Draft(
            text_slug=text.slug,
            motivation=Motivation.COMMENTING,
            body=f"Note {n}",
            tags=[f"t{n % 4}"],
            target=annotations.SpanTarget(
                exact=content[start : start + 5], start=start, end=start + 5
            ),
            visibility=Visibility.GROUP,
            group_id=group.id,
        )
        last = annotations.create(session, acting, draft)
    session.commit()


def test_large_exports_stream_with_queries_by_the_batch(app, session, seeded, engine):
    """Ben wrote 3 notes in the seminar, Ann 300 in another group: their exports differ by a
    few queries a batch (three batches of 100 against one), not by a query a note."""
    ida, ann, ben, _cy, group = factories.seminar_of_four(app, session)
    other = make_group(session, ida.user, ann.user, name="Other")

    def queries(browser, path: str) -> int:
        browser.get("/")  # signed in before counting
        with recorded_queries(engine) as statements:
            response = browser.get(path)
            assert response.is_streamed
            body_of(response)
        return len(statements)

    many_notes(session, ben.user, seeded, group, 3)
    many_notes(session, ann.user, seeded, other, 3 * BATCH_SIZE)
    group_path = "/api/v1/exports/groups/{}.{}"
    cases = [
        (ida, group_path.format(group.id, k), ida, group_path.format(other.id, k))
        for k in ("csv", "jsonld")
    ]
    cases += [(ben, path, ann, path) for path in (NOTEBOOK_MD, NOTEBOOK_LD)]
    for few_reader, few, many_reader, many in cases:
        small, large = queries(few_reader, few), queries(many_reader, many)
        assert large - small <= 3 * 4, (many, small, large)
    rows = list(
        csv.reader(
            io.StringIO(ida.get(f"/api/v1/exports/groups/{other.id}.csv").get_data(as_text=True))
        )
    )
    assert len(rows) == 1 + 3 * BATCH_SIZE
    assert len({row[11] for row in rows[1:]}) == 3 * BATCH_SIZE  # no row twice across batches


def test_reading_order_holds_across_batches(app, session, seeded, odd_text, monkeypatch):
    """Batches of two: every annotation once, by text title, then by place, whole-text notes
    and replies last, whichever batch each falls in."""
    monkeypatch.setattr("app.services.exports.BATCH_SIZE", 2)
    ada = sign_in(app, session, "Ada")
    whole = make_annotation(session, ada.user, seeded, None, body="On all of it")
    later = make_annotation(session, ada.user, seeded, "Rapallo", body="Later")
    reply = discussion.reply(session, viewer_for(session, ada.user), later.id, "Mine again")
    session.commit()
    earlier = make_annotation(session, ada.user, seeded, "Litvinov in Copenhagen", body="Early")
    odd_second = make_annotation(session, ada.user, odd_text, "Not a list", body="2nd")
    odd_first = make_annotation(session, ada.user, odd_text, "He wrote", body="1st")
    page = rendered(body_of(ada.get(NOTEBOOK_MD)))
    hrefs = [a["href"] for a in page.select("a")]
    expected = [odd_first, odd_second, earlier, later, whole]
    assert hrefs == [link_to(a.id, a.text.slug) for a in expected] + [
        link_to(reply.id, root=later.id)
    ]
    items = json.loads(body_of(ada.get(NOTEBOOK_LD)))["items"]
    ids = [whole, later, reply, earlier, odd_second, odd_first]
    assert [factories.annotation_id(i) for i in items] == [a.id for a in ids]


# ---- a text gone, odd titles, the pages' links ----


def test_a_deleted_text_and_a_deleted_note_leave_the_exports(app, session, seeded, odd_text):
    ada = sign_in(app, session, "Ada")
    kept = make_annotation(session, ada.user, seeded, "Rapallo", body="Kept")
    gone = make_annotation(session, ada.user, seeded, "Genoa", body="Deleted note")
    make_annotation(session, ada.user, odd_text, "He wrote", body="On a text that goes")
    annotations.delete(session, viewer_for(session, ada.user), gone.id)
    session.commit()
    fresh(session).delete(session.get(Text, odd_text.id))
    session.commit()
    markdown = body_of(ada.get(NOTEBOOK_MD))
    assert "Kept" in markdown and "Deleted note" not in markdown and "goes" not in markdown
    items = json.loads(body_of(ada.get(NOTEBOOK_LD)))["items"]
    assert [factories.annotation_id(i) for i in items] == [kept.id]


def test_notebook_and_group_pages_link_to_their_exports(app, session, seminar):
    ida, ann, *_, group = seminar[:5]
    notebook = dom(ann.html("/notes?tag=nep"))
    links = {a.get_text(): a["href"] for a in notebook.select(".export-links a")}
    assert links == {"Markdown": NOTEBOOK_MD + "?tag=nep", "JSON-LD": NOTEBOOK_LD + "?tag=nep"}
    teacher = dom(ida.html(f"/groups/{group.id}"))
    hrefs = [a["href"] for a in teacher.select(".export-links a")]
    assert hrefs == [f"/api/v1/exports/groups/{group.id}.{kind}" for kind in ("csv", "jsonld")]
    assert dom(ann.html(f"/groups/{group.id}")).select(".export-links") == []
