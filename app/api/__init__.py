"""The JSON API under /api/v1, speaking the W3C Web Annotation Data Model.

The reading page's JavaScript uses it with its session cookie and the CSRF token from
``<meta name="csrf-token">`` in an ``X-CSRFToken`` header.
"""

from flask import Blueprint, jsonify

from app.current import viewer
from app.services.access import Viewer
from app.services.errors import AnnotationError, QuotaExceeded

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(AnnotationError)
def _annotation_error(error: AnnotationError):
    response = jsonify(
        error=_TITLES.get(error.status, "Invalid annotation"),
        message=str(error),
        status=error.status,
    )
    response.status_code = error.status
    if isinstance(error, QuotaExceeded):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Too Large",
    422: "Unprocessable Annotation",
    429: "Too Many Requests",
}


def require_user() -> Viewer:
    """The signed-in viewer, or a 401 for anyone else."""
    acting = viewer()
    if acting.user is None:
        raise AnnotationError("Sign in to do this.", 401)
    return acting


from app.api import annotations, texts  # noqa: E402,F401  (routes register on bp)
