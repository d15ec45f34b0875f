"""The refusals services raise, by kind; each message says why, to the person who asked.

Services know nothing of HTTP: the web layer gives each kind its status in one table
(``app.errors.status_of``), and each blueprint answers refusals in one handler, so a refusal
reads the same whichever way the request came.
"""

from __future__ import annotations


class Refused(ValueError):
    """A request the rules turn down; nothing was changed."""


class Invalid(Refused):
    """What was sent cannot be stored as it is (a rule about its content)."""


class Malformed(Invalid):
    """What was sent is not in the shape asked for."""


class TooLarge(Invalid):
    """What was sent is longer than the limit it names."""


class SignInNeeded(Refused):
    """Only a signed-in reader may do this."""


class InvalidToken(SignInNeeded):
    """An access token that is malformed, unknown, revoked, or its account's disabled: the
    request is refused outright, not served as if nobody had signed in."""

    def __init__(self, message: str = "The access token is not valid."):
        super().__init__(message)


class NotFound(Refused):
    """Missing, deleted, or someone else's private note: the same answer for all three."""

    def __init__(self, message: str = "No such annotation."):
        super().__init__(message)


class Forbidden(Refused):
    """The viewer may see the thing but not do this to it."""


class Conflict(Refused):
    """The request is fine, but the present state of what it names does not allow it."""


class QuotaExceeded(Refused):
    """Too many writes too fast: nothing was saved; try again in ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
