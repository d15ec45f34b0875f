"""The library and reading pages as an anonymous visitor sees them."""

from __future__ import annotations

import re
from html import unescape

from tests.conftest import SEED, recorded_queries

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
    assert len(selects) <= 6, selects
