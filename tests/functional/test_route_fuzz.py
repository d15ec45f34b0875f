"""Every route in the URL map, fed odd input, answers below 500.

The routes come from ``app.url_map``, so a new route is fuzzed without anyone listing it here
(only ``static`` is left out). For each rule and each of its methods two clients send odd values:
an anonymous visitor, and the instructor of a group that holds a note, a reply, a flag and a
reading, signed in and sending a valid CSRF token (field and header) so the views really run.

- every path argument, one at a time, the others real (a write carries a plausible body);
- query parameters: on GET one name at a time (a view's first refusal would hide the names it
  reads after it), elsewhere all names at once;
- form fields on writes: on POST one name at a time beside plausible others, for the values
  that get past a refusal common to every field; all names at once for every value; raw
  invalid UTF-8; multipart with NUL;
- JSON bodies on writes: nested 100,000 deep, lone surrogates, NUL, 2**70, form fields as
  numbers and objects, a top-level list; and to the API, annotations with ``true``, strings,
  2**31 and 2**63 where numbers go, wrong types, replies to ids past any column.

Every 5xx, and every exception the app let escape (TESTING propagates them), is collected and
reported together: (client, method, URL, what was odd) -> status or exception and where.
Rerun one route with ``pytest tests/functional/test_route_fuzz.py -k 'notes.create'``.
"""

from __future__ import annotations

import io
import json
import logging
import re
import traceback
from dataclasses import dataclass
from itertools import count
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app import create_app
from app.cli import mail_site
from app.extensions import db
from app.models import Text, User
from app.services import discussion, groups, importer, mail, moderation, tokens
from app.services.access import viewer_for
from tests import factories
from tests.conftest import SEED, make_test_app
from tests.factories import AuthActions, dom

SLUG = "carr-rapprochement"
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _rules() -> list[Rule]:
    """Every rule but static files, read from an app that never opens its database."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


RULES = _rules()

# ---- the odd values, in URL form: "%00" is a NUL byte, "%ED%A0%80" invalid UTF-8 (a surrogate) --
NUMBERISH = [
    "99999999999999999999",
    str(2**63),
    str(2**63 - 1),
    str(2**31),
    "9" * 5000,  # past Python's 4,300-digit limit for int()
    "-1",
    "0",
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE: isdigit() is true and int() reads 1
    "%EF%BC%91%EF%BC%92",  # FULLWIDTH DIGITS ONE TWO
    "%20%2B7",  # " +7": int() strips and signs
    "1_0",  # int() reads 10
]
ODD_TEXT = ["a%00b", "%1B", "%0D%0Ajunk", "%ED%A0%80", "%FF", "x" * 5000]
# A path argument's: a number that the app's int converter takes is either a real row or none.
ODD_PATH = [v for v in NUMBERISH + ODD_TEXT if v not in (str(2**63), "1_0", "%FF")]
GROUPISH = ["group-%D9%A1", "group-99999999999999999999", "group-0", "group-"]
ODD_QUERY = [*NUMBERISH, *ODD_TEXT, "%00", "true", *GROUPISH]
# One field or query parameter at a time: the values that no check common to all of them
# refuses, so that each one's own parsing sees them (the rest go in every field at once).
PER_FIELD = [
    "99999999999999999999",  # past SQLite's integers, and PostgreSQL's (SQLAlchemy casts binds)
    "9" * 5000,
    "-1",
    "%D9%A1",
    "%0D%0Ajunk",
    "x" * 5000,
]
# A few of each kind, where many would repeat one another.
SAMPLE = ["99999999999999999999", str(2**31), "%D9%A1", "a%00b", "%1B", "%ED%A0%80", "x" * 5000]
QUERY_NAMES = [
    *("after", "page", "limit", "member", "tag", "lens", "color", "kind", "sort", "expand"),
    *("note", "discuss", "focus", "undo", "next", "text"),
]
FORM_NAMES = [
    *("body", "tags", "audience", "reason", "kind", "on", "hidden", "start", "end", "paragraph"),
    *("color", "question", "name", "description", "role", "text", "due_on", "prompt", "id"),
    *("confirm", "email", "password", "display_name"),
]


# ---- the world the signed-in client acts in ---------------------------------------------------

KEEP = {"user", "text", "text_revision", "paragraph"}  # the rest is made again for every rule
CSRF_VALUE = 'meta[name="csrf-token"][content], input[name="csrf_token"][value]'
_addresses = count(1)


def _client(app):
    """A browser of its own, from an address of its own (sign-in throttling counts by address)."""
    n = next(_addresses)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{n // 250}.{n % 250 + 1}"
    return client


def _token(client, path: str) -> str:
    carrier = dom(client.get(path).get_data(as_text=True)).select_one(CSRF_VALUE)
    assert carrier, f"no CSRF token on {path}"
    token = carrier.get("content") if carrier.name == "meta" else carrier.get("value")
    assert token, f"an empty CSRF token on {path}"
    return token


class World:
    """Real rows for every path argument, made again before each rule (a rule's fuzzing may
    delete the note, remove the member or sign the instructor out); the accounts and the text
    are made once, since hashing passwords and importing are the slow part."""

    QUOTE = "Bolsheviks"

    def __init__(self, app) -> None:
        self.app = app
        with Session(db.engine) as session:
            text = importer.import_file(session, SEED).text
            session.commit()
            self.text_id = text.id
            # The group's owner and a site administrator: the client that gets furthest.
            owner = factories.make_user(session, "olga@example.org", "Olga", is_admin=True)
            member = factories.make_user(session, "mia@example.org", "Mia")
            self.owner_id, self.member_id = owner.id, member.id
            self.start = text.current_revision.content.index(self.QUOTE)
        self.instructor = None

    def reset(self) -> None:
        with self.app.app_context(), db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEEP:
                    conn.execute(table.delete())
            conn.execute(User.__table__.update().values(is_disabled=False))  # the admin's fuzz
        with self.app.app_context(), Session(db.engine) as session:
            self._make(session)
        self.anonymous = _client(self.app)
        self.anonymous_token = _token(self.anonymous, "/auth/login")
        if self.instructor is None or self.instructor.get("/groups").status_code != 200:
            self.instructor = _client(self.app)
            assert AuthActions(self.instructor).login("olga@example.org").status_code == 302
            self.instructor_token = _token(self.instructor, "/groups")

    def _make(self, session: Session) -> None:
        owner, member = session.get(User, self.owner_id), session.get(User, self.member_id)
        group = groups.create(session, viewer_for(session, owner), "Carr seminar")
        session.commit()
        groups.join(session, viewer_for(session, member), group.invite_code)
        session.commit()
        text = session.get(Text, self.text_id)
        note = factories.make_annotation(
            session, owner, text, self.QUOTE, body="A note", group=group
        )
        theirs = factories.make_annotation(
            session, member, text, "capitalist", body="Hm", group=group
        )
        reply = discussion.reply(session, viewer_for(session, member), note.id, "A reply")
        session.commit()
        flag = moderation.flag(session, viewer_for(session, owner), theirs.id, "rude")
        session.commit()
        reading = groups.add_reading(
            session, viewer_for(session, owner), group.id, SLUG, None, "Read it"
        )
        session.commit()
        token, _ = tokens.create(session, owner.id, "Olga's script")  # the account page's revoke
        session.commit()
        self.group_id, self.note_id = group.id, note.id
        self.ids = {
            "annotation_id": str(reply.id),
            "group_id": str(group.id),
            "user_id": str(self.member_id),
            "assignment_id": str(reading.id),
            "flag_id": str(flag.id),
            "token_id": str(token.id),
            "number": "1",
            "slug": SLUG,
            "code": group.invite_code,
            "kind": "agree",
            # An unsubscribe link's (a mail's), for the member.
            "token": mail.unsubscribe_token(mail_site(self.app).keys, self.member_id),
        }

    @property
    def clients(self):
        return (
            ("anonymous", self.anonymous, self.anonymous_token),
            ("instructor", self.instructor, self.instructor_token),
        )


@pytest.fixture(scope="module")
def fuzz_app(migrated_database, tmp_path_factory):
    """One app and one set of accounts for the module; tables empty before and after it."""
    # No write quota: a rule's hundreds of cases must reach the code behind it, not a 429.
    app = make_test_app(
        migrated_database,
        tmp_path_factory.mktemp("fuzz"),
        WRITES_PER_MINUTE=0,
        WRITES_PER_DAY=0,
    )
    with app.app_context():
        _empty()
    yield app
    with app.app_context():
        db.session.remove()
        _empty()
        db.engine.dispose()


def _empty() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="module")
def world(fuzz_app) -> World:
    with fuzz_app.app_context():
        return World(fuzz_app)


# ---- requests ---------------------------------------------------------------------------------


@dataclass
class Case:
    method: str
    url: str
    what: str
    data: bytes | dict | None = None
    content_type: str | None = None


def _path(rule: Rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule.rule)


def _form(fields: dict[str, str]) -> bytes:
    """An urlencoded body of values already in URL form (raw bytes get through as they are)."""
    return "&".join(f"{quote(k)}={v}" for k, v in fields.items()).encode("latin-1")


def _target(world: World, start=None, end=None, exact=None) -> dict:
    start = world.start if start is None else start
    return {
        "source": f"http://localhost/texts/{SLUG}",
        "selector": [
            {"type": "TextQuoteSelector", "exact": world.QUOTE if exact is None else exact},
            {
                "type": "TextPositionSelector",
                "start": start,
                "end": start + len(world.QUOTE) if end is None else end,
            },
        ],
    }


def _annotation(world: World, **changes) -> dict:
    """A payload every JSON route can read: a new group note, a PATCH, or {"hidden": true}."""
    return {
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "value": "A fuzzed note"},
            {"type": "TextualBody", "purpose": "tagging", "value": "fuzz"},
        ],
        "target": _target(world),
        "scholia:visibility": "group",
        "scholia:group": world.group_id,
        "hidden": True,
        **changes,
    }


def _body(value: str, purpose: str = "commenting") -> list[dict]:
    return [{"type": "TextualBody", "purpose": purpose, "value": value}]


def _json_bodies(world: World) -> list[tuple[str, bytes]]:
    """(what, raw JSON); json.dumps writes a lone surrogate as the escape \\ud800."""
    reply = {"type": "Annotation", "body": _body("re")}
    objects = {
        "lone surrogate in body": _annotation(world, body=_body("a\ud800b")),
        "lone surrogate in tag": _annotation(world, body=_body("\udfff", "tagging")),
        "lone surrogate as key": {"\ud800": 1, "hidden": True},
        "lone surrogate in exact": _annotation(world, target=_target(world, exact="\udc00")),
        "NUL in body": _annotation(world, body=_body("a\x00b")),
        "NUL in tag": _annotation(world, body=_body("t\x00", "tagging")),
        "ESC in body": _annotation(world, body=_body("\x1b[31m")),
        "2**70 offsets": _annotation(world, target=_target(world, 2**70, 2**70 + 1)),
        "2**63 offsets": _annotation(world, target=_target(world, 2**63, 2**63 + 1)),
        "2**31 offsets": _annotation(world, target=_target(world, 2**31, 2**31 + 1)),
        "negative offsets": _annotation(world, target=_target(world, -5, -1)),
        "true offsets": _annotation(world, target=_target(world, True, True)),
        "string offsets": _annotation(world, target=_target(world, "1", "x")),
        "list offsets": _annotation(world, target=_target(world, [], {})),
        "float offsets": _annotation(world, target=_target(world, 1.5, 2.5)),
        "2**70 group": _annotation(world, **{"scholia:group": 2**70}),
        "2**31 group": _annotation(world, **{"scholia:group": 2**31}),
        "true group": _annotation(world, **{"scholia:group": True}),
        "digit string group": _annotation(world, **{"scholia:group": "١"}),
        "wrong types": _annotation(world, body="x", motivation=5, **{"scholia:color": []}),
        "target number": _annotation(world, target=5),
        "body numbers": _annotation(world, body=[5, None]),
        "reply to a huge id": {
            **reply,
            "target": "http://localhost/api/v1/annotations/99999999999999999999",
        },
        "reply to 2**31": {**reply, "target": f"http://localhost/api/v1/annotations/{2**31}"},
        "reply with a surrogate": {
            **reply,
            "body": _body("\ud83d"),
            "target": f"http://localhost/api/v1/annotations/{world.note_id}",
        },
        "hidden string": {"hidden": "yes"},
        "hidden 2**70": {"hidden": 2**70},
        "form fields as numbers": dict.fromkeys(FORM_NAMES, 5),
        "form fields as objects": {name: {"a": [1]} for name in FORM_NAMES},
        "top-level list": [1, 2],
        "top-level string": "\ud800",
        "null": None,
    }
    return [
        *((what, json.dumps(value).encode()) for what, value in objects.items()),
        ("array nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
        ("object nested 100,000 deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        ("nested 65 deep", b"[" * 65 + b"]" * 65),
        ("1e400", b'{"hidden": 1e400}'),
        ("NaN and Infinity", b'{"hidden": NaN, "scholia:group": Infinity}'),
        ("invalid UTF-8", b'{"hidden": "\xed\xa0\x80"}'),
        ("truncated", b'{"type": "Annotation", "body": ['),
    ]


# JSON that every route gets; the rest, shaped like annotations, goes to the API's routes, and
# only from the signed-in client (the anonymous meet a 401 before anything reads it).
ANY_ROUTE_JSON = (
    "lone surrogate",
    "NUL",
    "2**70",
    "form fields",
    "top-level",
    "array nested",
    "object nested",
)


def _plausible(world: World, token: str) -> dict[str, str]:
    return {
        "body": "A fuzzed word",
        "audience": f"group-{world.group_id}",
        "kind": "agree",
        "confirm": "1",
        "role": "member",
        "name": "Fuzz",
        "text": SLUG,
        "csrf_token": token,
    }


def _cases(rule: Rule, world: World, who: str, token: str) -> list[Case]:
    signed_in = who != "anonymous"
    cases: list[Case] = []
    api = rule.rule.startswith("/api/")
    form = _plausible(world, token)
    for method in (m for m in METHODS if m in rule.methods):
        write = method in WRITES
        if not write:
            body, kind = None, None
        elif api:
            body, kind = json.dumps(_annotation(world)).encode(), "application/json"
        else:
            body, kind = _form(form), "application/x-www-form-urlencoded"
        for name in sorted(rule.arguments):
            for value in ODD_PATH:
                url = _path(rule, {**world.ids, name: value})
                cases.append(Case(method, url, f"path {name}", body, kind))
        base = _path(rule, world.ids)
        if method == "HEAD":
            continue  # Flask answers HEAD with the GET view: only its routing differs
        if method == "GET" and signed_in:
            for name in QUERY_NAMES:
                cases += [Case(method, f"{base}?{name}={v}", f"query {name}") for v in PER_FIELD]
        # A write reads its query only through request.values, which the form fuzzes below.
        for value in SAMPLE if write else ODD_QUERY:
            query = "&".join(f"{name}={value}" for name in QUERY_NAMES)
            cases.append(Case(method, f"{base}?{query}", "query, every name", body, kind))
        if not write:
            continue
        urlencoded = "application/x-www-form-urlencoded"
        if signed_in and method == "POST":  # the one method a browser's form sends
            for name in FORM_NAMES:
                for value in PER_FIELD:
                    data = _form({**form, name: value})
                    cases.append(Case(method, base, f"form {name}={value[:24]}", data, urlencoded))
        for value in ODD_QUERY if signed_in else SAMPLE:  # the anonymous mostly meet a sign-in
            data = _form({**form, **dict.fromkeys(FORM_NAMES, value)})
            cases.append(Case(method, base, f"form, every field={value[:24]}", data, urlencoded))
        raw = "&".join(f"{name}=\xed\xa0\x80\xff" for name in FORM_NAMES)
        data = _form(form) + b"&" + raw.encode("latin-1")
        cases.append(Case(method, base, "form, raw invalid UTF-8", data, urlencoded))
        multipart = {**form, "body": "a\x00b", "file": (io.BytesIO(b"\x00"), "a\x00.txt")}
        cases.append(Case(method, base, "multipart with NUL", multipart, "multipart/form-data"))
        for what, raw_json in _json_bodies(world):
            if what.startswith(ANY_ROUTE_JSON) or (signed_in and api):
                cases.append(Case(method, base, f"json {what}", raw_json, "application/json"))
    return cases


def _send(client, token: str, case: Case):
    headers = {"X-CSRFToken": token} if case.method in WRITES else {}
    data = case.data
    if isinstance(data, dict):  # multipart: a fresh file object for every request
        data = {
            k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v
            for k, v in data.items()
        }
    # Buffered: a streamed answer (the exports) is read to its end and closed, as a server does.
    return client.open(
        case.url,
        method=case.method,
        data=data,
        content_type=case.content_type,
        headers=headers,
        buffered=True,
    )


def _describe(who: str, case: Case, outcome: str) -> str:
    url = case.url if len(case.url) <= 120 else f"{case.url[:100]}…({len(case.url)} chars)"
    return f"{who}: {case.method} {url} [{case.what}] -> {outcome}"


def _escaped(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    message = str(error).splitlines()[0][:140] if str(error) else ""
    return f"{type(error).__name__}: {message} at {frame.filename}:{frame.lineno}"


def _stopped_at_the_door(response) -> bool:
    """Refused before the view ran: the CSRF check, or sign-in asked for."""
    if response.status_code == 400 and b"Form expired" in response.get_data():
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 401 or location.startswith("/auth/login")


@pytest.mark.parametrize("rule", RULES, ids=[rule.endpoint for rule in RULES])
def test_odd_input_never_answers_5xx(world, rule, caplog):
    caplog.set_level(logging.ERROR)
    world.reset()
    failures: list[str] = []
    reached = 0  # the signed-in client's cases that got past CSRF and sign-in to the view
    for who, client, token in world.clients:
        for case in _cases(rule, world, who, token):
            caplog.clear()
            try:
                response = _send(client, token, case)
            except Exception as error:  # TESTING lets through what no error handler took
                failures.append(_describe(who, case, _escaped(error)))
                continue
            if response.status_code >= 500:
                logged = "; ".join(_escaped(r.exc_info[1]) for r in caplog.records if r.exc_info)
                failures.append(_describe(who, case, f"{response.status_code} {logged}"))
            elif who == "instructor" and not _stopped_at_the_door(response):
                reached += 1
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures)
    assert reached, "every case was stopped by CSRF or sign-in: the views were never fuzzed"
