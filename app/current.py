"""The acting viewer of the current request, loaded once and shared by views and API."""

from flask import g
from flask_login import current_user

from app.extensions import db
from app.services.access import Viewer, viewer_for


def viewer() -> Viewer:
    if "viewer" not in g:
        # The user itself, not the request-local proxy: access checks run thousands of times.
        g.viewer = viewer_for(db.session, current_user._get_current_object())
    return g.viewer
