"""The refusals services raise: each says why, with the HTTP status that fits it.

Views and the API turn them into responses (the API's error handler, views' ``fail``), so a
refusal reads the same whichever way the request came.
"""

from __future__ import annotations


class AnnotationError(ValueError):
    """A request we refuse; ``status`` is the HTTP status that fits, the message says why."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class NotFound(AnnotationError):
    """Missing, deleted, or someone else's private note: the same answer for all three."""

    def __init__(self, what: str = "annotation"):
        super().__init__(f"No such {what}.", 404)


class Forbidden(AnnotationError):
    """The viewer may see the annotation but not do this to it."""

    def __init__(self, message: str):
        super().__init__(message, 403)


class Conflict(AnnotationError):
    """The request is fine, but the annotation's present state does not allow it."""

    def __init__(self, message: str):
        super().__init__(message, 409)


class QuotaExceeded(AnnotationError):
    """Too many writes too fast: nothing was saved; try again in ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, 429)
        self.retry_after = retry_after
