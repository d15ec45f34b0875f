"""W3C Web Annotation JSON-LD read into the services' neutral forms (as ``h/schemas``).

Scholia's own fields travel as extension properties in the ``scholia:`` namespace, documented at
``/api/v1/ns``: ``scholia:color`` (highlight colour name), ``scholia:visibility`` and
``scholia:group`` (who may read it); the presenters add ``scholia:orphan``,
``scholia:paragraph`` and the others on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from app import edge
from app.models import HighlightColor, Motivation, Visibility
from app.models.annotation import MAX_IRI_CHARS
from app.services import markdown
from app.services.annotations import BodyForm, Changes, Draft, SpanTarget
from app.services.errors import Invalid, Malformed, NotFound

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"


TEXT_PATH = re.compile(r"^/texts/(?P<slug>[a-z0-9-]+)/?$")


# An annotation's IRI: in its text's container, or the shorter path the page's scripts use.
ANNOTATION_PATH = re.compile(r"^/api/v1/(?:texts/[a-z0-9-]+/)?annotations/(?P<id>[0-9]+)/?$")


COLOR_KEY = "scholia:color"


VISIBILITY_KEY = "scholia:visibility"


GROUP_KEY = "scholia:group"


def _as_list(value: Any) -> list:
    """A property the model allows as one value or an array (``type``, ``body``, ``selector``)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def slug_from_source(source: Any, host: str | None = None) -> str:
    """The slug of the text of this site that ``source`` names (a string or ``{"id": …}``).

    An absolute IRI must be on ``host`` (the request's own): a text elsewhere is not this one.
    """
    if isinstance(source, dict):
        source = source.get("id")
    if not isinstance(source, str):
        raise Malformed("target.source must be the URL of a text, like https://host/texts/<slug>.")
    try:
        parts = urlsplit(source)
    except ValueError:  # e.g. an unclosed IPv6 host
        raise Malformed(f"target.source {source[:200]!r} is not a URL.") from None
    if host is not None and parts.netloc and parts.netloc.lower() != host.lower():
        raise Invalid(
            f"target.source {source[:200]!r} is on another site: annotate a text of this one "
            f"({host}/texts/<slug>)."
        )
    match = TEXT_PATH.match(parts.path)
    if not match:
        raise Malformed(f"target.source {source[:200]!r} is not the URL of a text (/texts/<slug>).")
    return match["slug"]


def parse_bodies(bodies: Any, default_purpose: str = "commenting") -> tuple[str, list[str]]:
    """The commenting text and the tags carried in ``body``; several commenting bodies are
    joined in order, a blank line between them. A body without ``purpose`` takes the
    annotation's motivation (model §3.3.5): under ``tagging`` it is a tag."""
    text_parts: list[str] = []
    tags: list[str] = []
    for body in _as_list(bodies):
        if isinstance(body, str):  # an IRI body names something else: not one Scholia keeps
            raise Malformed("A body given as an IRI is not supported; use a TextualBody.")
        if not isinstance(body, dict):
            raise Malformed(
                'Each body must be an object like {"type": "TextualBody", "value": "…"}.'
            )
        if "TextualBody" not in _as_list(body.get("type", "TextualBody")):
            raise Malformed(f"Body type {body.get('type')!r} is not supported; use TextualBody.")
        value = body.get("value", "")
        if not isinstance(value, str):
            raise Malformed("A body's value must be a string.")
        purposes = _as_list(body.get("purpose", default_purpose))
        if not all(isinstance(purpose, str) for purpose in purposes):
            raise Malformed('A body\'s purpose is a name, like "commenting", or an array of them.')
        if "tagging" in purposes:
            tags.append(value)
        elif "editing" in purposes:
            continue  # a suggestion's replacement: parse_replacement
        elif set(purposes) & WORD_PURPOSES:
            text_parts.append(value)
        else:
            raise Malformed(
                f"Body purpose {body.get('purpose')!r} is not supported; use commenting or tagging."
            )
    return "\n\n".join(part for part in text_parts if part.strip()), tags


WORD_PURPOSES = {"commenting", "describing", "replying", "questioning", "bookmarking"}
# BCP 47, as far as its shape goes: a language, then subtags (en, en-GB, zh-Hant-TW, de-1996).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,6}")


def parse_body_form(payload: dict) -> BodyForm:
    """The media type and language of the words (model §3.2.4): Markdown unless a body says
    ``text/plain`` or ``text/html``; ``bodyValue`` is plain text (model §3.2.5). Joined bodies
    must agree."""
    if "bodyValue" in payload:
        return BodyForm(markdown.PLAIN)
    forms = set()
    for body in _as_list(payload.get("body")):
        if isinstance(body, dict) and (
            set(_as_list(body.get("purpose", "commenting"))) & WORD_PURPOSES
        ):
            forms.add((_body_format(body.get("format")), _body_language(body.get("language"))))
    if len(forms) > 1:
        raise Invalid(
            "The commenting bodies have different formats or languages, so they cannot be "
            "kept as one note: send them as one body, or as separate annotations."
        )
    return BodyForm(*forms.pop()) if forms else BodyForm()


def _body_format(value: Any) -> str:
    if value is None:
        return markdown.MARKDOWN
    kind = value.split(";")[0].strip().lower() if isinstance(value, str) else None
    if kind not in markdown.BODY_FORMATS:
        raise Invalid(
            f"A body's format {str(value)[:60]!r} is not one Scholia keeps: send "
            + ", ".join(markdown.BODY_FORMATS)
            + "."
        )
    return kind


def _body_language(value: Any) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and LANGUAGE_TAG.fullmatch(value)):
        raise Invalid(f"A body's language {str(value)[:60]!r} is not a BCP 47 tag such as 'en'.")
    return value


def parse_color(value: Any) -> HighlightColor | None:
    if value is None:
        return None
    try:
        return HighlightColor(value)
    except ValueError:
        names = ", ".join(c.value for c in HighlightColor)
        raise Invalid(f"{COLOR_KEY} must be one of: {names}.") from None


# W3C motivations Scholia keeps as one of its own: a bookmark is a highlight (or a note, if it
# has words), a tagging annotation one whose bodies are tags; the kind follows the words.
MAPPED_MOTIVATIONS = {"bookmarking", "tagging"}


def parse_motivation(value: Any) -> tuple[Motivation | None, str | None]:
    """The stored motivation (None: decided by the words) and the W3C one that was sent."""
    if value is None:
        return None, None
    values = _as_list(value)
    for name in values:
        if not isinstance(name, str):
            break
        try:
            return Motivation(name), name
        except ValueError:
            if name in MAPPED_MOTIVATIONS:
                return None, name
    raise Invalid(
        "motivation must be one of highlighting, commenting, questioning, editing, tagging, "
        "bookmarking (or replying, for a reply)."
    ) from None


MAX_REFINEMENTS = 4


RFC5147 = "http://tools.ietf.org/rfc/rfc5147"


CHAR_FRAGMENT = re.compile(r"^char=(?P<start>[0-9]{0,9}),(?P<end>[0-9]{1,9})(;.*)?$")


def _char_fragment(value: Any, where: str) -> SpanTarget:
    """RFC 5147's ``char=S,E`` (S may be left out: from the start) as a position."""
    match = CHAR_FRAGMENT.match(value) if isinstance(value, str) else None
    if not match:
        raise Invalid(
            f"{where} {str(value)[:80]!r} is not an RFC 5147 character range "
            "(char=START,END) this server can anchor."
        )
    return SpanTarget(start=int(match["start"] or 0), end=int(match["end"]))


def _selector_span(selectors: Any, depth: int = 0) -> SpanTarget | None:
    """The span the selectors describe (alternatives of one span, model §4.2): the quote and the
    position together, else an RFC 5147 fragment; each may be refined (``refinedBy``)."""
    if depth > MAX_REFINEMENTS:
        raise Invalid(f"Selectors may be refined at most {MAX_REFINEMENTS} times.")
    quote: dict = {}
    position: dict = {}
    fragment: dict = {}
    unusable: list[str] = []
    for selector in _as_list(selectors):
        if not isinstance(selector, dict):
            raise Malformed("Each selector must be an object.")
        kind = selector.get("type")
        if kind == "TextQuoteSelector":
            quote = selector
        elif kind == "TextPositionSelector":
            position = selector
        elif kind == "FragmentSelector" and selector.get("conformsTo") == RFC5147:
            fragment = selector
        else:
            unusable.append(str(kind)[:60])
    if not (quote or position or fragment):
        if unusable:
            raise Invalid(
                f"Cannot anchor a {', '.join(unusable)} on a text here: send a "
                "TextQuoteSelector, a TextPositionSelector or an RFC 5147 FragmentSelector."
            )
        return None
    if quote or position:
        exact = quote.get("exact") if quote else None
        if quote and not isinstance(exact, str):
            raise Malformed("TextQuoteSelector.exact must be a string.")
        for key in ("prefix", "suffix"):
            if not isinstance(quote.get(key, ""), str):
                raise Malformed(f"TextQuoteSelector.{key} must be a string.")
        span = SpanTarget(
            exact=exact,
            prefix=quote.get("prefix", ""),
            suffix=quote.get("suffix", ""),
            start=position.get("start") if position else None,
            end=position.get("end") if position else None,
        )
        refined = [s.get("refinedBy") for s in (quote, position) if s and s.get("refinedBy")]
    else:
        span = _char_fragment(fragment.get("value"), "FragmentSelector value")
        refined = [fragment["refinedBy"]] if fragment.get("refinedBy") else []
    if refined:
        return replace(span, refined_by=_selector_span(refined[0], depth + 1))
    return span


def parse_target(target: Any, host: str | None = None) -> tuple[str, SpanTarget | None]:
    """The text a target names and the span on it (None: the whole text)."""
    source, span = source_and_span(target)
    return slug_from_source(source, host), span


def source_and_span(target: Any) -> tuple[Any, SpanTarget | None]:
    """The source a target names (as sent, without its fragment) and the span on it (None: the
    whole text). An import reads the span alone: its file names the texts of another site."""
    if isinstance(target, list):
        if len(target) != 1:
            raise Malformed("An annotation has exactly one target.")
        target = target[0]
    if isinstance(target, dict) and "source" not in target and isinstance(target.get("id"), str):
        target = target["id"]  # the resource itself, as an object (model §3.2.1)
    if isinstance(target, str):  # an IRI, perhaps with a char= fragment
        iri, _, fragment = target.partition("#")
        return iri, (_char_fragment(fragment, "The target's fragment") if fragment else None)
    if not isinstance(target, dict):
        raise Malformed("target must be an object with a source (and selectors for a span).")
    source = target.get("source")
    iri, _, fragment = source.partition("#") if isinstance(source, str) else (source, "", "")
    span = _selector_span(target.get("selector"))
    if span is None and fragment:
        span = _char_fragment(fragment, "The source's fragment")
    return iri, span


IRI_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
SCRIPT_SCHEMES = {"javascript", "vbscript", "data"}


def parse_iri(payload: dict, key: str) -> str | None:
    """An IRI property kept as given (``id`` sent by a client, ``canonical``, ``via``)."""
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Malformed(f"{key} must be an IRI (a string).")
    if len(value) > MAX_IRI_CHARS:
        raise Malformed(f"{key} may have at most {MAX_IRI_CHARS:,} characters.")
    scheme = IRI_SCHEME.match(value)
    if scheme is None or any(c.isspace() for c in value):
        raise Malformed(f"{key} must be an absolute IRI (scheme:…, no spaces), not {value[:80]!r}.")
    if scheme[1].lower() in SCRIPT_SCHEMES:
        raise Malformed(f"{key} may not be a {scheme[1].lower()}: IRI (a link would run code).")
    return value


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
        try:
            match = ANNOTATION_PATH.match(urlsplit(target).path)
        except ValueError:  # no URL at all: parse_target says so
            return None
        if match:
            annotation_id = edge.number(match["id"])
            if annotation_id is None:  # past any id there is
                raise NotFound("There is no such annotation to reply to.")
            return annotation_id
    return None


def parse_reply(payload: dict) -> str:
    """A reply's words; its motivation, if given, is W3C's ``replying``."""
    motivation, _ = parse_motivation(payload.get("motivation", Motivation.REPLYING.value))
    if motivation is not Motivation.REPLYING:
        raise Invalid("A reply's motivation is 'replying'.")
    body, _ = parse_bodies(_bodies(payload))
    return body


def _bodies(payload: dict) -> Any:
    """``body``, or ``bodyValue`` (model §3.2.5: the shorthand for one plain TextualBody)."""
    if "bodyValue" not in payload:
        return payload.get("body")
    if payload.get("body"):
        raise Malformed("Send body or bodyValue, not both.")
    value = payload["bodyValue"]
    if not isinstance(value, str):
        raise Malformed("bodyValue must be a string.")
    return {"type": "TextualBody", "value": value}


def _words(payload: dict, sent: str | None) -> tuple[str, list[str]]:
    return parse_bodies(_bodies(payload), "tagging" if sent == "tagging" else "commenting")


def _editing_values(payload: dict) -> list:
    return [
        body.get("value")
        for body in _as_list(payload.get("body"))
        if isinstance(body, dict) and "editing" in _as_list(body.get("purpose"))
    ]


def parse_replacement(payload: dict) -> str:
    """A suggested correction's words: its one body with purpose ``editing`` (plain text)."""
    found = _editing_values(payload)
    if len(found) != 1 or not isinstance(found[0], str):
        raise Invalid(
            "A suggested correction (motivation 'editing') needs one TextualBody with purpose "
            "'editing' whose value is the words to put in place of those it targets ('' "
            "deletes them)."
        )
    return found[0]


def _check_type(payload: dict) -> None:
    if "Annotation" not in _as_list(payload.get("type", "Annotation")):
        raise Malformed("type must be 'Annotation' (or an array holding it).")


def parse_new(payload: Any, host: str | None = None) -> Draft:
    if not isinstance(payload, dict):
        raise Malformed("Send a JSON object (Content-Type: application/json).")
    _check_type(payload)
    if "target" not in payload:
        raise Malformed("An annotation needs a target.")
    visibility, group_id = parse_audience(payload)
    slug, span = parse_target(payload["target"], host)
    motivation, sent = parse_motivation(payload.get("motivation"))
    body, tags = _words(payload, sent)
    if motivation is None:
        motivation = Motivation.COMMENTING if body.strip() else Motivation.HIGHLIGHTING
    return Draft(
        replacement=parse_replacement(payload) if motivation is Motivation.EDITING else None,
        text_slug=slug,
        motivation=motivation,
        body=body,
        tags=tags,
        color=parse_color(payload.get(COLOR_KEY)),
        target=span,
        visibility=visibility,
        group_id=group_id,
        # The model (§3.3.2): a server that gives the annotation its own IRI keeps the client's
        # in ``via``; ``canonical`` is kept as the client gave it.
        via=parse_iri(payload, "id"),
        canonical=parse_iri(payload, "canonical"),
        form=parse_body_form(payload),
    )


def parse_changes(payload: Any, replace: bool, host: str | None = None) -> Changes:
    """PATCH changes what is sent; PUT replaces body, tags and colour wholesale. A ``target``
    sent must be the annotation's own (checked by ``annotations.edit``)."""
    if not isinstance(payload, dict):
        raise Malformed("Send a JSON object (Content-Type: application/json).")
    if "type" in payload:
        _check_type(payload)
    motivation, sent = parse_motivation(payload.get("motivation"))
    changes = Changes(motivation=motivation)
    if replace or "body" in payload or "bodyValue" in payload:
        changes.body, changes.tags = _words(payload, sent)
        changes.form = parse_body_form(payload)
        if _editing_values(payload):  # a suggestion's words, sent back: checked by the edit
            changes.replacement = parse_replacement(payload)
        if motivation is None and sent is not None:  # bookmarking, tagging: kind by the words
            changes.motivation = (
                Motivation.COMMENTING if changes.body.strip() else Motivation.HIGHLIGHTING
            )
    changes.via, changes.canonical = parse_iri(payload, "via"), parse_iri(payload, "canonical")
    if "target" in payload:
        changes.parent_id = reply_target(payload)  # a reply's target is the note it answers
        if changes.parent_id is None:
            changes.target = parse_target(payload["target"], host)
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


def parse_flag(args: Mapping[str, str], name: str) -> bool:
    """``?name=1`` (or ``0``, or not given)."""
    raw = args.get(name) or "0"
    if raw not in ("0", "1"):
        raise Malformed(f"{name} must be 0 or 1, not {raw[:40]!r}.")
    return raw == "1"
