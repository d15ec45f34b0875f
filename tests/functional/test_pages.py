"""The library and reading pages as an anonymous visitor sees them."""

from __future__ import annotations

import re
from html import unescape

from app.assets import content_version
from tests.conftest import SEED
from tests.factories import recorded_queries

TITLE = "Rapprochement; how the Bolsheviks came to love capitalists"


def _paragraph_texts(html: str) -> list[str]:
    return [unescape(p) for p in re.findall(r'<p class="para"[^>]*>(.*?)</p>', html, re.DOTALL)]


def test_library_lists_texts_with_author_and_paragraph_count(client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert TITLE in unescape(html)
    assert "EH Carr" in html
    assert "10 paragraphs" in html
    assert 'href="/texts/carr-rapprochement"' in html


def test_empty_library_says_how_to_load_texts(client):
    html = client.get("/").get_data(as_text=True)
    assert "The library is empty" in html


def test_reading_page_shows_every_paragraph_word_for_word(client, seeded):
    response = client.get("/texts/carr-rapprochement")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    source = SEED.read_text(encoding="utf-8")
    blocks = [" ".join(b.split()) for b in source.split("\n\n") if b.strip()]
    # Everything but the title line appears, in order, as a paragraph.
    assert _paragraph_texts(html) == blocks[1:]


def test_reading_page_numbers_paragraphs_with_anchors_and_permalinks(client, seeded):
    html = client.get("/texts/carr-rapprochement").get_data(as_text=True)
    for n in range(1, 11):
        assert f'id="p{n}"' in html
        assert f'href="/texts/carr-rapprochement#p{n}"' in html
        assert f"¶{n}<" in html


def test_front_matter_excerpt_and_citation_are_separate_sections(client, seeded):
    html = client.get("/texts/carr-rapprochement").get_data(as_text=True)
    front = html.index('class="front-matter"')
    excerpt = html.index('class="excerpt"')
    citation = html.index('class="citation"')
    assert front < excerpt < citation
    assert "In this short excerpt Carr describes" in html[front:excerpt]
    assert "The strengthening of party and Soviet organization" in html[excerpt:citation]
    assert "Source; E.H. Carr" in html[citation:]
    assert html.count('class="para-row role-body"') == 6


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
        html = client.get(path).get_data(as_text=True)
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", url), f"{path} loads {url}"


def test_reading_page_query_count_is_constant(engine, client, seeded):
    with recorded_queries(engine) as statements:
        client.get("/texts/carr-rapprochement")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The page's stamp (text, cursor, inbox, assignments), the text, its revision and its
    # paragraphs, the lens's notes and their tags, and deleted notes kept for their answers: a
    # fixed number, whatever the text holds (see test_reading_page_scale.py).
    assert len(selects) <= 7, selects


# ---- static files: one versioned URL each, kept by the browser ----

JS_IMPORT = re.compile(r'(?:from |import ?\(?)"(\./[^"]+)"')


def test_static_files_are_under_one_versioned_prefix_and_kept_a_year(client, seeded):
    html = client.get("/texts/carr-rapprochement").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
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
