"""The acting viewer of the current request, loaded once and shared by views and API."""

from flask import g
from flask_login import current_user

from app.extensions import db
from app.services.access import Viewer, viewer_for


def viewer() -> Viewer:
    if "viewer" not in g:
        g.viewer = viewer_for(db.session, current_user)
    return g.viewer
