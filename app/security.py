"""Headers and cookies that every response carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

from app.bearer import is_token_request

# Everything is served from our own origin: no inline script or style, no frames, no plugins.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# A permanent session's cookie is signed again, to push its expiry on, at most this often:
# Flask's default does it on every response, which cost a signed-in request a tenth of its time.
SESSION_REFRESH_AFTER = timedelta(hours=1)


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request itself came over HTTPS, keeps its
    signing serializer while the keys stay the same, and renews an unchanged permanent session
    hourly rather than on every response."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        if is_token_request(request):
            return self.session_class()  # the token alone says who it is (app/bearer.py)
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(
                value,
                max_age=int(app.permanent_session_lifetime.total_seconds()),
                return_timestamp=True,
            )
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at  # when it was last signed: see should_set_cookie
        return session

    def save_session(self, app: Flask, session, response: Response) -> None:
        if is_token_request(request):
            return  # a token request has no session: none is begun, none is ended
        # Most requests neither change the session nor renew it: they need only the header.
        if session and not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(UTC) - signed_at >= SESSION_REFRESH_AFTER

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or _is_https(request)

    def get_signing_serializer(self, app: Flask):
        """One serializer while the keys stay the same: Flask makes one per request."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if getattr(self, "_keys", None) != keys:
            self._keys, self._serializer = keys, super().get_signing_serializer(app)
        return self._serializer


def _is_https(req: Request) -> bool:
    return req.scheme == "https"


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# For what was made for one browser's session: no shared cache keeps it, and the browser asks
# the server again before reusing its own copy.
PRIVATE = ("Cache-Control", "private, no-cache")


def _made_for_a_session() -> bool:
    """Did the response depend on the session: a signed-in user (loading one reads it), a CSRF
    token, a flashed message? Or on an access token, in the session's stead. Reading an empty
    session, as every anonymous request does, tells nothing about anybody. The versioned static
    files never do, and keep their year."""
    if request.endpoint == "static":
        return False
    if is_token_request(request):
        return True  # made for whom the token acts for
    return session.modified or (session.accessed and bool(session))


def _set_headers(response):
    headers = response.headers
    extra = [HSTS] if _is_https(request) else []
    if _made_for_a_session():
        extra.append(PRIVATE)  # unless the view said otherwise (the sign-in pages: no-store)
    # One pass over the response's headers, not one per header: this runs on every response.
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in (*SECURITY_HEADERS, *extra) if h[0].lower() not in present)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(_set_headers)
