"""W3C Web Annotation JSON-LD read into the services' neutral forms (as ``h/schemas``).

Scholia's own fields travel as extension properties in the ``scholia:`` namespace, documented at
``/api/v1/ns``: ``scholia:color`` (highlight colour name), ``scholia:visibility`` and
``scholia:group`` (who may read it); the presenters add ``scholia:orphan``,
``scholia:paragraph`` and the others on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app import edge
from app.models import HighlightColor, Motivation, Visibility
from app.services.annotations import Changes, Draft, SpanTarget
from app.services.errors import Invalid, Malformed, NotFound

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"


TEXT_PATH = re.compile(r"^/texts/(?P<slug>[a-z0-9-]+)/?$")


ANNOTATION_PATH = re.compile(r"^/api/v1/annotations/(?P<id>[0-9]+)/?$")


COLOR_KEY = "scholia:color"


VISIBILITY_KEY = "scholia:visibility"


GROUP_KEY = "scholia:group"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def slug_from_source(source: Any) -> str:
    if not isinstance(source, str):
        raise Malformed("target.source must be the URL of a text, like https://host/texts/<slug>.")
    match = TEXT_PATH.match(urlsplit(source).path)
    if not match:
        raise Malformed(f"target.source {source!r} is not the URL of a text (/texts/<slug>).")
    return match["slug"]


def parse_bodies(bodies: Any) -> tuple[str, list[str]]:
    """The commenting text and the tags carried in ``body``."""
    text_parts: list[str] = []
    tags: list[str] = []
    for body in _as_list(bodies):
        if not isinstance(body, dict):
            raise Malformed(
                'Each body must be an object like {"type": "TextualBody", "value": "…"}.'
            )
        if body.get("type", "TextualBody") != "TextualBody":
            raise Malformed(f"Body type {body.get('type')!r} is not supported; use TextualBody.")
        value = body.get("value", "")
        if not isinstance(value, str):
            raise Malformed("A body's value must be a string.")
        purpose = body.get("purpose", "commenting")
        if purpose == "tagging":
            tags.append(value)
        elif purpose in ("commenting", "describing", "replying", "questioning"):
            text_parts.append(value)
        else:
            raise Malformed(
                f"Body purpose {purpose!r} is not supported; use commenting or tagging."
            )
    if len(text_parts) > 1:
        raise Malformed("Send at most one commenting body.")
    return (text_parts[0] if text_parts else ""), tags


def parse_color(value: Any) -> HighlightColor | None:
    if value is None:
        return None
    try:
        return HighlightColor(value)
    except ValueError:
        names = ", ".join(c.value for c in HighlightColor)
        raise Invalid(f"{COLOR_KEY} must be one of: {names}.") from None


def parse_motivation(value: Any) -> Motivation | None:
    if value is None:
        return None
    try:
        return Motivation(value)
    except ValueError:
        raise Invalid("motivation must be 'highlighting' or 'commenting'.") from None


def parse_target(target: Any) -> tuple[str, SpanTarget | None]:
    if isinstance(target, str):
        return slug_from_source(target), None
    if isinstance(target, list):
        if len(target) != 1:
            raise Malformed("An annotation has exactly one target.")
        target = target[0]
    if not isinstance(target, dict):
        raise Malformed("target must be an object with a source (and selectors for a span).")
    slug = slug_from_source(target.get("source"))
    quote: dict = {}
    position: dict = {}
    for selector in _as_list(target.get("selector")):
        if not isinstance(selector, dict):
            raise Malformed("Each selector must be an object.")
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
        raise Malformed("TextQuoteSelector.exact must be a string.")
    for key in ("prefix", "suffix"):
        if not isinstance(quote.get(key, ""), str):
            raise Malformed(f"TextQuoteSelector.{key} must be a string.")
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
        raise Invalid(f"{VISIBILITY_KEY} must be private, group or public.") from None
    group = payload.get(GROUP_KEY)
    if group is not None and (not isinstance(group, int) or isinstance(group, bool)):
        raise Malformed(f"{GROUP_KEY} must be a group's number.")
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
                raise NotFound("There is no such annotation to reply to.")
            return annotation_id
    return None


def parse_reply(payload: dict) -> str:
    """A reply's words; its motivation, if given, is W3C's ``replying``."""
    if payload.get("motivation", Motivation.REPLYING.value) != Motivation.REPLYING.value:
        raise Invalid("A reply's motivation is 'replying'.")
    body, _ = parse_bodies(payload.get("body"))
    return body


def parse_new(payload: Any) -> Draft:
    if not isinstance(payload, dict):
        raise Malformed("Send a JSON object (Content-Type: application/json).")
    if payload.get("type", "Annotation") != "Annotation":
        raise Malformed("type must be 'Annotation'.")
    if "target" not in payload:
        raise Malformed("An annotation needs a target.")
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
        raise Malformed("Send a JSON object (Content-Type: application/json).")
    changes = Changes(motivation=parse_motivation(payload.get("motivation")))
    if replace or "body" in payload:
        changes.body, changes.tags = parse_bodies(payload.get("body"))
    if COLOR_KEY in payload or replace:
        changes.color = parse_color(payload.get(COLOR_KEY))
        changes.clear_color = changes.color is None
    return changes


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
        raise Malformed(f"{name} must be a whole number ({meaning}), not {raw[:40]!r}.")
    # Beyond any real page anyway; keeps huge numbers cheap and inside SQL's integers.
    return int(raw) if len(raw) <= 9 else 10**9


def parse_paging(args: Mapping[str, str]) -> Paging:
    """``?page=N`` (from 0) and ``?limit=N`` (items per page, at most MAX_PAGE_SIZE)."""
    page = _whole_number(args, "page", "0 is the first page")
    limit = _whole_number(args, "limit", f"items per page, 1 to {MAX_PAGE_SIZE}")
    if limit == 0:
        raise Malformed(f"limit must be at least 1 (items per page, 1 to {MAX_PAGE_SIZE}).")
    return Paging(page, PAGE_SIZE if limit is None else min(limit, MAX_PAGE_SIZE))
