"""Adding a text on the page (issue 19 §6): who may, the preview that stores nothing, saving
exactly what was previewed, never over another text, the importer's every refusal on the form,
odd bytes, limits, and editing the title, author and citation afterwards."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Paragraph, ReadingAssignment, Role, Text, TextRevision
from app.services import groups, importer
from app.services.access import viewer_for
from app.services.texts import adding
from tests import factories
from tests.conftest import SEED
from tests.factories import PAGE, SLUG, dom, fresh, make_group, sign_in, text_of

NEW = "/texts/new"
PLAIN = b"""The Week's Text - A. Writer

An editor's note.


The first paragraph of the work, about zygomorphic treaties.

The second
paragraph wraps.

Source: A. Writer, Collected, 1999"""
PLAIN_PARAGRAPHS = [
    ("front_matter", "An editor's note."),
    ("body", "The first paragraph of the work, about zygomorphic treaties."),
    ("body", "The second paragraph wraps."),
    ("citation", "Source: A. Writer, Collected, 1999"),
]


def texts(session) -> int:
    return fresh(session).scalar(select(func.count(Text.id)))


def paragraphs(session) -> int:
    return fresh(session).scalar(select(func.count(Paragraph.id)))


def post_form(browser, fields: dict):
    """A multipart form as a browser sends it, made in memory: the test client's own spills a
    body past 500 kB to a temporary file it never closes."""
    boundary, body = encode_multipart(fields)
    content_type = f"multipart/form-data; boundary={boundary}"
    return browser.client.post(NEW, data=body, content_type=content_type)


def upload(browser, raw: bytes, name: str = "weeks-text.txt", **fields):
    file = FileStorage(io.BytesIO(raw), filename=name, content_type="text/plain")
    return post_form(browser, {"csrf_token": browser.token, "file": file, **fields})


def paste(browser, words: str, form: str = "txt", **fields):
    return post_form(
        browser, {"csrf_token": browser.token, "text": words, "format": form, **fields}
    )


def save_form(response) -> dict[str, str]:
    """The preview's Save form as a browser would send it: its hidden and filled fields."""
    assert response.status_code in (200, 409, 422), response.status_code
    form = dom(response.get_data(as_text=True)).find("input", {"name": "step"}).find_parent("form")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    chosen = form.select_one("select[name=group] option[selected]")
    if chosen is not None:
        fields["group"] = chosen["value"]
    return fields


def save(browser, preview, **changes):
    return post_form(browser, {**save_form(preview), **changes})


def shown_paragraphs(response) -> list[tuple[str, str]]:
    """The preview's numbered paragraphs as (role class, words), in order, checking each number."""
    items = dom(response.get_data(as_text=True)).select("ol.text-preview > li")
    for n, item in enumerate(items, 1):
        assert text_of(item.select_one(".preview-number")) == f"¶{n}"
    return [(item["class"][0].removeprefix("role-"), text_of(item.p)) for item in items]


def stored_paragraphs(session, slug: str) -> list[tuple[str, str]]:
    text = fresh(session).scalar(select(Text).where(Text.slug == slug))
    return [(p.role.value, p.body) for p in text.current_revision.paragraphs]


def error_shown(response) -> str:
    page = dom(response.get_data(as_text=True))
    return " ".join(text_of(e) for e in page.select(".form-errors, p.error"))


@pytest.fixture
def teacher(app, session, seeded):
    """Ida, who owns a group reading nothing yet, signed in."""
    ida = sign_in(app, session, "Ida Teacher")
    ida.group = make_group(session, ida.user, name="HIST 210")
    return ida


# ---- who may --------------------------------------------------------------------------------


def test_only_admins_and_those_who_teach_a_group_may_add_and_it_follows_their_role(
    app, session, seeded
):
    owner = sign_in(app, session, "Olga Owner")
    ann = sign_in(app, session, "Ann Student")
    group = make_group(session, owner.user, ann.user)
    admin = sign_in(app, session, "Sam Admin", is_admin=True)

    refused = ann.get(NEW)
    assert refused.status_code == 403
    assert "Only site administrators and those who teach a group" in refused.get_data(as_text=True)
    assert ann.post(NEW, text="T\n\nBody.").status_code == 403
    assert "Add a text" not in text_of(dom(ann.html("/")).main)
    for allowed in (owner, admin):
        assert allowed.get(NEW).status_code == 200
        assert dom(allowed.html("/")).find("a", href=NEW) is not None

    owner.post(f"/groups/{group.id}/members/{ann.user.id}/role", role="instructor")
    assert ann.get(NEW).status_code == 200
    assert paste(ann, "Ann's text\n\nBody.").status_code == 200
    owner.post(f"/groups/{group.id}/members/{ann.user.id}/role", role="member")
    assert ann.get(NEW).status_code == 403
    assert paste(ann, "Ann's text\n\nBody.").status_code == 403


def test_signing_in_is_needed(client, seeded):
    response = client.get(NEW)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_group_page_links_its_instructors_to_the_form_for_that_group(teacher):
    page = dom(teacher.html(f"/groups/{teacher.group.id}"))
    link = page.find("a", string="Add a new text")
    assert link["href"] == f"{NEW}?group={teacher.group.id}"
    form = dom(teacher.html(link["href"]))
    assert form.select_one("#text-group option[selected]")["value"] == str(teacher.group.id)


# ---- preview and save -------------------------------------------------------------------------


def test_the_preview_shows_title_author_citation_and_each_paragraph_and_stores_nothing(
    teacher, session
):
    before = (texts(session), paragraphs(session))
    response = upload(teacher, PLAIN)
    assert response.status_code == 200
    page = dom(response.get_data(as_text=True))
    assert text_of(page.h1) == "Preview: The Week's Text"
    details = dict(
        zip(
            (text_of(dt) for dt in page.select(".text-details dt")),
            (text_of(dd) for dd in page.select(".text-details dd")),
            strict=True,
        )
    )
    assert details == {
        "Title": "The Week's Text",
        "Author": "A. Writer",
        "Citation": "A. Writer, Collected, 1999",
        "Paragraphs": "4",
    }
    assert shown_paragraphs(response) == PLAIN_PARAGRAPHS
    labels = [text_of(role) for role in page.select(".preview-role")]
    assert labels == ["Front matter", "Body", "Body", "Citation"]
    assert page.select_one("#text-slug")["value"] == "weeks-text"
    assert (texts(session), paragraphs(session)) == before


def test_save_stores_exactly_the_previewed_paragraphs_and_opens_the_reading_page(teacher, session):
    preview = upload(teacher, PLAIN)
    response = save(teacher, preview)
    assert response.status_code == 302
    assert response.headers["Location"] == "/texts/weeks-text"
    assert stored_paragraphs(session, "weeks-text") == shown_paragraphs(preview)
    text = fresh(session).scalar(select(Text).where(Text.slug == "weeks-text"))
    assert (text.title, text.author, text.citation) == (
        "The Week's Text",
        "A. Writer",
        "A. Writer, Collected, 1999",
    )
    assert text.added_by_id == teacher.user.id
    assert text.source_name == "weeks-text.txt"
    page = dom(teacher.html("/texts/weeks-text"))
    assert text_of(page.select_one(".flashes")) == "“The Week's Text” is in the library."
    assert text_of(page.h1) == "The Week's Text"


def test_save_parses_the_carried_source_again_not_what_a_client_claims(teacher, session):
    preview = upload(teacher, PLAIN)
    forged = importer.parse_file(b"Forged\n\nOther words.", "f.txt")
    response = save(teacher, preview, title=forged.title, paragraphs="Other words.")
    assert response.status_code == 302
    assert stored_paragraphs(session, "weeks-text") == PLAIN_PARAGRAPHS
    # A damaged copy of the source is refused on the form, with nothing stored.
    before = texts(session)
    response = save(teacher, upload(teacher, PLAIN, slug="other"), source="not base64!")
    assert response.status_code == 422
    assert "damaged" in error_shown(response)
    response = save(teacher, upload(teacher, PLAIN, slug="other"), source_name="evil.pdf")
    assert response.status_code == 422
    assert "evil.pdf: unsupported file type .pdf" in error_shown(response)
    assert texts(session) == before


def test_pasted_plain_text_and_markdown_and_their_url_names(teacher, session):
    response = paste(teacher, PLAIN.decode().replace("\n", "\r\n"))
    assert response.status_code == 200
    assert shown_paragraphs(response) == PLAIN_PARAGRAPHS
    assert dom(response.get_data(as_text=True)).select_one("#text-slug")["value"] == (
        "the-week-s-text"
    )
    assert save(teacher, response).headers["Location"] == "/texts/the-week-s-text"

    markdown = "---\nauthor: M. D.\ncitation: Somewhere, 2001\n---\n# A *Marked* Text\n\nOne.\n"
    response = paste(teacher, markdown, "md", slug="Marked Text!")
    assert shown_paragraphs(response) == [("body", "One.")]
    assert save(teacher, response).headers["Location"] == "/texts/marked-text"
    text = fresh(session).scalar(select(Text).where(Text.slug == "marked-text"))
    assert (text.title, text.author, text.citation) == (
        "A *Marked* Text",
        "M. D.",
        "Somewhere, 2001",
    )
    # The same words read as plain text: the heading's line is the title, as the importer has it.
    response = paste(teacher, "# Heading\n\nOne.", "txt")
    assert text_of(dom(response.get_data(as_text=True)).h1) == "Preview: # Heading"


def test_the_text_can_go_on_a_reading_list_of_a_group_one_teaches_only(app, teacher, session):
    other = sign_in(app, session, "Oscar Other")
    elsewhere = make_group(session, other.user, teacher.user, name="Elsewhere")
    preview = upload(teacher, PLAIN)
    options = dom(preview.get_data(as_text=True)).select("#text-group option")
    assert [text_of(o) for o in options] == ["No group", "HIST 210"]

    before = texts(session)
    response = save(teacher, preview, group=str(elsewhere.id))
    assert response.status_code == 422
    assert "a group you teach" in error_shown(response)
    assert texts(session) == before

    response = save(teacher, preview, group=str(teacher.group.id))
    assert response.status_code == 302
    text_id = fresh(session).scalar(select(Text.id).where(Text.slug == "weeks-text"))
    on_list = session.scalars(
        select(ReadingAssignment.group_id).where(ReadingAssignment.text_id == text_id)
    ).all()
    assert on_list == [teacher.group.id]


# ---- never over another text ----------------------------------------------------------------


def test_a_url_name_in_use_is_refused_with_a_field_to_pick_another(teacher, session):
    seed_words = SEED.read_bytes()
    preview = upload(teacher, b"Hostile title\n\nReplaced.", "carr-rapprochement.txt")
    assert preview.status_code == 200
    page = dom(preview.get_data(as_text=True))
    assert "There is already a text at /texts/carr-rapprochement" in text_of(
        page.select_one("#text-slug-error")
    )
    assert page.select_one("#text-slug")["aria-invalid"] == "true"

    refused = save(teacher, preview)
    assert refused.status_code == 409
    assert "There is already a text at /texts/carr-rapprochement" in error_shown(refused)
    carr = fresh(session).scalar(select(Text).where(Text.slug == SLUG))
    assert carr.title == importer.parse_file(seed_words, str(SEED)).title
    assert len(carr.revisions) == 1

    response = save(teacher, refused, slug="my-carr")
    assert response.headers["Location"] == "/texts/my-carr"
    assert stored_paragraphs(session, "my-carr") == [("body", "Replaced.")]


@pytest.mark.parametrize(
    ("slug", "message"), [("new", "a name the site uses"), ("!!!", "no letters or digits")]
)
def test_a_url_name_that_cannot_be_one_is_refused(teacher, session, slug, message):
    preview = upload(teacher, PLAIN, slug=slug)
    assert preview.status_code == 200
    assert message in error_shown(preview)
    response = save(teacher, preview, slug=slug)
    assert response.status_code in (409, 422)
    assert message in error_shown(response)
    assert fresh(session).scalar(select(Text.id).where(Text.slug == "new")) is None


# ---- every refusal of the importer, on the form ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "problem"),
    [
        ("empty.txt", b"", "empty.txt: the file is empty"),
        ("blank.txt", b"  \n\n \n", "the file is empty"),
        ("nul.txt", b"Title\n\n\x00 body", "binary (it contains NUL bytes)"),
        ("latin1.txt", "Title\n\nCaf\xe9".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        ("huge.txt", b"Title\n\n" + b"word " * 220_000, "the limit is 1,048,576 bytes"),
        ("title-only.txt", b"Only a title\n", "no paragraphs after the title"),
        ("heading-only.md", b"# Only a heading\n", "no paragraphs after the title"),
        ("no-title.md", b"Body without a heading.", "no title"),
        ("picture.pdf", b"%PDF-1.4", "unsupported file type .pdf; use .txt or .md"),
        ("long-title.txt", b"T" * 301 + b"\n\nBody.", "the title is 301 characters"),
        ("long-author.txt", b"T - " + b"A" * 201 + b"\n\nBody.", "the author is 201 characters"),
        ("many.txt", b"T\n\n" + b"\n\n".join(b"p" for _ in range(10_001)), "10,001 paragraphs"),
        ("???.txt", b"T\n\nBody.", "cannot make a URL name from the file name"),
    ],
)
def test_every_refusal_of_the_file_is_on_the_form_with_what_was_typed_kept(
    teacher, session, name, raw, problem
):
    before = texts(session)
    response = upload(teacher, raw, name, slug="" if name == "???.txt" else "kept-name")
    assert response.status_code == 422
    assert problem in error_shown(response)
    page = dom(response.get_data(as_text=True))
    assert text_of(page.h1) == "Add a text"
    assert page.select_one("#text-slug")["value"] == ("" if name == "???.txt" else "kept-name")
    assert texts(session) == before


@pytest.mark.parametrize(
    ("words", "form", "problem"),
    [
        ("   \n\n  ", "txt", "Choose a file, or paste the text."),
        ("Only a title", "txt", "The pasted text: no paragraphs after the title."),
        ("Body without a heading.", "md", "The pasted text: no title"),
        ("???\n\nBody.", "txt", "The title has no letters or digits"),
    ],
)
def test_every_refusal_of_pasted_text_is_on_the_form_with_the_text_kept(
    teacher, words, form, problem
):
    response = paste(teacher, words, form)
    assert problem in error_shown(response)
    page = dom(response.get_data(as_text=True))
    if response.status_code == 422:
        assert page.select_one("#text-words").get_text() == words
        assert page.select_one(f"input[name=format][value={form}]").has_attr("checked")


def test_a_file_and_pasted_text_at_once_are_refused(teacher, session):
    response = upload(teacher, PLAIN, text="Also pasted\n\nWords.")
    assert response.status_code == 422
    assert "Choose a file or paste the text, not both." in error_shown(response)


def test_no_csrf_token_no_text(teacher, session):
    preview = upload(teacher, PLAIN)
    fields = save_form(preview)
    del fields["csrf_token"]
    response = post_form(teacher, fields)
    assert response.status_code == 400
    assert texts(session) == 1


# ---- odd bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "title", "bodies"),
    [
        (b"\xef\xbb\xbfBOM title\r\n\r\nOne.\r\n\r\nTwo.", "BOM title", ["One.", "Two."]),
        (b"Old Mac\r\rOne.\r\rTwo.", "Old Mac", ["One.", "Two."]),
        (b"Long\n\n" + b"word " * 200_000, "Long", [("word " * 200_000).strip()]),
        (b"# A" + b" " * 500_000 + b"b\n\nBody.", "A b", ["Body."]),
        ("Ünïcödé – “quotes”\n\n\u200bZero-width and \U0001f600.".encode(), None, None),
    ],
    ids=["bom-crlf", "cr", "huge-line", "huge-heading", "unicode"],
)
def test_odd_bytes_preview_and_save_as_the_importer_reads_them(
    teacher, session, raw, title, bodies
):
    name = "odd.md" if raw.startswith(b"# ") else "odd.txt"
    preview = upload(teacher, raw, name)
    assert preview.status_code == 200
    parsed = importer.parse_file(raw, name)
    assert title is None or parsed.title == title
    assert bodies is None or [b for _, b in parsed.paragraphs] == bodies
    assert save(teacher, preview).status_code == 302
    assert stored_paragraphs(session, "odd") == [(r.value, b) for r, b in parsed.paragraphs]


def test_ten_thousand_paragraphs_preview_and_save(teacher, session):
    raw = b"Many\n\n" + b"\n\n".join(b"Paragraph %d." % n for n in range(1, 10_001))
    preview = upload(teacher, raw, "many.txt")
    assert preview.status_code == 200
    assert len(dom(preview.get_data(as_text=True)).select("ol.text-preview > li")) == 10_000
    assert save(teacher, preview).status_code == 302
    assert stored_paragraphs(session, "many")[-1] == ("body", "Paragraph 10000.")


def test_a_file_of_megabytes_is_refused_on_the_form_unread(teacher, session):
    response = upload(teacher, b"Big\n\n" + b"word " * 1_000_000, "big.txt")
    assert response.status_code == 413
    page = dom(response.get_data(as_text=True))
    assert text_of(page.h1) == "Add a text"
    assert "at most 1 MB" in error_shown(response)
    assert texts(session) == 1


def test_a_pasted_text_past_flasks_form_field_limit_is_read(teacher):
    words = "Big paste\n\n" + "\n\n".join("A sentence of words. " * 50 for _ in range(700))
    assert len(words.encode()) > 500_000
    response = paste(teacher, words)
    assert response.status_code == 200
    assert len(shown_paragraphs(response)) == 700


def test_a_nul_in_pasted_text_is_a_clear_refusal(teacher, session):
    response = paste(teacher, "Title\n\nA \x00 here.")
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert texts(session) == 1


# ---- limits ----------------------------------------------------------------------------------


def test_an_account_adds_so_many_texts_a_day(app, teacher, session):
    app.config["TEXTS_PER_DAY"] = 2
    for n in (1, 2):
        assert save(teacher, upload(teacher, PLAIN, f"text-{n}.txt")).status_code == 302
    response = save(teacher, upload(teacher, PLAIN, "text-3.txt"))
    assert response.status_code == 429
    assert "You have added 2 texts in a day" in error_shown(response)
    assert int(response.headers["Retry-After"]) > 0
    assert texts(session) == 3  # the seed and two


def test_previews_are_limited_per_minute(teacher):
    for _ in range(adding.PREVIEWS_PER_MINUTE):
        assert paste(teacher, "T\n\nBody.").status_code == 200
    response = paste(teacher, "T\n\nBody.")
    assert response.status_code == 429
    assert "Too many previews" in error_shown(response)
    assert dom(response.get_data(as_text=True)).select_one("#text-words").get_text() == "T\n\nBody."


# ---- search ------------------------------------------------------------------------------------


def test_a_new_texts_paragraphs_are_found_at_once(teacher):
    assert dom(teacher.html("/search?q=zygomorphic")).select(".search-hit") == []
    save(teacher, upload(teacher, PLAIN))
    results = dom(teacher.html("/search?q=zygomorphic")).select(".search-hit")
    assert len(results) == 1
    assert "The Week's Text, ¶2" in text_of(results[0])


# ---- editing the title, author and citation ----------------------------------------------


def _edit(browser, slug: str, **fields):
    return browser.post(
        f"/texts/{slug}/edit", **{"title": "", "author": "", "citation": "", **fields}
    )


def test_who_edits_a_texts_details(app, session, teacher):
    save(teacher, upload(teacher, PLAIN))
    ann = sign_in(app, session, "Ann Student")
    groups.join(session, viewer_for(session, ann.user), teacher.group.invite_code)
    session.commit()
    co = sign_in(app, session, "Carl Coteacher")
    groups.join(session, viewer_for(session, co.user), teacher.group.invite_code)
    groups.set_role(
        session, viewer_for(session, teacher.user), teacher.group.id, co.user.id, Role.INSTRUCTOR
    )
    groups.add_reading(session, viewer_for(session, teacher.user), teacher.group.id, "weeks-text")
    session.commit()
    admin = sign_in(app, session, "Sam Admin", is_admin=True)

    assert teacher.get("/texts/weeks-text/edit").status_code == 200
    assert admin.get("/texts/weeks-text/edit").status_code == 200
    for refused in (ann, co):  # a member, and an instructor of a group reading it
        response = refused.get("/texts/weeks-text/edit")
        assert response.status_code == 403
        assert "Only the account that added this text" in response.get_data(as_text=True)
        assert _edit(refused, "weeks-text", title="Mine now").status_code == 403
    # The seed came from the command line: nobody added it, only administrators edit it.
    assert teacher.get(f"{PAGE}/edit").status_code == 403
    assert admin.get(f"{PAGE}/edit").status_code == 200
    assert teacher.get("/texts/nothing-here/edit").status_code == 404
    assert fresh(session).scalar(select(Text.title).where(Text.slug == "weeks-text")) == (
        "The Week's Text"
    )
    # The links: on the library and the reading page, for those who may.
    assert dom(teacher.html("/")).find("a", href="/texts/weeks-text/edit") is not None
    assert dom(teacher.html("/")).find("a", href=f"{PAGE}/edit") is None
    assert dom(co.html("/texts/weeks-text")).find("a", href="/texts/weeks-text/edit") is None
    assert dom(admin.html(PAGE)).find("a", href=f"{PAGE}/edit") is not None


def test_editing_details_shows_at_once_everywhere_and_makes_no_revision(app, session, teacher):
    save(teacher, upload(teacher, PLAIN))
    text = fresh(session).scalar(select(Text).where(Text.slug == "weeks-text"))
    note = factories.make_annotation(session, teacher.user, text, "zygomorphic", body="Odd word.")
    revision_id, start = text.current_revision_id, note.start
    anonymous = app.test_client()
    assert text_of(dom(teacher.html("/texts/weeks-text")).h1) == "The Week's Text"  # cached now
    assert text_of(dom(anonymous.get("/texts/weeks-text").get_data(as_text=True)).h1) == (
        "The Week's Text"
    )

    response = _edit(
        teacher,
        "weeks-text",
        title="  A Better\nTitle ",
        author="B. Writer",
        citation="Press, 2002",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/texts/weeks-text"
    page = dom(teacher.html("/texts/weeks-text"))
    assert text_of(page.h1) == "A Better Title"
    assert text_of(page.select_one(".byline")) == "by B. Writer"
    assert "A Better Title" in text_of(
        dom(anonymous.get("/texts/weeks-text").get_data(as_text=True)).h1
    )
    assert "A Better Title" in text_of(dom(teacher.html("/texts/weeks-text/print")).h1)
    assert "A Better Title" in text_of(dom(teacher.html("/")).main)
    assert "A Better Title, ¶2" in text_of(dom(teacher.html("/search?q=zygomorphic")).main)
    api = teacher.get("/api/v1/texts/weeks-text").get_json()
    assert (api["title"], api["author"], api["citation"]) == (
        "A Better Title",
        "B. Writer",
        "Press, 2002",
    )

    text = fresh(session).scalar(select(Text).where(Text.slug == "weeks-text"))
    assert text.current_revision_id == revision_id and len(text.revisions) == 1
    assert session.scalar(select(func.count(TextRevision.id))) == 2  # the seed's and this one
    assert fresh(session).get(type(note), note.id).start == start


def test_a_citation_without_a_paragraph_of_its_own_is_on_the_reading_page(teacher, session):
    save(teacher, paste(teacher, "---\ncitation: Press, 1990\n---\n# Cited\n\nOne.", "md"))
    footer = dom(teacher.html("/texts/cited")).select_one("footer.citation")
    assert text_of(footer) == "Citation Press, 1990"
    _edit(teacher, "cited", title="Cited", citation="Other Press, 1991")
    footer = dom(teacher.html("/texts/cited")).select_one("footer.citation")
    assert text_of(footer) == "Citation Other Press, 1991"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the text a title."),
        ({"title": "T" * 301}, "title", "The title is 301 characters; the limit is 300."),
        ({"title": "T", "author": "A" * 201}, "author", "The author is 201 characters"),
        ({"title": "T", "citation": "C" * 2001}, "citation", "The citation is 2,001 characters"),
    ],
)
def test_edit_refusals_come_back_on_the_form_with_what_was_typed(
    teacher, session, fields, field, message
):
    save(teacher, upload(teacher, PLAIN))
    response = _edit(teacher, "weeks-text", **{"author": "Typed author", **fields})
    assert response.status_code == 422
    page = dom(response.get_data(as_text=True))
    error_id = {"title": "text-title-field", "author": "text-author", "citation": "text-citation"}
    assert message in text_of(page.select_one(f"#{error_id[field]}-error"))
    assert page.select_one("#text-author")["value"] == fields.get("author", "Typed author")
    assert fresh(session).scalar(select(Text.title).where(Text.slug == "weeks-text")) == (
        "The Week's Text"
    )


def test_editing_needs_the_csrf_token(teacher, session):
    save(teacher, upload(teacher, PLAIN))
    response = teacher.client.post("/texts/weeks-text/edit", data={"title": "No token"})
    assert response.status_code == 400
    assert fresh(session).scalar(select(Text.title).where(Text.slug == "weeks-text")) == (
        "The Week's Text"
    )
