"""Translation between W3C Web Annotation JSON-LD and the service layer's neutral forms.

Scholia's own fields travel as extension properties in the ``scholia:`` namespace, documented at
``/api/v1/ns``: ``scholia:color`` (highlight colour name), ``scholia:visibility``,
``scholia:orphan`` (true when the annotated words are no longer in the text) and
``scholia:paragraph`` (the number of the paragraph where the annotation starts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app, request, url_for

from app import edge
from app.models import Annotation, HighlightColor, Motivation, Visibility
from app.models.text import ParagraphSpan, paragraph_at
from app.services.annotations import AnnotationError, Changes, Draft, SpanTarget

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
TEXT_PATH = re.compile(r"^/texts/(?P<slug>[a-z0-9-]+)/?$")
ANNOTATION_PATH = re.compile(r"^/api/v1/annotations/(?P<id>[0-9]+)/?$")
COLOR_KEY = "scholia:color"
VISIBILITY_KEY = "scholia:visibility"
GROUP_KEY = "scholia:group"


def _fail(message: str, status: int = 400):
    raise AnnotationError(message, status)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def slug_from_source(source: Any) -> str:
    if not isinstance(source, str):
        _fail("target.source must be the URL of a text, like https://host/texts/<slug>.")
    match = TEXT_PATH.match(urlsplit(source).path)
    if not match:
        _fail(f"target.source {source!r} is not the URL of a text (/texts/<slug>).")
    return match["slug"]


def parse_bodies(bodies: Any) -> tuple[str, list[str]]:
    """The commenting text and the tags carried in ``body``."""
    text_parts: list[str] = []
    tags: list[str] = []
    for body in _as_list(bodies):
        if not isinstance(body, dict):
            _fail('Each body must be an object like {"type": "TextualBody", "value": "…"}.')
        if body.get("type", "TextualBody") != "TextualBody":
            _fail(f"Body type {body.get('type')!r} is not supported; use TextualBody.")
        value = body.get("value", "")
        if not isinstance(value, str):
            _fail("A body's value must be a string.")
        purpose = body.get("purpose", "commenting")
        if purpose == "tagging":
            tags.append(value)
        elif purpose in ("commenting", "describing", "replying", "questioning"):
            text_parts.append(value)
        else:
            _fail(f"Body purpose {purpose!r} is not supported; use commenting or tagging.")
    if len(text_parts) > 1:
        _fail("Send at most one commenting body.")
    return (text_parts[0] if text_parts else ""), tags


def parse_color(value: Any) -> HighlightColor | None:
    if value is None:
        return None
    try:
        return HighlightColor(value)
    except ValueError:
        names = ", ".join(c.value for c in HighlightColor)
        _fail(f"{COLOR_KEY} must be one of: {names}.", 422)


def parse_motivation(value: Any) -> Motivation | None:
    if value is None:
        return None
    try:
        return Motivation(value)
    except ValueError:
        _fail("motivation must be 'highlighting' or 'commenting'.", 422)


def parse_target(target: Any) -> tuple[str, SpanTarget | None]:
    if isinstance(target, str):
        return slug_from_source(target), None
    if isinstance(target, list):
        if len(target) != 1:
            _fail("An annotation has exactly one target.")
        target = target[0]
    if not isinstance(target, dict):
        _fail("target must be an object with a source (and selectors for a span).")
    slug = slug_from_source(target.get("source"))
    quote: dict = {}
    position: dict = {}
    for selector in _as_list(target.get("selector")):
        if not isinstance(selector, dict):
            _fail("Each selector must be an object.")
        kind = selector.get("type")
        if kind == "TextQuoteSelector":
            quote = selector
        elif kind == "TextPositionSelector":
            position = selector
        # Other selector types (XPath, CSS, Range) describe other documents' DOMs: ignored.
    if not quote and not position:
        return slug, None
    exact = quote.get("exact") if quote else None
    if quote and not isinstance(exact, str):
        _fail("TextQuoteSelector.exact must be a string.")
    for key in ("prefix", "suffix"):
        if not isinstance(quote.get(key, ""), str):
            _fail(f"TextQuoteSelector.{key} must be a string.")
    return slug, SpanTarget(
        exact=exact,
        prefix=quote.get("prefix", ""),
        suffix=quote.get("suffix", ""),
        start=position.get("start") if position else None,
        end=position.get("end") if position else None,
    )


def parse_audience(payload: dict) -> tuple[Visibility, int | None]:
    raw = payload.get(VISIBILITY_KEY, "private")
    try:
        visibility = Visibility(raw)
    except ValueError:
        _fail(f"{VISIBILITY_KEY} must be private, group or public.", 422)
    group = payload.get(GROUP_KEY)
    if group is not None and (not isinstance(group, int) or isinstance(group, bool)):
        _fail(f"{GROUP_KEY} must be a group's number.")
    return visibility, group


def reply_target(payload: Any) -> int | None:
    """The id of the annotation a reply answers (its target is that annotation's IRI), if any."""
    if not isinstance(payload, dict):
        return None
    target = payload.get("target")
    if isinstance(target, dict):
        target = target.get("id") or target.get("source")
    if isinstance(target, str):
        match = ANNOTATION_PATH.match(urlsplit(target).path)
        if match:
            annotation_id = edge.number(match["id"])
            if annotation_id is None:  # past any id there is
                _fail("There is no such annotation to reply to.", 404)
            return annotation_id
    return None


def parse_reply(payload: dict) -> str:
    """A reply's words; its motivation, if given, is W3C's ``replying``."""
    if payload.get("motivation", Motivation.REPLYING.value) != Motivation.REPLYING.value:
        _fail("A reply's motivation is 'replying'.", 422)
    body, _ = parse_bodies(payload.get("body"))
    return body


def parse_new(payload: Any) -> Draft:
    if not isinstance(payload, dict):
        _fail("Send a JSON object (Content-Type: application/json).")
    if payload.get("type", "Annotation") != "Annotation":
        _fail("type must be 'Annotation'.")
    if "target" not in payload:
        _fail("An annotation needs a target.")
    visibility, group_id = parse_audience(payload)
    slug, span = parse_target(payload["target"])
    body, tags = parse_bodies(payload.get("body"))
    motivation = parse_motivation(payload.get("motivation"))
    if motivation is None:
        motivation = Motivation.COMMENTING if body.strip() else Motivation.HIGHLIGHTING
    return Draft(
        text_slug=slug,
        motivation=motivation,
        body=body,
        tags=tags,
        color=parse_color(payload.get(COLOR_KEY)),
        target=span,
        visibility=visibility,
        group_id=group_id,
    )


def parse_changes(payload: Any, replace: bool) -> Changes:
    """PATCH changes what is sent; PUT replaces body, tags and colour wholesale."""
    if not isinstance(payload, dict):
        _fail("Send a JSON object (Content-Type: application/json).")
    changes = Changes(motivation=parse_motivation(payload.get("motivation")))
    if replace or "body" in payload:
        changes.body, changes.tags = parse_bodies(payload.get("body"))
    if COLOR_KEY in payload or replace:
        changes.color = parse_color(payload.get(COLOR_KEY))
        changes.clear_color = changes.color is None
    return changes


MAX_URL_ROOTS = 32


class Urls:
    """The absolute URLs that annotations name, built once per request.

    ``url_for`` is slow next to string formatting, and a page of annotations names several
    URLs per item. Everything here depends only on the request's root URL
    (``request.url_root``: scheme, host and script root) and the routes.
    """

    def __init__(self) -> None:
        # The collection's URL; an annotation's IRI is this + "/<id>" (its route, api.annotation).
        self.annotations = url_for("api.annotation_list", _external=True)
        self.context = [ANNO_CONTEXT, {"scholia": url_for("api.namespace", _external=True) + "#"}]
        self._texts: dict[str, str] = {}

    @classmethod
    def of_request(cls) -> Urls:
        """The request's ``Urls``, made once per worker and root URL rather than per request.

        What ``url_for`` answers depends on the app's routes and on the request's scheme, host
        and script root, all of them in the WSGI environ (after ProxyFix has rewritten it):
        the key. The host is the client's to choose, so the table is bounded.
        """
        environ = request.environ
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME"),
        )
        table = current_app.extensions.setdefault("scholia.urls", {})
        urls = table.get(key)
        if urls is None:
            if len(table) >= MAX_URL_ROOTS:
                table.clear()
            urls = table[key] = cls()
        return urls

    def annotation(self, annotation_id: int) -> str:
        return f"{self.annotations}/{annotation_id}"

    def text(self, slug: str) -> str:
        url = self._texts.get(slug)
        if url is None:
            url = self._texts[slug] = url_for("library.read", slug=slug, _external=True)
        return url


def _target(annotation: Annotation, urls: Urls) -> Any:
    if annotation.is_reply:  # W3C: a reply's target is the annotation it answers
        return urls.annotation(annotation.parent_id)
    target: dict[str, Any] = {"source": urls.text(annotation.text.slug)}
    if annotation.exact is not None:
        selectors: list[dict] = [
            {
                "type": "TextQuoteSelector",
                "exact": annotation.exact,
                "prefix": annotation.prefix,
                "suffix": annotation.suffix,
            }
        ]
        if annotation.start is not None:
            selectors.append(
                {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end}
            )
        target["selector"] = selectors
    return target


def serialise(
    annotation: Annotation,
    spans: list[ParagraphSpan] | None = None,
    readable: bool = True,
    urls: Urls | None = None,
    context: bool = True,
) -> dict:
    """The annotation as W3C JSON-LD; ``spans`` (the text's paragraphs) add scholia:paragraph.

    ``readable`` is False for a hidden annotation the caller may not read: its words stay out.
    ``urls`` are the request's, made once for many items; ``context=False`` leaves out the
    ``@context`` of an item inside a collection or page, which carries it once for them all.
    """
    urls = urls or Urls()
    bodies = []
    if annotation.body_source and readable:
        bodies.append(
            {
                "type": "TextualBody",
                "purpose": "commenting",
                "format": "text/markdown",
                "value": annotation.body_source,
            }
        )
    for tag in annotation.tag_names if readable else []:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": tag})
    data: dict[str, Any] = {
        "id": urls.annotation(annotation.id),
        "type": "Annotation",
        "motivation": annotation.motivation.value,
        "created": annotation.created_at.isoformat(),
        "modified": annotation.updated_at.isoformat(),
        "creator": {"type": "Person", "name": annotation.user.display_name},
        "body": bodies,
        "target": _target(annotation, urls),
        VISIBILITY_KEY: annotation.visibility.value,
        "scholia:orphan": annotation.is_orphan,
    }
    if annotation.group_id is not None:
        data[GROUP_KEY] = annotation.group_id
    if annotation.is_reply:
        data["scholia:root"] = urls.annotation(annotation.root_id)
    if annotation.is_hidden:
        data["scholia:hidden"] = True
    if annotation.is_discussion:
        data["scholia:discussion"] = True
    if annotation.color is not None:
        data[COLOR_KEY] = annotation.color.value
    if spans is not None and annotation.start is not None:
        data["scholia:paragraph"] = paragraph_at(spans, annotation.start).paragraph.number
    return {"@context": urls.context, **data} if context else data


# ---- paged collections (W3C Web Annotation Protocol, section 4) ------------------------------

PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Paging:
    """What a listing asked for: one page (None: the collection itself) of ``limit`` items."""

    page: int | None = None
    limit: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page or 0) * self.limit


def _whole_number(args: Mapping[str, str], name: str, meaning: str) -> int | None:
    raw = args.get(name) or None  # "?page=" counts as not given
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        _fail(f"{name} must be a whole number ({meaning}), not {raw[:40]!r}.")
    # Beyond any real page anyway; keeps huge numbers cheap and inside SQL's integers.
    return int(raw) if len(raw) <= 9 else 10**9


def parse_paging(args: Mapping[str, str]) -> Paging:
    """``?page=N`` (from 0) and ``?limit=N`` (items per page, at most MAX_PAGE_SIZE)."""
    page = _whole_number(args, "page", "0 is the first page")
    limit = _whole_number(args, "limit", f"items per page, 1 to {MAX_PAGE_SIZE}")
    if limit == 0:
        _fail(f"limit must be at least 1 (items per page, 1 to {MAX_PAGE_SIZE}).")
    return Paging(page, PAGE_SIZE if limit is None else min(limit, MAX_PAGE_SIZE))


def listing(urls: Urls, slug: str, paging: Paging, total: int, items: list[dict]) -> dict:
    """The AnnotationCollection of a text (with its first page's items), or one AnnotationPage.

    The collection keeps ``items`` at its top level, as before paging: clients that read only
    ``items`` get the first page, and ``total``, ``first``, ``next`` and ``last`` say how to
    read on. ``?page=N`` answers a plain W3C AnnotationPage with ``partOf``, ``startIndex``,
    ``prev`` and ``next``.
    """
    collection = f"{urls.annotations}?text={quote(slug)}"
    if paging.limit != PAGE_SIZE:
        collection += f"&limit={paging.limit}"
    last = max(0, -(-total // paging.limit) - 1)
    page = paging.page or 0
    if page > last:
        _fail(f"There is no page {page}: pages run from 0 to {last} ({total} annotations).", 404)

    def page_url(number: int) -> str:
        return f"{collection}&page={number}"

    data: dict[str, Any] = {"@context": urls.context}
    if paging.page is None:
        data.update(
            id=collection,
            type="AnnotationCollection",
            total=total,
            first=page_url(0),
            last=page_url(last),
            startIndex=0,
        )
    else:
        data.update(
            id=page_url(page),
            type="AnnotationPage",
            partOf={"id": collection, "total": total},
            startIndex=paging.offset,
        )
        if page > 0:
            data["prev"] = page_url(page - 1)
    if page < last:
        data["next"] = page_url(page + 1)
    data["items"] = items
    return data
