"""The W3C Web Annotation Protocol's HTTP side: media types, validators and the LDP headers.

An annotation or a page of the collection is served as ``application/ld+json`` with the
annotation profile unless the client prefers plain ``application/json`` (the page's scripts
ask for it); both carry the same bytes. Each carries a strong ``ETag`` made from those bytes,
so it moves with anything the client sees (body, tags, colour, audience, hidden state,
``modified``), and answers 304 to a matching ``If-None-Match``. Writes with an ``If-Match``
the annotation no longer has are refused with 412 before anything changes.
"""

from __future__ import annotations

import re

from flask import Response, request
from werkzeug.exceptions import PreconditionFailed

from app.api.presenters import ContainerView
from app.api.schemas import ANNO_CONTEXT
from app.cached import digest

LD_JSON = "application/ld+json"
JSON = "application/json"
ANNO_MEDIA_TYPE = f'{LD_JSON}; profile="{ANNO_CONTEXT}"'
LDP = "http://www.w3.org/ns/ldp#"

ANNOTATION_HEADERS = (
    ("Link", f'<{LDP}Resource>; rel="type"'),
    ("Allow", "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"),
    ("Vary", "Accept"),
)
CONTAINER_HEADERS = (
    ("Link", f'<{LDP}BasicContainer>; rel="type"'),
    ("Link", f'<http://www.w3.org/TR/annotation-protocol/>; rel="{LDP}constrainedBy"'),
    ("Allow", "GET, HEAD, OPTIONS, POST"),
    ("Accept-Post", ANNO_MEDIA_TYPE),
)  # and Vary: Accept, Prefer, with Accept-Encoding (CachedBody.negotiated_response)
PAGE_HEADERS = (("Allow", "GET, HEAD, OPTIONS"),)

PREFER_MINIMAL = f"{LDP}PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"
_INCLUDE = re.compile(r'include\s*=\s*"([^"]*)"')


def container_view(iris_asked: bool) -> tuple[ContainerView, bool]:
    """What the client's ``Prefer: return=representation; include="…"`` asks of a container,
    and whether it asked at all (then ``Preference-Applied`` says it was honoured).

    ``iris_asked`` is a page's ``iris=1``: the links of an IRI-only container carry it.
    """
    wanted = " ".join(request.headers.getlist("Prefer"))
    if "return=representation" not in wanted.replace(" ", ""):
        return ContainerView(iris=iris_asked), False
    included = {iri for found in _INCLUDE.findall(wanted) for iri in found.split()}
    iris = iris_asked or (PREFER_IRIS in included and PREFER_DESCRIPTIONS not in included)
    return ContainerView(minimal=PREFER_MINIMAL in included, iris=iris), True


def media_type() -> str:
    """The annotation profile of JSON-LD, unless the client would rather have plain JSON."""
    best = request.accept_mimetypes.best_match((LD_JSON, JSON), default=LD_JSON)
    return JSON if best == JSON else ANNO_MEDIA_TYPE


def etag(body_digest: str, content_type: str) -> str:
    """A strong validator for one representation: the bytes' digest, told apart per media type
    as RFC 9110 asks of negotiated representations."""
    return f"{body_digest}-json" if content_type == JSON else body_digest


def check_if_match(body: bytes) -> None:
    """412 if the request's ``If-Match`` names none of the annotation's current ETags."""
    wanted = request.if_match
    if not wanted:
        return
    current = digest(body)
    if not any(wanted.contains(etag(current, kind)) for kind in (ANNO_MEDIA_TYPE, JSON)):
        raise PreconditionFailed(
            "The annotation has changed since you read it (its ETag no longer matches "
            "If-Match), so nothing was changed. Read it again and reapply your change."
        )


def annotation_response(body: bytes, status: int = 200, location: str | None = None) -> Response:
    """One annotation's JSON with its media type, ETag and LDP headers; 304 when unchanged."""
    content_type = media_type()
    response = Response(body, status=status, content_type=content_type)
    response.headers.extend(ANNOTATION_HEADERS)
    if location is not None:
        response.headers["Location"] = response.headers["Content-Location"] = location
    response.set_etag(etag(digest(body), content_type))
    return response.make_conditional(request) if status == 200 else response
