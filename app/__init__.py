"""Scholia: annotated close reading. ``create_app`` is the only way an app is made."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import assets, bearer, edge
from app.config import build_config, load_secret_key
from app.database import configure_engine
from app.extensions import csrf, db, login_manager, migrate
from app.models.annotation import HighlightColor, group_key
from app.models.user import use_password_method
from app.services.annotations.rules import MAX_BODY_CHARS
from app.services.render_cache import RenderCache


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        static_folder=assets.FOLDER,
        static_url_path=f"/static/{assets.content_version()}",
        template_folder="../templates",
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(build_config(app.instance_path))
    # Versioned static URLs are kept a year; with the debugger on, files change under one version.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None if app.debug else assets.MAX_AGE
    app.config.update(config or {})
    # A pooled PostgreSQL connection can die with its server or a network blip, so it is tested
    # on checkout; a SQLite file cannot, and the test would cost every request a query.
    is_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": not is_sqlite})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)

    use_password_method(app.config["PASSWORD_HASH_METHOD"])
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    edge.init_app(app)  # first: its converter for every route, its checks before any other
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    bearer.init_app(app)  # after edge's checks: who a token acts for, and CSRF for the rest
    with app.app_context():
        configure_engine(db.engine)
    app.extensions["render_cache"] = RenderCache(app.config["RENDER_CACHE_MB"] * 1024 * 1024)

    from app import cli, errors, security
    from app.api import bp as api_bp
    from app.views import (
        admin,
        auth,
        corrections,
        dashboard,
        discuss,
        groups,
        imports,
        library,
        notes,
        search,
        texts,
    )

    for blueprint in (
        library.bp,
        auth.bp,
        notes.bp,
        imports.bp,
        discuss.bp,
        groups.bp,
        groups.join_bp,
        dashboard.bp,
        admin.bp,
        search.bp,
        texts.bp,
        corrections.bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp)
    security.init_app(app)
    app.context_processor(_template_helpers)
    # Globals: macros imported without context see them too.
    app.add_template_global(notes.note_in_text)
    app.add_template_global(group_key)
    app.add_template_global(list(HighlightColor), "colors")
    app.add_template_global(MAX_BODY_CHARS, "max_body_chars")  # what markdown-field.js counts to
    errors.init_app(app)
    cli.init_app(app)
    return app


def _template_helpers() -> dict:
    """What every template may ask: the access policy for the current viewer, the inbox count."""
    from app.current import unread_count, viewer
    from app.services import texts
    from app.services.annotations import audience_key

    def may(action: str, annotation) -> bool:
        return texts.may(viewer(), action, annotation)

    def audience_of(annotation) -> str:
        """ "private", "public" or "group-<id>": what forms send as ``audience``."""
        return audience_key(annotation.visibility, annotation.group_id)

    return {
        "may": may,
        # A shared part of the reading page gives its own (services/texts/parts.py).
        "may_author": may,
        "shared": False,
        "audience_of": audience_of,
        "unread_count": unread_count,
        "viewer": viewer,
    }
