"""The edge: what a request must hold before any view sees it, checked once for every route.

Odd input used to travel through the views into Python and the databases and come back as a
500: ids past what a column holds (PostgreSQL's INTEGER stops at 2**31-1, SQLite's at 2**63-1),
JSON nested deeper than Python's recursion limit, lone surrogates the drivers cannot encode,
NUL bytes (PostgreSQL refuses them in text, SQLite stores them: the two must not differ), and
digits that are not ASCII (``"١".isdigit()`` is true and ``int("١") == 1``). Here they are a 400
with a message (JSON under /api/, the error page elsewhere: ``errors.handle_http_error``), or,
in a path, simply no match (404).

What werkzeug hands over is checked, not the raw bytes: it turns invalid UTF-8 in a path into
U+FFFD and leaves invalid percent-escapes in a query or form undecoded, so lone surrogates can
only arrive in JSON.
"""

from __future__ import annotations

import math
import re

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

from app.models.annotation import GROUP_KEY_PREFIX

# Every id in a path is an INTEGER column; PostgreSQL refuses a larger value with an error.
MAX_ID = 2**31 - 1
# The live feed's cursor is a BIGINT.
MAX_BIG = 2**63 - 1
# Deeper than any annotation (five levels) needs; far below Python's recursion limit.
MAX_JSON_DEPTH = 64

# In a path or a parameter's name: no control character at all. In free text (query, form and
# JSON values): tab, CR and LF are text; other C0 controls and lone surrogates are not.
_NOT_A_NAME = re.compile(r"[\x00-\x1f\ud800-\udfff]")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Parameters that name a group as "group-<id>" (models.annotation.group_in_key reads them): here
# only the number's bounds are checked, as for every id.
_GROUP_KEYS = frozenset({"lens", "audience"})


def _up_to(limit: int) -> str:
    """A regular expression for the whole numbers 1 to ``limit`` in ASCII digits, written
    without leading zeros: "2147483647" is matched by "214748364[0-6]", "2147483647", etc."""
    digits = str(limit)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for at, digit in enumerate(digits):
        lowest = 1 if at == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - at - 1
            options.append(f"{digits[:at]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    return "(?:" + "|".join([*options, digits]) + ")"


class IdConverter(IntegerConverter):
    """The app's ``int``: ASCII digits only (``\\d`` also matches "١"), 1 to ``MAX_ID``.

    Anything else does not match the rule, so ``/notes/99999999999999999999`` is a plain 404
    and no view or query ever sees a number its column cannot hold. The range is in the
    regular expression itself: werkzeug checks a rule's methods before its converters, so a
    bound checked only in ``to_python`` would turn a PATCH to a huge id into a 405.
    ``<int(min=0):n>`` and ``<int(max=...):n>`` change the range for a route that needs it.
    """

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
        if not signed and min in (0, 1) and max is not None:
            self.regex = ("0|" if min == 0 else "") + _up_to(max)


def number(raw: str | None, highest: int = MAX_ID) -> int | None:
    """``raw`` as a whole number if it is ASCII digits from 0 to ``highest``, else None.

    For parameters where anything else is ignored (``focus``, ``undo``); ``whole_number`` refuses.
    """
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= len(str(highest)):
        value = int(raw)
        if value <= highest:
            return value
    return None


def whole_number(
    raw: str | None, name: str, meaning: str = "a number", highest: int = MAX_ID
) -> int | None:
    """A whole number from a client: None when not given (absent or empty), a 400 unless it is
    ASCII digits from 0 to ``highest``."""
    if not raw:
        return None
    value = number(raw, highest)
    if value is None:
        abort(
            400,
            description=f"{name} takes {meaning} (a whole number from 0 to {highest}, in ASCII "
            f"digits), not {raw[:40]!r}.",
        )
    return value


def _refuse(where: str, what: str) -> None:
    abort(400, description=f"The request was not accepted: {where} {what}.")


def _check_pairs(pairs, where: str) -> None:
    for name, value in pairs.items(multi=True):
        if _NOT_A_NAME.search(name):
            _refuse(where, "has a field name with a control character")
        if not isinstance(value, str):  # an uploaded file
            value = value.filename or ""
        if _NOT_TEXT.search(value):
            _refuse(where, f"field {name[:40]!r} holds a NUL or other control character")
        prefix = GROUP_KEY_PREFIX
        if (
            name in _GROUP_KEYS
            and value.startswith(prefix)
            and number(value[len(prefix) :]) is None
        ):
            _refuse(where, f"field {name!r} names a group by something other than its number")


def _check_json(document) -> None:
    problem = json_problem(document)
    if problem is not None:
        _refuse("the JSON", problem)


def json_problem(document) -> str | None:
    """What in a parsed document no field may hold (depth, text, numbers), or None; walked
    without recursion. For a request's JSON here, and for a file's (an uploaded import)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _NOT_TEXT.search(value):
                return "holds a NUL, another control character or a lone surrogate"
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"is nested more than {MAX_JSON_DEPTH} levels deep"
            if isinstance(value, dict):
                for key in value:
                    if _NOT_TEXT.search(key):
                        return "has a key with a control character or surrogate"
                value = value.values()
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if not -MAX_BIG - 1 <= value <= MAX_BIG:
                return "holds a number too large for any field"
        elif isinstance(value, float) and not math.isfinite(value):
            return "holds a number that is not finite"
    return None


def larger_body(limit: int):
    """Let one view read a body of up to ``limit`` bytes, past the site's MAX_CONTENT_LENGTH
    (an uploaded file of annotations), and a form field as long (a pasted text), past Flask's
    MAX_FORM_MEMORY_SIZE: set before anything reads the body, here or in CSRF."""

    def mark(view):
        view.body_limit = limit
        return view

    return mark


def check_request() -> None:
    """Runs before every view. A request with no query and no body costs a look at its path."""
    req = request._get_current_object()  # one context lookup, not one per attribute
    if req.routing_exception is not None:
        return  # a 404 or 405 follows whatever it holds
    limit = getattr(current_app.view_functions.get(req.endpoint), "body_limit", None)
    if limit is not None:
        req.max_content_length = req.max_form_memory_size = limit
    if req.view_args:
        for value in req.view_args.values():
            if isinstance(value, str) and _NOT_A_NAME.search(value):
                _refuse("the address", "holds a control character")
    environ = req.environ
    if environ.get("QUERY_STRING"):
        _check_pairs(req.args, "the query")
    if not environ.get("CONTENT_TYPE"):
        return  # no body a view would read
    if req.mimetype in _FORMS:
        _check_pairs(req.form, "the form")
        _check_pairs(req.files, "the form")
    elif req.is_json:
        try:
            # Parsed once here; the view's own get_json() is answered from Flask's cache.
            document = req.get_json(silent=True)
        except RecursionError:
            _refuse("the JSON", f"is nested more than {MAX_JSON_DEPTH} levels deep")
        _check_json(document)


def init_app(app: Flask) -> None:
    """Before the blueprints: their rules take the converter when they are added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)
    app.add_template_global(number, "client_number")
