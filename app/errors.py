"""Error pages: every failure a user can cause gets a page that says what happened."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    InvalidToken,
    Malformed,
    NotFound,
    QuotaExceeded,
    Refused,
    SignInNeeded,
    TooLarge,
)

# Each kind of refusal's HTTP status and title: the one place services' refusals meet HTTP.
REFUSALS: dict[type[Refused], tuple[int, str]] = {
    Malformed: (400, "Bad Request"),
    SignInNeeded: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not Found"),
    Conflict: (409, "Conflict"),
    TooLarge: (413, "Too Large"),
    Invalid: (422, "Unprocessable Annotation"),
    QuotaExceeded: (429, "Too Many Requests"),
}


def status_of(refusal: Refused) -> tuple[int, str]:
    """The status and title of a refusal: its own kind's, or the nearest kind it is one of."""
    return next(
        (REFUSALS[kind] for kind in type(refusal).__mro__ if kind in REFUSALS),
        (422, "Unprocessable Annotation"),
    )


# A 401 names how to authenticate (RFC 9110 §11.6.1): the session cookie of signing in, or on
# the API a personal access token too (RFC 6750); a token sent and refused says so (its §3.1).
COOKIE_CHALLENGE = {"WWW-Authenticate": 'Cookie realm="Scholia"'}
SIGN_IN_CHALLENGE = {"WWW-Authenticate": 'Cookie realm="Scholia", Bearer realm="Scholia"'}
INVALID_TOKEN_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Scholia", error="invalid_token"'}


def refusal_headers(refusal: Refused) -> dict[str, str]:
    if isinstance(refusal, QuotaExceeded):
        return {"Retry-After": str(refusal.retry_after)}
    if isinstance(refusal, InvalidToken):
        return INVALID_TOKEN_CHALLENGE
    if isinstance(refusal, SignInNeeded):
        return SIGN_IN_CHALLENGE if request.path.startswith("/api/") else COOKIE_CHALLENGE
    return {}


def handle_refusal(refusal: Refused):
    """A refusal no blueprint answered in its own way: a page (or JSON) saying why."""
    db.session.rollback()
    status, title = status_of(refusal)
    response = _render(status, title, str(refusal))
    response.headers.update(refusal_headers(refusal))
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


PROBLEM_JSON = "application/problem+json"


def problem_type(title: str) -> str:
    """The ``type`` of a problem: the API's list of problems, at this one's entry."""
    return url_for("api.problems", _external=True) + "#" + "-".join(title.lower().split())


def _render(status: int, title: str, message: str) -> Response:
    if _wants_json():
        # RFC 9457 problem details: what kind of problem (type, title), its status, and what
        # happened this time (detail).
        problem = {"type": problem_type(title), "title": title, "status": status, "detail": message}
        response = make_response(jsonify(problem), status)
        response.mimetype = PROBLEM_JSON
        return response
    body = render_template("error.html", status=status, title=title, message=message)
    return make_response(body, status)


def handle_http_error(error: HTTPException):
    response = _render(error.code or 500, error.name, error.description or "")
    # What the error says besides its page: a 405's Allow (RFC 9110 requires it), a 401's
    # WWW-Authenticate, a 429's or 503's Retry-After.
    response.headers.extend(
        (name, value) for name, value in error.get_headers() if name.lower() != "content-type"
    )
    return response


def handle_csrf_error(error: CSRFError):
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        # Nobody is signed in: the write is refused all the same, but what is missing is a
        # sign-in, not a fresh form (the W3C protocol's 401). Signed-in writes keep the 400.
        response = _render(401, "Unauthorized", "Sign in to do this.")
        response.headers.update(SIGN_IN_CHALLENGE)
        return response
    return _render(
        400,
        "Form expired",
        "This form was open too long or came from another site, so it was not accepted. "
        "Please go back, reload the page and try again.",
    )


def handle_unexpected(error: HTTPException):
    """Flask routes every unhandled exception here (outside debug and testing)."""
    db.session.rollback()
    return _render(500, "Something went wrong", "Nothing was changed. Please try again.")


# What SQLite and PostgreSQL say when they cannot take a write: the disk is full, the file or
# server is read-only, or the database stayed busy past the timeout. None of these damage
# anything already stored, and reads go on working, so the answer is "not now", not "broken".
STORAGE_REFUSALS = {
    "database or disk is full": "the database's disk is full",
    "no space left on device": "the database's disk is full",
    "could not extend file": "the database's disk is full",
    "disk full": "the database's disk is full",
    "readonly database": "the database is read-only",
    "read-only transaction": "the database is read-only",
    "read-only file system": "the database is read-only",
    "database is locked": "the database is busy",
}
log = logging.getLogger(__name__)


def storage_refusal(error: BaseException) -> str | None:
    text = str(getattr(error, "orig", error)).lower()
    return next((why for needle, why in STORAGE_REFUSALS.items() if needle in text), None)


def handle_database_error(error: DBAPIError):
    db.session.rollback()
    why = storage_refusal(error)
    if why is None:
        log.exception("database error", exc_info=error)
        return handle_unexpected(error)
    log.warning("write refused: %s (%s)", why, error.orig)
    response = _render(
        503,
        "Cannot save right now",
        f"Nothing was saved because {why}. Everything already saved is safe, and reading "
        "still works. Please try again later.",
    )
    response.headers["Retry-After"] = "30"
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(Refused, handle_refusal)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_unexpected)
