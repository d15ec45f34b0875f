"""Note bodies (Markdown, or plain text or HTML from an API client): rendered once on save,
then cleaned with an allow-list.

Raw HTML in the source is not rendered (markdown-it's ``html`` option is off), and nh3 removes
anything that is not on the list below from what markdown-it produced: no scripts, event
handlers, styles or images (an image would make the reader's browser fetch another origin), and
only http, https and mailto links.
"""

from __future__ import annotations

from html import escape

import nh3
from markdown_it import MarkdownIt

# Images are off: `![alt](url)` stays a plain link, so no note makes a browser fetch another origin.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("strikethrough")
    .disable("image")
)

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Built once: nh3.clean converts the allow-lists on every call, which cost a short note's render
# as much as the Markdown itself.
_clean = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel="nofollow noopener noreferrer ugc",
    strip_comments=True,
).clean


def render(source: str) -> str:
    """Safe HTML for a Markdown note body."""
    html = _markdown.render(source)
    # Headings 1–2 would outrank the page's own; they become level 3.
    html = html.replace("<h1>", "<h3>").replace("</h1>", "</h3>")
    html = html.replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    return _clean(html).strip()


MARKDOWN, PLAIN, HTML = "text/markdown", "text/plain", "text/html"
BODY_FORMATS = (MARKDOWN, PLAIN, HTML)


def render_body(source: str, body_format: str = MARKDOWN) -> str:
    """Safe HTML for a body in one of BODY_FORMATS: plain text shows as it is (paragraphs at
    blank lines), HTML keeps only what Markdown could have made."""
    if not source.strip():
        return ""
    if body_format == PLAIN:
        paragraphs = (part.strip() for part in source.replace("\r\n", "\n").split("\n\n"))
        return "\n".join(
            "<p>" + escape(part).replace("\n", "<br>\n") + "</p>" for part in paragraphs if part
        )
    if body_format == HTML:
        return _clean(source).strip()
    return render(source)
