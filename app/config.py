"""Configuration: defaults first, then the environment.

Every setting a deployment changes is read from an environment variable of the same name
(``DATABASE_URL``, ``SECRET_KEY``, ...), so one image serves laptop, CI and a fleet of app servers.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def load_secret_key(instance_path: str) -> str:
    """Generated once and kept in the instance folder, so restarts and workers share sessions.

    Several app servers behind a load balancer must set ``SECRET_KEY`` to the same value instead.
    """
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: if two workers race on first start, the loser reads the winner's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` spellings hosts hand out; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def build_config(instance_path: str) -> dict:
    """Settings for ``create_app``; tests pass overrides on top of these."""
    database_url = os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(
        instance_path, "scholia.sqlite3"
    )
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure is also set per request when the request came over HTTPS (see security.py).
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # CSRF tokens live as long as the session, so a long reading session can still post.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
        "PROXY_COUNT": _int("SCHOLIA_PROXY_COUNT", 0),
        # Sign-in delays (services/sign_in.py: LoginPolicy): failed attempts within the window
        # past the free ones make the next attempt wait 1 s, 2 s, 4 s... up to the maximum. The
        # free counts once went by the names without FREE_, which still work.
        "LOGIN_WINDOW_HOURS": _int("SCHOLIA_LOGIN_WINDOW_HOURS", 24),
        "LOGIN_FREE_FAILURES_PER_ACCOUNT": _int(
            "SCHOLIA_LOGIN_FREE_FAILURES_PER_ACCOUNT", _int("SCHOLIA_LOGIN_FAILURES_PER_ACCOUNT", 5)
        ),
        "LOGIN_FREE_FAILURES_PER_ADDRESS": _int(
            "SCHOLIA_LOGIN_FREE_FAILURES_PER_ADDRESS",
            _int("SCHOLIA_LOGIN_FAILURES_PER_ADDRESS", 20),
        ),
        "LOGIN_FREE_FAILURES_PER_DEVICE": _int("SCHOLIA_LOGIN_FREE_FAILURES_PER_DEVICE", 5),
        "LOGIN_MAX_DELAY_MINUTES": _int("SCHOLIA_LOGIN_MAX_DELAY_MINUTES", 15),
        # How long a browser that signed in stays a known device (its cookie's lifetime).
        "LOGIN_DEVICE_DAYS": _int("SCHOLIA_LOGIN_DEVICE_DAYS", 365),
        # Annotations (notes, highlights, replies) one account may create; 0: no limit.
        "WRITES_PER_MINUTE": _int("SCHOLIA_WRITES_PER_MINUTE", 30),
        "WRITES_PER_DAY": _int("SCHOLIA_WRITES_PER_DAY", 1000),
        # Texts one account may add to the library on the page in a day; 0: no limit.
        "TEXTS_PER_DAY": _int("SCHOLIA_TEXTS_PER_DAY", 20),
        # How new passwords are hashed (Werkzeug's method names): scrypt, deliberately slow for
        # an attacker. Only the test suite lowers it; a hash keeps its method, so a change
        # never locks anyone out.
        "PASSWORD_HASH_METHOD": os.environ.get("SCHOLIA_PASSWORD_HASH_METHOD") or "scrypt",
        # How often an open reading page asks for changes, in milliseconds (static/js/live.js).
        "LIVE_POLL_MS": max(250, _int("SCHOLIA_LIVE_POLL_MS", 2500)),
        # Rendered pages kept per worker process, in MB (app/services/render_cache.py).
        "RENDER_CACHE_MB": _int("SCHOLIA_RENDER_CACHE_MB", 64),
        # Mail (docs/mail.md): the SMTP server notices leave by, e.g. smtp://user:pass@host:587
        # ?starttls=1; unset, no mail is queued at all. Links in mail lead to BASE_URL, the
        # site's public address (mail is composed outside any request, by `send-mail`).
        "SMTP_URL": os.environ.get("SCHOLIA_SMTP_URL", "").strip(),
        "MAIL_FROM": os.environ.get("SCHOLIA_MAIL_FROM") or "Scholia <scholia@localhost>",
        "BASE_URL": (os.environ.get("SCHOLIA_BASE_URL") or "http://localhost:5000").rstrip("/"),
        "MAIL_MAX_ATTEMPTS": max(1, _int("SCHOLIA_MAIL_MAX_ATTEMPTS", 8)),
        # From this hour (UTC, 0-23; outside it, the nearest) on, `send-mail` makes the day's
        # digests (once a day each): 24 or more would never come.
        "MAIL_DIGEST_HOUR": min(23, max(0, _int("SCHOLIA_MAIL_DIGEST_HOUR", 7))),
        "SEEDS_DIR": os.environ.get("SCHOLIA_SEEDS_DIR")
        or str(Path(__file__).resolve().parent.parent / "seeds"),
    }
