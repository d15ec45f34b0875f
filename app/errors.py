"""Error pages: every failure a user can cause gets a page that says what happened."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str):
    if _wants_json():
        return jsonify(error=title, message=message, status=status), status
    return render_template("error.html", status=status, title=title, message=message), status


def handle_http_error(error: HTTPException):
    return _render(error.code or 500, error.name, error.description or "")


def handle_csrf_error(error: CSRFError):
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


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_unexpected)
