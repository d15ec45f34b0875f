"""The JSON API under /api/v1, speaking the W3C Web Annotation Data Model.

The reading page's JavaScript uses it with its session cookie and the CSRF token from
``<meta name="csrf-token">`` in an ``X-CSRFToken`` header; scripts send a personal access token,
``Authorization: Bearer scholia_…``, and no CSRF token (``app.bearer``: it is their only
credential, and theirs are the only requests answered across origins). Refusals answer as
RFC 9457 problem details, ``{"type", "title", "status", "detail"}`` (``app.errors``). The W3C
protocol's HTTP side (media types, ETags, LDP headers) is in ``app.api.protocol``.
"""

from flask import Blueprint

from app.current import viewer
from app.services.access import Viewer
from app.services.errors import SignInNeeded

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def require_user() -> Viewer:
    """The signed-in viewer, or a 401 for anyone else."""
    acting = viewer()
    if acting.user is None:
        raise SignInNeeded("Sign in to do this.")
    return acting


from app.api import (  # noqa: E402,F401  (routes register on bp)
    annotations,
    exports,
    imports,
    openapi,
    search,
    texts,
)
