"""The library and reading pages as an anonymous visitor sees them."""

from __future__ import annotations

import re

from app.assets import content_version
from tests import factories
from tests.conftest import SEED
from tests.factories import dom, recorded_queries, text_of

TITLE = "Rapprochement; how the Bolsheviks came to love capitalists"


def _page(client, path: str = "/texts/carr-rapprochement"):
    return dom(client.get(path).get_data(as_text=True))


def _paragraph_texts(page) -> list[str]:
    return [p.get_text() for p in page.select("p.para")]


def _addresses(page) -> list[str]:
    """Every address the page names in an attribute (src, href, data-src, ...), in page order."""
    return [
        value
        for element in page.find_all(True)  # <template>s' content included
        for name, value in element.attrs.items()
        if name.endswith(("src", "href"))
    ]


def test_library_lists_texts_with_author_and_paragraph_count(client, seeded):
    page = _page(client, "/")
    assert "EH Carr" in text_of(page)
    assert "10 paragraphs" in text_of(page)
    links = page.select('a[href="/texts/carr-rapprochement"]')
    assert TITLE in [text_of(a) for a in links]


def test_empty_library_says_how_to_load_texts(client):
    html = client.get("/").get_data(as_text=True)
    assert "The library is empty" in html


def test_reading_page_shows_every_paragraph_word_for_word(client, seeded):
    response = client.get("/texts/carr-rapprochement")
    assert response.status_code == 200
    page = dom(response.get_data(as_text=True))
    source = SEED.read_text(encoding="utf-8")
    blocks = [" ".join(b.split()) for b in source.split("\n\n") if b.strip()]
    # Everything but the title line appears, in order, as a paragraph.
    assert _paragraph_texts(page) == blocks[1:]


def test_reading_page_numbers_paragraphs_with_anchors_and_permalinks(client, seeded):
    page = _page(client)
    for n in range(1, 11):
        row = page.select_one(f"div.para-row#p{n}")
        assert row is not None, n
        (permalink,) = row.select(f'a[href="/texts/carr-rapprochement#p{n}"]')
        assert permalink.find(string=True, recursive=False) == f"¶{n}"


def test_front_matter_excerpt_and_citation_are_separate_sections(client, seeded):
    page = _page(client)
    sections = page.select("section.front-matter, section.excerpt, footer.citation")
    assert [s["class"] for s in sections] == [["front-matter"], ["excerpt"], ["citation"]]
    front, excerpt, citation = sections
    assert "In this short excerpt Carr describes" in text_of(front)
    assert "The strengthening of party and Soviet organization" in text_of(excerpt)
    assert "Source; E.H. Carr" in text_of(citation)
    assert len(page.select("div.para-row.role-body")) == 6


def test_unknown_text_is_a_404_page(client):
    response = client.get("/texts/no-such-text")
    assert response.status_code == 404
    assert "There is no text at this address." in response.get_data(as_text=True)


def test_every_response_carries_security_headers(client, seeded):
    for path in ("/", "/texts/carr-rapprochement", "/auth/login", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://scholia.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_load_no_assets_from_other_origins(client, seeded):
    for path in ("/", "/texts/carr-rapprochement", "/auth/login", "/auth/register"):
        addresses = _addresses(_page(client, path))
        assert addresses, path
        for url in addresses:
            assert not re.match(r"^(https?:)?//", url), f"{path} loads {url}"


def test_reading_page_query_count_is_constant(engine, client, seeded):
    with recorded_queries(engine) as statements:
        client.get("/texts/carr-rapprochement")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The page's stamp (text, cursor, inbox, assignments), the text, its revision and its
    # paragraphs, its parts' versions, the lens's notes and their tags, deleted notes kept for
    # their answers, and who wrote them (the "By" filter): a fixed number, whatever the text
    # holds (see test_reading_page_scale.py).
    assert len(selects) <= 9, selects


# ---- static files: one versioned URL each, kept by the browser ----

JS_IMPORT = re.compile(r'(?:from |import ?\(?)"(\./[^"]+)"')


def test_static_files_are_under_one_versioned_prefix_and_kept_a_year(client, seeded):
    urls = [url for url in _addresses(_page(client)) if url.startswith("/static/")]
    prefixes = {url.split("/")[2] for url in urls}
    assert len(prefixes) == 1 and re.fullmatch(r"[0-9a-f]{12}", next(iter(prefixes)))
    names = {url.split("/", 3)[3] for url in urls}
    assert {"css/main.css", "js/reading.js", "fonts/literata-latin-wght-normal.woff2"} <= names
    # Every script the page runs, down its import chain, resolves within the same version.
    queue, seen = [u for u in urls if u.endswith(".js")], set()
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.cache_control.max_age == 365 * 24 * 3600
            source = response.get_data(as_text=True)
        folder = url.rsplit("/", 1)[0]
        queue += [f"{folder}/{name[2:]}" for name in JS_IMPORT.findall(source)]
    assert len(seen) >= 5  # reading.js and the modules it imports
    with client.get(next(u for u in urls if u.endswith("main.css"))) as css:
        assert css.cache_control.max_age == 365 * 24 * 3600
        assert 'url("../fonts/literata-latin-wght-normal.woff2")' in css.get_data(as_text=True)


def test_a_static_file_under_no_or_another_version_is_not_found(client):
    # Not served as the current file: a browser would keep it a year under the wrong name.
    assert client.get("/static/js/reading.js").status_code == 404
    assert client.get("/static/000000000000/js/reading.js").status_code == 404


def test_the_version_changes_with_any_file(tmp_path):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "a.js"
    script.write_text("one")
    first = content_version(tmp_path)
    assert content_version(tmp_path) == first  # the same files, the same version
    script.write_text("two")
    changed = content_version(tmp_path)
    (tmp_path / "b.css").write_text("")
    added = content_version(tmp_path)
    assert len({first, changed, added}) == 3


def test_signing_in_or_registering_from_a_text_comes_back_to_it(app, client, seeded):
    # A visitor's extra parameters reach no later visitor of the cached page: the path only.
    _page(client, "/texts/carr-rapprochement?lens=public&junk=%22x")
    page = _page(app.test_client(), "/texts/carr-rapprochement?lens=public")
    header = page.select_one("header")
    sign_in = header.find("a", string="Sign in")["href"]
    register = header.find("a", string="Register")["href"]
    assert sign_in == "/auth/login?next=/texts/carr-rapprochement"
    assert register == "/auth/register?next=/texts/carr-rapprochement"
    assert "junk" not in str(header)
    # On the sign-in page itself the link does not point back at the sign-in page.
    assert _page(client, "/auth/login").find("a", string="Register")["href"] == "/auth/register"


def test_the_selection_hint_waits_for_the_script_that_makes_it_true(app, session, seeded):
    ben = factories.seminar_of_four(app, session)[2]
    hint = dom(ben.html("/texts/carr-rapprochement")).select_one(".annotate-help")
    assert hint is not None and hint.has_attr("hidden")  # without JavaScript selecting does nothing
