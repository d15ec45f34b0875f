"""The acting viewer of the current request, loaded once and shared by views and API."""

from dataclasses import replace

from flask import current_app, g
from flask_login import current_user

from app.extensions import db
from app.services import notifications
from app.services.access import Viewer, viewer_for
from app.services.quotas import WriteLimits
from app.services.render_cache import RenderCache


def viewer() -> Viewer:
    """Who is asking, with the site's write quotas (see services/quotas.py)."""
    if "viewer" not in g:
        # Loading the session's user loads the viewer too (views/auth.py: load_user); without
        # one, this is the anonymous viewer. The user itself, not the request-local proxy:
        # access checks run thousands of times.
        user = current_user._get_current_object()
        if "viewer" not in g:
            g.viewer = viewer_for(db.session, user)
    base, acting = g.get("acting", (None, None))
    if base is not g.viewer:  # first asked, or signed in or out since
        base = g.viewer
        acting = replace(base, limits=_write_limits()) if base.user else base
        g.acting = (base, acting)
    return acting


def _write_limits() -> WriteLimits:
    config = current_app.config
    return WriteLimits(
        config["WRITES_PER_MINUTE"], config["WRITES_PER_DAY"], config["TEXTS_PER_DAY"]
    )


def unread_count() -> int:
    """The viewer's unread inbox entries, counted once per request (the nav shows it)."""
    if "unread_count" not in g:
        g.unread_count = notifications.unread_count(db.session, viewer())
    return g.unread_count


def remember_unread_count(count: int) -> None:
    """A count read along with other things (the reading page's one statement) saves a query."""
    g.unread_count = count


def render_cache() -> RenderCache:
    """This worker's cache of rendered pages (see app/services/render_cache.py)."""
    return current_app.extensions["render_cache"]
