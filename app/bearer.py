"""Token requests: ``Authorization: Bearer scholia_…`` on the API, for scripts.

A request to /api/ that carries a Bearer header is a token request, and three things follow:
- it is authenticated by the token alone: the session cookie is not even read (security.py's
  session interface gives it an empty session and never sends one back), and a token that is
  malformed, unknown, revoked or its account's disabled is a 401 (``InvalidToken``), never a
  quiet fall-back to nobody;
- it needs no CSRF token: a forged cross-site request cannot carry the header, since no browser
  adds it by itself (cookie requests are checked here as Flask-WTF would);
- it may come from another origin (CORS): ``Access-Control-Allow-Origin: *``, never with
  credentials, and never on a cookie request, so a cookie is never usable from another site.
A Bearer header anywhere but /api/ is ignored: it signs nobody in to a page.
"""

from __future__ import annotations

from flask import Flask, Request, Response, current_app, g, request

from app.extensions import csrf, db, login_manager
from app.services import tokens
from app.services.access import load_signed_in
from app.services.errors import InvalidToken

API = "/api/"
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Prefer, Accept"
CORS_EXPOSE_HEADERS = "ETag, Location, Content-Location, Link, Allow, Retry-After, Vary"
CORS_MAX_AGE = "86400"  # a day; browsers cap it lower (Chromium: two hours)


def token_of(req: Request) -> str | None:
    """The token a request to the API carries ("" for a Bearer header with none), or None for
    a request that carries no Bearer header (a cookie request)."""
    if not req.path.startswith(API):
        return None
    header = req.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def is_token_request(req: Request) -> bool:
    return token_of(req) is not None


def _authenticate() -> None:
    """Who the token acts for, before any view (or CSRF check) runs."""
    secret = token_of(request)
    if secret is None:
        return
    bearer = tokens.authenticate(db.engine, secret)
    viewer = load_signed_in(db.engine, bearer.user_id)
    if viewer.user is None:  # disabled between the two reads
        raise InvalidToken("The access token's account is disabled.")
    g.viewer = viewer  # what app.current.viewer() answers for this request


@login_manager.request_loader
def _token_user(req: Request):
    """Flask-Login's ``current_user`` for a token request (it has no session to load one from)."""
    if token_of(req) is None:
        return None
    viewer = g.get("viewer")
    return viewer.user if viewer is not None else None


def _check_csrf() -> None:
    """Flask-WTF's check, for every request but a token request."""
    if current_app.config["WTF_CSRF_ENABLED"] and not is_token_request(request):
        csrf.protect(apply_exemptions=True)


def _preflight() -> Response | None:
    """A browser asking, before a cross-origin request, whether it may send it (it sends no
    credentials with this question, so it cannot be told apart from a token request's)."""
    if (
        request.method != "OPTIONS"
        or not request.path.startswith(API)
        or "Origin" not in request.headers
        or "Access-Control-Request-Method" not in request.headers
        or request.url_rule is None  # no such route: its 404 or 405, without CORS
    ):
        return None
    methods = current_app.create_url_adapter(request).allowed_methods()  # of every route here
    response = Response(status=204)
    response.headers.update(
        {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": CORS_MAX_AGE,
        }
    )
    return response


def _cors(response: Response) -> Response:
    """A token request from another origin may read its answer (refusals included)."""
    if "Origin" in request.headers and is_token_request(request):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    return response


def init_app(app: Flask) -> None:
    # Flask-WTF's own check would run for token requests too: _check_csrf runs it for the rest.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_preflight)
    app.before_request(_authenticate)
    app.before_request(_check_csrf)
    app.after_request(_cors)
