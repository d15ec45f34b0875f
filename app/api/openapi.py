"""The API's contract: an OpenAPI 3.1 document of every operation under /api/v1, as data.

Served at ``GET /api/v1/openapi.json`` (with an ETag); kept true by tests that check real
responses against it (tests/functional/test_openapi.py) and by schemathesis fuzzing every
operation with it (tests/functional/test_api_fuzz.py). An operation added to the API is added
here too: the tests fail on a route or a status this document does not describe.

Request schemas (JSON Schema 2020-12) say what the server accepts, from ``app.api.schemas``;
response schemas what it answers, from ``app.api.presenters``. Each operation's HEAD and
OPTIONS, which Flask answers for every route, are made from its GET and its methods below.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import Response, request

from app.api import bp
from app.api.protocol import ANNO_MEDIA_TYPE, JSON, LD_JSON, PREFER_IRIS, PREFER_MINIMAL
from app.api.schemas import (
    ANNO_CONTEXT,
    COLOR_KEY,
    GROUP_KEY,
    LANGUAGE_TAG,
    MAX_PAGE_SIZE,
    RFC5147,
    SCRIPT_SCHEMES,
    VISIBILITY_KEY,
)
from app.cached import digest
from app.errors import PROBLEM_JSON
from app.models import HighlightColor, Motivation, ReactionKind, Visibility
from app.models.annotation import MAX_IRI_CHARS
from app.services import search
from app.services.annotations.writing import MAX_IDEMPOTENCY_KEY
from app.services.markdown import BODY_FORMATS

# ---- schemas (components/schemas) ----


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _one_or_many(schema: dict, at_least: int = 1) -> dict:
    """A property the W3C model allows as one value or an array of them."""
    return {"oneOf": [schema, {"type": "array", "items": schema, "minItems": at_least}]}


def _one_or_many_containing(name: str) -> dict:
    """``type``: the name, or an array holding it among others."""
    return {"oneOf": [{"const": name}, {"type": "array", "contains": {"const": name}}]}


W3C_MOTIVATIONS = [*(m.value for m in Motivation), "tagging", "bookmarking"]
PURPOSES = [
    "commenting",
    "describing",
    "replying",
    "questioning",
    "bookmarking",
    "tagging",
    "editing",
]
TEXT_IRI = r"^(https?://[^/\s\x00-\x1f]+)?/texts/[a-z0-9-]+/?(#char=[0-9]{0,9},[0-9]{1,9})?$"
ANNOTATION_IRI = (
    r"^(https?://[^/\s\x00-\x1f]+)?/api/v1/(texts/[a-z0-9-]+/)?annotations/[1-9][0-9]{0,8}/?$"
)
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
# Free text a client sends: no control character but tab, CR and LF (``app.edge`` refuses them,
# in values and in keys, with a 400).
TEXT = {"type": "string", "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"}


# An IRI a client gives (``schemas.parse_iri``): absolute, without spaces, of no scheme that runs.
_CASELESS = "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in sorted(SCRIPT_SCHEMES))
CLIENT_IRI = {
    "type": "string",
    "maxLength": MAX_IRI_CHARS,
    "pattern": f"^(?!(?:{_CASELESS}):)[A-Za-z][A-Za-z0-9+.-]*:[^\\s\\x00-\\x1f]*$",
}
URI = {"type": "string", "format": "uri"}


# What a client's JSON may hold anywhere: keys and strings are TEXT. Properties the server does
# not read (an annotation's created, creator, …, as it was served) are such values too.
JSON_VALUE = {
    "anyOf": [
        TEXT,
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": _ref("JsonValue")},
        {"type": "object", "propertyNames": TEXT, "additionalProperties": _ref("JsonValue")},
    ]
}
INPUT = {"propertyNames": TEXT, "additionalProperties": _ref("JsonValue")}

# An annotation has words in ``body`` or in ``bodyValue``, not both.
BOTH_BODIES = {"required": ["body", "bodyValue"]}

# The properties of an annotation the server reads; others (created, creator, …) are ignored.
ANNOTATION_INPUT = {
    "@context": {},
    "id": {**CLIENT_IRI, "description": "A client's own IRI for it: kept in `via`."},
    "via": {**CLIENT_IRI, "description": "Where it came from."},
    "canonical": {**CLIENT_IRI, "description": "Its IRI wherever it is copied."},
    "type": _one_or_many_containing("Annotation"),
    "motivation": _one_or_many({"enum": W3C_MOTIVATIONS}),
    "body": _one_or_many(_ref("TextualBodyInput"), at_least=0),  # []: no words
    "bodyValue": TEXT,
    "target": _ref("TargetInput"),
    VISIBILITY_KEY: {"enum": [v.value for v in Visibility]},
    GROUP_KEY: {**ID, "type": ["integer", "null"]},
    COLOR_KEY: {"enum": [*(c.value for c in HighlightColor), None], "description": "null: none"},
}

SCHEMAS: dict[str, Any] = {
    "JsonValue": JSON_VALUE,
    "Problem": {
        "description": "RFC 9457 problem details; `type` is an entry of /api/v1/problems.",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
        },
    },
    # What the server answers.
    "TextualBody": {
        "description": "A note's words (purpose commenting, format text/markdown) or a tag "
        "(purpose tagging).",
        "type": "object",
        "required": ["type", "purpose", "value"],
        "properties": {
            "type": {"const": "TextualBody"},
            "purpose": {"type": "string", "examples": ["commenting", "tagging"]},
            "format": {"enum": list(BODY_FORMATS)},
            "language": {"type": "string"},
            "value": {"type": "string"},
        },
    },
    "TextQuoteSelector": {
        "type": "object",
        **INPUT,
        "required": ["type", "exact"],
        "properties": {
            "type": {"const": "TextQuoteSelector"},
            "exact": TEXT,
            "prefix": TEXT,
            "suffix": TEXT,
            "refinedBy": _ref("SelectorInput"),
        },
    },
    "TextPositionSelector": {
        "type": "object",
        **INPUT,
        "required": ["type", "start", "end"],
        "properties": {
            "type": {"const": "TextPositionSelector"},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
            "refinedBy": _ref("SelectorInput"),
        },
    },
    "Annotation": {
        "description": "A W3C Web Annotation; Scholia's own properties are explained at "
        "/api/v1/ns. A reply's target is the IRI of the annotation it answers.",
        "type": "object",
        "required": [
            "id",
            "type",
            "motivation",
            "created",
            "modified",
            "creator",
            "target",
            VISIBILITY_KEY,
            "scholia:orphan",
        ],
        "properties": {
            "@context": {"type": "array", "prefixItems": [{"const": ANNO_CONTEXT}]},
            "id": {"type": "string", "format": "uri"},
            "type": {"const": "Annotation"},
            "motivation": {"enum": W3C_MOTIVATIONS},
            "created": {"type": "string", "format": "date-time", "pattern": "Z$"},
            "modified": {"type": "string", "format": "date-time", "pattern": "Z$"},
            "creator": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {"type": {"const": "Person"}, "name": {"type": "string"}},
            },
            "body": {"type": "array", "minItems": 1, "items": _ref("TextualBody")},
            "target": {
                "oneOf": [
                    {"type": "string", "format": "uri"},
                    {
                        "type": "object",
                        "required": ["source"],
                        "properties": {
                            "source": {"type": "string", "format": "uri"},
                            "selector": {
                                "description": "The words (TextQuoteSelector) and where they "
                                "are (TextPositionSelector).",
                                "type": "array",
                                "items": _ref("SelectorInput"),
                                "minItems": 1,
                            },
                        },
                    },
                ]
            },
            VISIBILITY_KEY: {"enum": [v.value for v in Visibility]},
            GROUP_KEY: ID,
            COLOR_KEY: {"enum": [c.value for c in HighlightColor]},
            "scholia:orphan": {"type": "boolean"},
            "scholia:root": {"type": "string", "format": "uri"},
            "scholia:hidden": {"const": True},
            "scholia:discussion": {"const": True},
            "scholia:suggestion": {
                "enum": ["open", "accepted", "declined"],
                "description": "A suggested correction (motivation editing): what became of it. "
                "Its body with purpose editing holds the words it would put in place; a PATCH "
                "or PUT may send it back as served, never other words (409).",
            },
            "scholia:paragraph": {"type": "integer", "minimum": 1},
            "via": {"type": "string"},
            "canonical": {"type": "string"},
        },
    },
    "AnnotationContainer": {
        "description": "A text's annotations (W3C protocol §4): an LDP BasicContainer and "
        "AnnotationCollection, with its first page inside, or that page's IRI for a minimal "
        "container (Prefer: …PreferMinimalContainer).",
        "type": "object",
        "required": ["@context", "id", "type", "label", "total", "first", "last"],
        "properties": {
            "@context": {"type": "array"},
            "id": URI,
            "type": {"const": ["BasicContainer", "AnnotationCollection"]},
            "label": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "first": {"oneOf": [URI, _ref("ContainedPage")]},
            "last": URI,
        },
    },
    "ContainedPage": {
        "description": "A page of a container: its annotations, or their IRIs only (?iris=1, "
        "or Prefer: …PreferContainedIRIs).",
        "type": "object",
        "required": ["id", "type", "partOf", "startIndex", "items"],
        "properties": {
            "id": URI,
            "type": {"const": "AnnotationPage"},
            "partOf": {
                "type": "object",
                "required": ["id", "total"],
                "properties": {"id": URI, "total": {"type": "integer", "minimum": 0}},
            },
            "startIndex": {"type": "integer", "minimum": 0},
            "prev": URI,
            "next": URI,
            "items": {"type": "array", "items": {"oneOf": [_ref("Annotation"), URI]}},
        },
    },
    "AnnotationPage": {
        "description": "One page of a container (?page=N), on its own.",
        "allOf": [_ref("ContainedPage")],
        "required": ["@context"],
        "properties": {"@context": {"type": "array"}},
    },
    # What the server accepts (app.api.schemas).
    "TextualBodyInput": {
        "description": "A TextualBody: words (commenting and its kin) or a tag (tagging). "
        "Without a purpose it takes the annotation's motivation.",
        "type": "object",
        **INPUT,
        "properties": {
            "type": _one_or_many_containing("TextualBody"),
            "value": TEXT,
            "purpose": _one_or_many({"enum": PURPOSES}),
            "format": {"enum": list(BODY_FORMATS), "description": "Markdown if not given."},
            "language": {"type": "string", "pattern": f"^{LANGUAGE_TAG.pattern}$"},
        },
    },
    "SelectorInput": {
        "description": "What can be anchored on a text: a TextQuoteSelector and a "
        "TextPositionSelector of the same words, or an RFC 5147 FragmentSelector; each may be "
        "refined (refinedBy, up to 4 deep). Other selectors are refused (422).",
        "oneOf": [
            _ref("TextQuoteSelector"),
            _ref("TextPositionSelector"),
            {
                "type": "object",
                **INPUT,
                "required": ["type", "conformsTo", "value"],
                "properties": {
                    "type": {"const": "FragmentSelector"},
                    "conformsTo": {"const": RFC5147},
                    "value": {"type": "string", "pattern": "^char=[0-9]{0,9},[0-9]{1,9}$"},
                    "refinedBy": _ref("SelectorInput"),
                },
            },
        ],
    },
    "TargetInput": {
        "description": "The text annotated (/texts/<slug> on this site, perhaps with a char= "
        "fragment) and the words on it; or, for a reply, the IRI of the annotation it answers.",
        "oneOf": [
            {"type": "string", "pattern": TEXT_IRI},
            {"type": "string", "pattern": ANNOTATION_IRI},
            {
                "type": "object",
                **INPUT,
                "required": ["source"],
                "properties": {
                    "source": {
                        "oneOf": [
                            {"type": "string", "pattern": TEXT_IRI},
                            {
                                "type": "object",
                                **INPUT,
                                "required": ["id"],
                                "properties": {"id": {"type": "string", "pattern": TEXT_IRI}},
                            },
                        ]
                    },
                    "selector": _one_or_many(
                        _ref("SelectorInput"), at_least=0
                    ),  # []: the whole text
                },
            },
        ],
    },
    "AnnotationInput": {
        "description": "A W3C annotation as this server takes it: a new annotation, or a reply "
        "(its target the IRI of an annotation). Scholia's properties are at /api/v1/ns.",
        "type": "object",
        **INPUT,
        "not": BOTH_BODIES,
        "required": ["target"],
        "properties": ANNOTATION_INPUT,
    },
    "AnnotationChanges": {
        "description": "PATCH: what changes; PUT: the annotation as it should be (body, tags "
        "and colour replaced wholesale; an annotation as it was served may be sent back). A "
        "changed target is re-anchored.",
        "type": "object",
        **INPUT,
        "not": BOTH_BODIES,
        "properties": ANNOTATION_INPUT,
    },
    "Text": {
        "type": "object",
        "required": ["id", "slug", "url", "title", "revision", "content", "paragraphs"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "author": {"type": ["string", "null"]},
            "citation": {"type": ["string", "null"]},
            "revision": {"type": "integer"},
            "content": {"type": "string"},
            "paragraphs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["number", "id", "role", "start", "end"],
                    "properties": {
                        "number": {"type": "integer"},
                        "id": {"type": "integer"},
                        "role": {"type": "string"},
                        "start": {"type": "integer", "minimum": 0},
                        "end": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
    "Glossary": {
        "description": "Names and what each means.",
        "type": "object",
        "additionalProperties": {"type": "string"},
    },
}

# ---- responses, parameters, headers ----

HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "A strong validator of this representation.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "The new annotation's IRI.", "schema": {"type": "string"}},
    "Content-Location": {
        "description": "Its own IRI (an annotation's, or a container's read at another address).",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": "Its LDP type (and the container's constraints).",
        "schema": {"type": "string"},
    },
    "Allow": {"description": "The methods this resource takes.", "schema": {"type": "string"}},
    "Vary": {"schema": {"type": "string"}},
    "Accept-Post": {"description": "What POST takes.", "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWW-Authenticate": {"schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true`: the Idempotency-Key was seen, and this is what it made then.",
        "schema": {"const": "true"},
    },
    "Preference-Applied": {
        "description": "The Prefer asked for was honoured.",
        "schema": {"const": "return=representation"},
    },
    "Content-Disposition": {
        "description": "A download, and the file's name (RFC 6266).",
        "schema": {"type": "string", "pattern": "^attachment; "},
    },
}
# Sent only on some answers of an operation (the others are always sent).
SOMETIMES = {"Idempotent-Replayed", "Preference-Applied"}

for _name, _header in HEADERS.items():
    _header["required"] = _name not in SOMETIMES


def _headers(*names: str, sometimes: tuple[str, ...] = ()) -> dict:
    """References to the headers ``names``; those of ``sometimes`` inline, not required."""
    headers = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    return headers | {name: {**HEADERS[name], "required": False} for name in sometimes}


def _problem(description: str, *headers: str) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = _headers(*headers)
    return response


PROBLEMS = {
    "400": _problem(
        "Malformed: the request is not in the shape asked for, or lacks its CSRF token."
    ),
    "401": _problem(
        "Nobody is signed in (no session, no token), or the Bearer token sent is not a live one "
        "(malformed, unknown, revoked, or its account disabled).",
        "WWW-Authenticate",
    ),
    "403": _problem("The caller may see this but not do this to it."),
    "404": _problem("No such thing, or one the caller may not know of."),
    "409": _problem("The request clashes with what is stored now."),
    "412": _problem("If-Match names an older version: nothing was changed."),
    "413": _problem("The request, or a field of it, is longer than the limit."),
    "415": _problem("The body is not JSON (application/ld+json or application/json)."),
    "422": _problem(
        "Well-formed, but it cannot be taken (e.g. a selector that cannot be anchored)."
    ),
    "429": _problem("Too many writes: wait for Retry-After seconds.", "Retry-After"),
    "503": _problem("The database cannot take writes now: nothing was saved.", "Retry-After"),
}
RESPONSES: dict[str, Any] = {f"Problem{status}": response for status, response in PROBLEMS.items()}


def _json(schema: dict, description: str, *headers: str, sometimes: tuple[str, ...] = ()) -> dict:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers or sometimes:
        response["headers"] = _headers(*headers, sometimes=sometimes)
    return response


def _annotated(
    schema: dict, description: str, *headers: str, sometimes: tuple[str, ...] = ()
) -> dict:
    """An annotation or container: W3C JSON-LD, or plain JSON to a client that asks for it."""
    response = _json(schema, description, *headers, sometimes=sometimes)
    response["content"] = {ANNO_MEDIA_TYPE: {"schema": schema}, JSON: {"schema": schema}}
    return response


ANNOTATION = _annotated(_ref("Annotation"), "The annotation.", "ETag", "Link", "Allow", "Vary")
NOT_MODIFIED = {
    "description": "Unchanged since the ETag given in If-None-Match.",
    "headers": _headers("ETag"),
}
NO_CONTENT = {"description": "Done."}

ANNOTATION_ID = {
    "name": "annotation_id",
    "in": "path",
    "required": True,
    "schema": ID,
    "description": "The annotation's number (the last part of its IRI).",
}
SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag read: the write is refused (412) if the annotation has moved on.",
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag held: 304 if it is still current.",
}

# Who may call: anyone may read what they may see (signed in or not); writes need a session
# (cookie, with its CSRF token in X-CSRFToken) or a personal access token.
READERS = [{}, {"cookieAuth": []}, {"bearerAuth": []}]
WRITERS = [{"cookieAuth": [], "csrfToken": []}, {"bearerAuth": []}]
# Reads of one's own (exports): signed in, either way.
SIGNED_IN = [{"cookieAuth": []}, {"bearerAuth": []}]


def _problems(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/Problem{s}"} for s in statuses}


WRITE_REFUSALS = (400, 401, 403, 404, 409, 413, 422, 429, 503)


def _body(
    schema: dict,
    example: dict | None = None,
    media_types: tuple[str, ...] = (JSON, ANNO_MEDIA_TYPE),
) -> dict:
    """A JSON request body (any other Content-Type: 415, added by ``_completed``)."""
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"required": True, "content": dict.fromkeys(media_types, media)}


NEW_NOTE = {
    "type": "Annotation",
    "motivation": "commenting",
    "bodyValue": "Compare the 1921 trade agreement.",
    "target": {
        "source": "/texts/carr-rapprochement",
        "selector": {"type": "TextQuoteSelector", "exact": "Litvinov in Copenhagen"},
    },
}


def _links_to_annotation(suffix: str = "", **parameters: str) -> dict:
    """From a create to what can be done to what it made (its number from its IRI, in
    Location); ``suffix`` and ``parameters`` name the operations on the nested path."""
    return {
        name + suffix: {
            "operationId": operation + suffix,
            "parameters": {
                "annotation_id": "$response.header.Location#regex:/annotations/([0-9]+)$",
                **parameters,
            },
            "description": description,
        }
        for name, operation, description in [
            ("GetAnnotation", "getAnnotation", "Read the annotation just made."),
            ("ReplaceAnnotation", "replaceAnnotation", "Replace it."),
            ("EditAnnotation", "editAnnotation", "Change part of it."),
            ("DeleteAnnotation", "deleteAnnotation", "Delete it."),
            ("ReactToAnnotation", "reactToAnnotation", "Agree with it, or question it."),
            ("FlagAnnotation", "flagAnnotation", "Ask its moderators to look at it."),
        ]
    }


def _one_field(name: str, schema: dict) -> dict:
    """A JSON object of one field (what the small writes take, ``api.annotations._json_field``)."""
    return {
        "type": "object",
        **INPUT,
        "required": [name],
        "properties": {name: schema},
    }


def _operation(op_id: str, summary: str, responses: dict, **extra) -> dict:
    return {"operationId": op_id, "summary": summary, "responses": responses, **extra}


def _write(op_id: str, summary: str, answers: dict, example: dict) -> dict:
    """A POST of one JSON field (``api.annotations._json_field``), of the type of ``example``'s
    value (a string: free text)."""
    ((name, value),) = example.items()
    schema = {"type": "boolean"} if isinstance(value, bool) else TEXT
    return _operation(
        op_id,
        summary,
        {**answers, **_problems(*WRITE_REFUSALS)},
        requestBody=_body(_one_field(name, schema), example),
        security=WRITERS,
    )


def _act(op_id: str, summary: str, status: str, answer: dict) -> dict:
    """A write without a body, done to an annotation."""
    return _operation(
        op_id, summary, {status: answer, **_problems(*WRITE_REFUSALS)}, security=WRITERS
    )


def _edit(op_id: str, summary: str) -> dict:
    """PUT or PATCH of an annotation (``api.annotations.annotation_update`` serves both)."""
    return _operation(
        op_id,
        summary,
        {"200": ANNOTATION, **_problems(*WRITE_REFUSALS, 412)},
        parameters=[IF_MATCH],
        requestBody=_body(_ref("AnnotationChanges")),
        security=WRITERS,
    )


def _glossary(op_id: str, summary: str, description: str) -> dict:
    """A read of names and what each means, the same for everyone."""
    return _operation(
        op_id, summary, {"200": _json(_ref("Glossary"), description)}, security=READERS
    )


def _query(name: str, schema: dict, description: str | None = None, **extra) -> dict:
    parameter = {"name": name, "in": "query", "schema": schema, **extra}
    if description:
        parameter["description"] = description
    return parameter


PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": 'return=representation; include="…": '
    f"{PREFER_MINIMAL} (the first page's IRI, not the page) and/or {PREFER_IRIS} (the "
    "annotations' IRIs, not the annotations).",
    "examples": {
        "minimal": {"value": f'return=representation; include="{PREFER_MINIMAL}"'},
        "iris": {"value": f'return=representation; include="{PREFER_IRIS}"'},
    },
}


def _container_read(op_id: str, summary: str, *parameters: dict) -> dict:
    """GET of a text's container (``api.annotations.container``), or of one page of it."""
    return _operation(
        op_id,
        summary,
        {
            "200": _annotated(
                {"oneOf": [_ref("AnnotationContainer"), _ref("AnnotationPage")]},
                "Without `page` the container with its first page; with it, that page.",
                "ETag",
                "Allow",
                "Vary",
                "Preference-Applied",
                # The container's LDP type and what it takes (not on a page); Content-Location:
                # its own IRI, when read at another address.
                sometimes=("Link", "Accept-Post", "Content-Location"),
            ),
            "304": NOT_MODIFIED,
            **_problems(400, 404),
        },
        parameters=[
            *parameters,
            _query("page", {"type": "integer", "minimum": 0}, "A page of it, from 0."),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
            _query("iris", {"enum": [0, 1]}, "1: the annotations' IRIs only."),
            PREFER,
            IF_NONE_MATCH,
        ],
        security=READERS,
    )


def _create(op_id: str, summary: str, links: dict) -> dict:
    """POST of a new annotation (``api.annotations.annotation_create``)."""
    return _operation(
        op_id,
        summary,
        {
            "201": {
                **_annotated(
                    _ref("Annotation"),
                    "Stored.",
                    "ETag",
                    "Location",
                    "Content-Location",
                    "Link",
                    "Allow",
                    "Vary",
                    "Idempotent-Replayed",
                ),
                "links": links,
            },
            **_problems(*WRITE_REFUSALS),
        },
        parameters=[
            {
                "name": "Idempotency-Key",
                "in": "header",
                "schema": {**TEXT, "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                "description": "Sent again with the same key, the request makes nothing new.",
            }
        ],
        requestBody=_body(_ref("AnnotationInput"), NEW_NOTE),
        security=WRITERS,
    )


def _annotation_paths(base: str, parameters: list, suffix: str = "") -> dict:
    """An annotation and what can be done to it, at ``base``/{annotation_id}: the same
    operations under /api/v1/annotations and inside a text's container (there, 404 for an
    annotation on another text). ``suffix`` tells their operationIds apart."""
    one = f"{base}/{{annotation_id}}"
    here = [*parameters, ANNOTATION_ID]
    restore = {"annotation_id": "$request.path.annotation_id"}
    restore |= {p["name"]: f"$request.path.{p['name']}" for p in parameters}
    kind = {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"enum": [k.value for k in ReactionKind]},
    }
    deleted_links = {
        "RestoreAnnotation": {
            "operationId": "restoreAnnotation" + suffix,
            "parameters": restore,
            "description": "Undo the delete.",
        }
    }
    return {
        one: {
            "parameters": here,
            "get": _operation(
                "getAnnotation" + suffix,
                "One annotation, if the caller may see it.",
                {"200": ANNOTATION, "304": NOT_MODIFIED, **_problems(404)},
                parameters=[IF_NONE_MATCH],
                security=READERS,
            ),
            "put": _edit(
                "replaceAnnotation" + suffix,
                "Replace body, tags, colour, motivation and target (history kept), or the "
                "audience.",
            ),
            "patch": _edit(
                "editAnnotation" + suffix,
                "Change what is sent of body, tags, colour, motivation, target or audience.",
            ),
            "delete": _operation(
                "deleteAnnotation" + suffix,
                "Delete it (its author), or remove it with its replies (a moderator); restorable.",
                {
                    "204": {**NO_CONTENT, "links": deleted_links},
                    **_problems(*WRITE_REFUSALS, 412),
                },
                parameters=[IF_MATCH],
                security=WRITERS,
            ),
        },
        f"{one}/restore": {
            "parameters": here,
            "post": _act("restoreAnnotation" + suffix, "Undo a delete.", "200", ANNOTATION),
        },
        f"{one}/reactions/{{kind}}": {
            "parameters": [*here, kind],
            "put": _act("reactToAnnotation" + suffix, "Add my reaction (once).", "204", NO_CONTENT),
            "delete": _act(
                "unreactToAnnotation" + suffix, "Take my reaction back.", "204", NO_CONTENT
            ),
        },
        f"{one}/flags": {
            "parameters": here,
            "post": _write(
                "flagAnnotation" + suffix,
                "Ask the annotation's moderators to look at it (409 while my earlier flag waits).",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["annotation", "reason", "created"],
                            "properties": {
                                "annotation": ID,
                                "reason": {"type": "string"},
                                "created": {"type": "string", "format": "date-time"},
                            },
                        },
                        "Flagged.",
                    )
                },
                {"reason": "Off topic."},
            ),
        },
        f"{one}/hidden": {
            "parameters": here,
            "post": _write(
                "hideAnnotation" + suffix,
                "Moderators: hide from members (true) or show again (false).",
                {"200": ANNOTATION},
                {"hidden": True},
            ),
        },
    }


CONTAINER = "/api/v1/texts/{slug}/annotations/"

SEARCH_HIT = {
    "type": "object",
    "required": ["kind", "id", "url", "text", "paragraph", "snippet", "author", "created"],
    "properties": {
        "kind": {"enum": list(search.KINDS)},
        "id": {"oneOf": [URI, {"type": "null"}], "description": "The annotation's IRI."},
        "url": {**URI, "description": "Where the reading page shows it."},
        "text": {
            "type": "object",
            "required": ["slug", "title"],
            "properties": {"slug": {"type": "string"}, "title": {"type": "string"}},
        },
        "paragraph": {"type": ["integer", "null"], "minimum": 1},
        "snippet": {"type": "string", "description": "HTML: the words found in <mark>."},
        "author": {"type": ["string", "null"]},
        "created": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    },
}


def _export(op_id: str, summary: str, media_type: str, schema: dict, **extra) -> dict:
    """A download (``api.exports``), for a signed-in reader."""
    return _operation(
        op_id,
        summary,
        {
            "200": {
                "description": "The file.",
                "headers": _headers("Content-Disposition"),
                "content": {media_type: {"schema": schema}},
            },
            **_problems(400, 401, 403, 404),
        },
        security=SIGNED_IN,
        **extra,
    )


EXPORTED = {
    "description": "A W3C AnnotationCollection of the API's annotations (each with "
    "`scholia:groupName` beside `scholia:group`).",
    "type": "object",
    "required": ["@context", "id", "type", "label", "generator", "generated", "items", "total"],
    "properties": {
        "@context": {"type": "array"},
        "id": URI,
        "type": {"const": "AnnotationCollection"},
        "label": {"type": "string"},
        "generator": {"type": "object"},
        "generated": {"type": "string", "format": "date-time"},
        "items": {"type": "array", "items": _ref("Annotation")},
        "total": {"type": "integer", "minimum": 0},
    },
}
NOTEBOOK_FILTERS = [
    _query("tag", TEXT, "Only the annotations with this tag."),
    _query("color", {"enum": [c.value for c in HighlightColor]}, "Only the highlights of it."),
]
GROUP_ID = {"name": "group_id", "in": "path", "required": True, "schema": ID}
IMPORT_REPORT = {
    "type": "object",
    "required": ["text", "format", "counts", "items"],
    "properties": {
        "text": {"type": "string"},
        "format": {"type": "string"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["number", "outcome"],
                "properties": {
                    "number": {"type": "integer", "minimum": 1},
                    "id": {"type": ["string", "null"]},
                    "outcome": {"type": "string"},
                    "reason": {"type": "string"},
                    "annotation": ID,
                },
            },
        },
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/annotations": {
        "get": _container_read(
            "listAnnotations",
            "The container of the text named by `text` (the address before containers had "
            "their own; its IRI is in Content-Location).",
            _query("text", SLUG["schema"], required=True),
        ),
        "post": _create(
            "createAnnotation",
            "Store a new annotation, or a reply (its target an annotation's IRI).",
            _links_to_annotation(),
        ),
    },
    **_annotation_paths("/api/v1/annotations", []),
    CONTAINER: {
        "parameters": [SLUG],
        "get": _container_read(
            "getContainer",
            "The annotations on the text the caller may see, in reading order, paged: its W3C "
            "annotation container.",
        ),
        "post": _create(
            "createAnnotationInText",
            "Store a new annotation or reply on this text (409 if it targets another).",
            _links_to_annotation("InText", slug="$request.path.slug"),
        ),
    },
    **_annotation_paths(CONTAINER.rstrip("/"), [SLUG], "InText"),
    "/api/v1/preview": {
        "post": _write(
            "previewMarkdown",
            "A note's Markdown as the page will show it once saved; nothing is stored.",
            {"200": _json(_one_field("html", {"type": "string"}), "The safe HTML.")},
            {"markdown": "*Compare* the 1921 agreement."},
        ),
    },
    "/api/v1/texts/{slug}": {
        "parameters": [SLUG],
        "get": _operation(
            "getText",
            "A text's canonical content and each paragraph's offsets in it.",
            {"200": _json(_ref("Text"), "The text."), **_problems(404)},
            security=READERS,
        ),
    },
    "/api/v1/texts/{slug}/events": {
        "parameters": [SLUG],
        "get": _operation(
            "textEvents",
            "The live feed: changes after the cursor `after` that the caller may know of.",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["cursor", "events"],
                        "properties": {
                            "cursor": {"type": "integer", "minimum": 0},
                            "events": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "kind", "annotation", "parts", "yours"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "kind": {"type": "string"},
                                        "annotation": {"type": "integer"},
                                        "parts": {"type": "array", "items": {"type": "integer"}},
                                        "yours": {"type": "boolean"},
                                    },
                                },
                            },
                        },
                    },
                    "The news and the new cursor (without `after`: the cursor alone).",
                ),
                **_problems(400, 404),
            },
            parameters=[
                {
                    "name": "after",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                }
            ],
            security=READERS,
        ),
    },
    "/api/v1/search": {
        "get": _operation(
            "search",
            "Full-text search of the texts' paragraphs and the annotations the caller may read, "
            "20 a page (docs/search.md).",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["total", "page", "pageSize", "items"],
                        "properties": {
                            "total": {"type": "integer", "minimum": 0},
                            "page": {"type": "integer", "minimum": 1},
                            "pageSize": {"const": search.PAGE_SIZE},
                            "items": {"type": "array", "items": SEARCH_HIT},
                        },
                    },
                    "The hits, best first.",
                ),
                **_problems(400),
            },
            parameters=[
                _query("q", TEXT, f"Words (the first {search.MAX_TERMS} count)."),
                _query("text", TEXT, "A text's slug."),
                _query(
                    "group",
                    {"type": "string", "pattern": "^(group-)?[1-9][0-9]{0,9}$"},
                    "One of the caller's groups: its id, or group-<id>.",
                ),
                _query("member", ID, "An author's id."),
                _query("tag", TEXT),
                _query("from", {"type": "string", "format": "date"}, "From this day on."),
                _query("to", {"type": "string", "format": "date"}, "Up to this day."),
                _query("kind", {"enum": list(search.KINDS)}),
                _query("page", {"type": "integer", "minimum": 1, "maximum": search.MAX_PAGE}),
            ],
            security=READERS,
        ),
    },
    "/api/v1/exports/notebook.md": {
        "get": _export(
            "exportNotebookMarkdown",
            "All my annotations and replies as one Markdown file, by text, in reading order.",
            "text/markdown",
            {"type": "string"},
            parameters=NOTEBOOK_FILTERS,
        ),
    },
    "/api/v1/exports/notebook.jsonld": {
        "get": _export(
            "exportNotebookJsonLd",
            "All my annotations and replies as W3C JSON-LD, in the order they were made.",
            ANNO_MEDIA_TYPE,
            EXPORTED,
            parameters=NOTEBOOK_FILTERS,
        ),
    },
    "/api/v1/exports/groups/{group_id}.csv": {
        "parameters": [GROUP_ID],
        "get": _export(
            "exportGroupCsv",
            "The group's annotations and replies, a row each, for its instructors (403 for "
            "its members).",
            "text/csv",
            {"type": "string"},
        ),
    },
    "/api/v1/exports/groups/{group_id}.jsonld": {
        "parameters": [GROUP_ID],
        "get": _export(
            "exportGroupJsonLd",
            "The group's annotations and replies as W3C JSON-LD, for its instructors (403 for "
            "its members).",
            ANNO_MEDIA_TYPE,
            EXPORTED,
        ),
    },
    "/api/v1/imports": {
        "post": _operation(
            "importAnnotations",
            "Import a file of annotations (W3C JSON-LD, or a Hypothesis export) into a text "
            "(docs/open-data.md).",
            {
                "201": _json(IMPORT_REPORT, "What became of each item."),
                **_problems(*WRITE_REFUSALS),
            },
            parameters=[_query("text", SLUG["schema"], "The text's slug.", required=True)],
            requestBody=_body(
                {
                    "oneOf": [
                        {"type": "object", **INPUT},
                        {"type": "array", "items": _ref("JsonValue")},
                    ]
                },
                {"type": "AnnotationCollection", "items": [NEW_NOTE]},
                (LD_JSON, JSON),
            ),
            security=WRITERS,
        ),
    },
    "/api/v1/ns": {
        "get": _glossary(
            "namespace",
            "What Scholia's extension properties (scholia:…) on an annotation mean.",
            "Each property and its meaning.",
        ),
    },
    "/api/v1/problems": {
        "get": _glossary(
            "problems",
            "What each kind of problem (an error's `type`, after its #) means.",
            "Each problem type and what to do about it.",
        ),
    },
    "/api/v1/openapi.json": {
        "get": _operation(
            "openapi",
            "This document.",
            {
                "200": _json({"type": "object"}, "The OpenAPI 3.1 document.", "ETag"),
                "304": NOT_MODIFIED,
            },
            parameters=[IF_NONE_MATCH],
            security=READERS,
        ),
    },
}


def _completed(paths: dict) -> dict:
    """Each path with the HEAD of its GET (the same answers, without a body) and its OPTIONS
    (the methods it takes, in Allow), as Flask serves them for every route; and the refusals
    of the edge (``app.edge``) on every operation: 400 for a control character in the address,
    the query or a JSON body, 404 for an address no route takes (an id out of range, a slug of
    odd characters), 413 for a body over the limit (MAX_CONTENT_LENGTH); 401 for a Bearer token
    that is not a live one (``app.bearer``: never a quiet fall-back to nobody); and 415 on each
    that takes a JSON body, for a body of another Content-Type."""
    methods = ("get", "head", "post", "put", "patch", "delete")
    result = {}
    for path, item in paths.items():
        item = dict(item)
        if "get" in item:
            get = item["get"]
            item["head"] = {
                **get,
                "operationId": get["operationId"] + "Head",
                "summary": "The headers of GET, without its body.",
            }
        allowed = ", ".join(sorted({m.upper() for m in item if m in methods} | {"OPTIONS"}))
        item["options"] = {
            "operationId": "options" + "".join(re.findall(r"[A-Za-z0-9]+", path.title())),
            "summary": f"The methods this path takes ({allowed}), in Allow.",
            "security": READERS,
            "responses": {"200": {"description": "No body.", "headers": _headers("Allow")}},
        }
        edge = _problems(400, 401, 404, 413) if "{" in path else _problems(400, 401, 413)
        for method in (*methods, "options"):
            if method in item:
                refusals = {**edge, **_problems(415)} if "requestBody" in item[method] else edge
                responses = {**refusals, **item[method]["responses"]}
                item[method] = {**item[method], "responses": responses}
        result[path] = item
    return result


@cache
def document() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Scholia API",
            "version": "1",
            "summary": "Annotations of texts as W3C Web Annotations, and what the reading page "
            "reads.",
            "description": "Errors are RFC 9457 problem details (application/problem+json); "
            "each `type` is explained at /api/v1/problems. Annotations follow the W3C Web "
            "Annotation Data Model and Protocol.",
        },
        "servers": [{"url": "/"}],
        "paths": _completed(PATHS),
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "headers": HEADERS,
            "securitySchemes": {
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The session of signing in on the site.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "With the session cookie, on every write: the token of the "
                    'page\'s <meta name="csrf-token">.',
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token (no CSRF token needed).",
                },
            },
        },
    }


@cache
def _served() -> tuple[bytes, str]:
    body = json.dumps(document(), separators=(",", ":")).encode()
    return body, digest(body)


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 document (the same for everyone; ETag, 304 when unchanged)."""
    body, etag = _served()
    response = Response(body, content_type=JSON)
    response.set_etag(etag)
    return response.make_conditional(request)
