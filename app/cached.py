"""A response body as the render cache keeps it: as it is, and gzipped for clients that take it.

Compressing costs milliseconds once, when the body is made; every answer from the cache then
sends a fraction of the bytes to clients that send ``Accept-Encoding: gzip`` (browsers do).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache

from flask import Response, request
from werkzeug.http import parse_accept_header


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    gzipped: bytes
    mimetype: str

    @classmethod
    def of(cls, body: bytes, mimetype: str) -> CachedBody:
        return cls(body, gzip.compress(body, compresslevel=6), mimetype)

    @property
    def size(self) -> int:
        """What it costs the cache, in bytes."""
        return len(self.body) + len(self.gzipped)

    @cached_property
    def digest(self) -> str:
        """The body's digest, for an ETag: made on first use."""
        return digest(self.body)

    def response(self) -> Response:
        # Headers given whole: werkzeug's per-header setters cost more than the rest of a hit.
        if _takes_gzip(request.headers.get("Accept-Encoding")):
            return Response(self.gzipped, mimetype=self.mimetype, headers=_GZIPPED)
        return Response(self.body, mimetype=self.mimetype, headers=_PLAIN)

    def negotiated_response(
        self, content_type: str, etag: str, headers: tuple = (), vary: str = "Accept"
    ) -> Response:
        """The body as ``content_type``, the media type the client's ``Accept`` chose, with
        ``headers`` and the strong ``etag`` (told apart for the gzipped bytes, as each
        representation's must be); 304 to a matching ``If-None-Match``. ``vary`` names the
        request headers besides Accept-Encoding that chose this representation."""
        gzipped = _takes_gzip(request.headers.get("Accept-Encoding"))
        body = self.gzipped if gzipped else self.body
        # One Vary header: werkzeug's ``response.vary`` (which the session adds Cookie to) reads
        # only one.
        base = (("Vary", f"{vary}, Accept-Encoding"),)
        if gzipped:
            base = (("Content-Encoding", "gzip"), *base)
        response = Response(body, content_type=content_type, headers=(*base, *headers))
        response.set_etag(f"{etag}-gzip" if gzipped else etag)
        return response.make_conditional(request)


def digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


@lru_cache(maxsize=64)
def _takes_gzip(accept_encoding: str | None) -> bool:
    """``request.accept_encodings["gzip"]``, parsed once per header value: clients send a few."""
    return bool(parse_accept_header(accept_encoding)["gzip"])


_PLAIN = (("Vary", "Accept-Encoding"),)
_GZIPPED = (("Content-Encoding", "gzip"), *_PLAIN)
