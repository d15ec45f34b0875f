"""What tests build on: data made through the services (so tests get exactly what the app would
store), people signed in in browsers of their own, and what they send through forms and the API."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager

from bs4 import BeautifulSoup
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import Group, User
from app.services import accounts, groups
from app.services.access import viewer_for

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    session: Session,
    email: str | None = None,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    *,
    is_admin: bool = False,
) -> User:
    n = next(_counter)
    user = accounts.create_user(
        session, email or f"user{n}@example.org", name or f"User {n}", password, is_admin=is_admin
    )
    session.commit()
    return user


def make_annotation(
    session: Session,
    user: User,
    text,
    quote: str | None = None,
    *,
    body: str = "",
    tags: tuple[str, ...] = (),
    color=None,
    occurrence: int = 0,
    visibility=None,
    group=None,
):
    """An annotation on the ``occurrence``-th appearance of ``quote`` (None: the whole text)."""
    from app.models import Motivation, Visibility
    from app.services import annotations
    from app.services.access import viewer_for

    target = None
    if quote is not None:
        content = text.current_revision.content
        start = -1
        for _ in range(occurrence + 1):
            start = content.index(quote, start + 1)
        target = annotations.SpanTarget(exact=quote, start=start, end=start + len(quote))
    draft = annotations.Draft(
        text_slug=text.slug,
        motivation=Motivation.COMMENTING if body else Motivation.HIGHLIGHTING,
        body=body,
        tags=list(tags),
        color=color,
        target=target,
        visibility=visibility or (Visibility.GROUP if group else Visibility.PRIVATE),
        group_id=group.id if group else None,
    )
    annotation = annotations.create(session, viewer_for(session, user), draft)
    session.commit()
    return annotation


def dom(html: str) -> BeautifulSoup:
    """The page parsed as a browser would: tests query its elements, not its markup's spelling."""
    return BeautifulSoup(html, "html.parser")


def text_of(element) -> str:
    """An element's text as a reader sees it: its whitespace runs collapsed, its ends trimmed."""
    return " ".join(element.get_text().split())


# ---- people in browsers of their own, and what they send ----

SLUG = "carr-rapprochement"
PAGE = f"/texts/{SLUG}"
TEXT_URL = f"http://localhost{PAGE}"


class Browser:
    """One person with a browser of their own: a separate test client, signed in by the form.

    The sign-in happens on first use (scrypt is slow), so bystanders a test never drives cost
    only their account.
    """

    def __init__(self, app, user=None):
        self.app = app
        self.user = user
        self._client = None
        self._token = None

    def _open(self) -> None:
        if self._client is None:
            self._client = self.app.test_client()
            if self.user is not None:
                response = AuthActions(self._client).login(self.user.email)
                assert response.status_code == 302, "sign-in failed"
            # Signing in starts a fresh session, so the token is read afterwards, once.
            self._token = csrf_token(self._client, "/")

    @property
    def client(self):
        self._open()
        return self._client

    @property
    def token(self) -> str:
        self._open()
        return self._token

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def html(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.token, **data})

    def api(self, method: str, path: str, payload=None):
        return self.client.open(
            path, method=method, json=payload, headers={"X-CSRFToken": self.token}
        )


def sign_in(app, session, name: str, **kwargs) -> Browser:
    """A new account named ``name``, signed in in a browser of its own."""
    email = name.lower().replace(" ", ".") + "@example.org"
    return Browser(app, make_user(session, email, name, **kwargs))


def make_group(session, owner, *members, name: str = "Carr seminar") -> Group:
    """A group made and joined through the services (set-up, not the thing under test)."""
    group = groups.create(session, viewer_for(session, owner), name)
    session.commit()
    for member in members:
        groups.join(session, viewer_for(session, member), group.invite_code)
        session.commit()
    return group


def seminar_of_four(app, session) -> tuple[Browser, Browser, Browser, Browser, Group]:
    """Ida teaches Ann and Ben, each signed in; Cy, signed in too, reads alone."""
    names = ("Ida Teacher", "Ann Student", "Ben Student", "Cy Outsider")
    ida, ann, ben, cy = (sign_in(app, session, name) for name in names)
    return ida, ann, ben, cy, make_group(session, ida.user, ann.user, ben.user)


def fresh(session):
    """The test's session, done with its snapshot: what it reads next is what requests wrote."""
    session.commit()
    return session


def flashed(browser: Browser, response) -> str:
    """The page a refused form sends the reader back to (its flash messages included)."""
    assert response.status_code == 302
    return browser.html(response.headers["Location"])


def annotation_id(data: dict) -> int:
    """An annotation's number, from its IRI in the API's answer."""
    return int(data["id"].rsplit("/", 1)[1])


def api_note(browser, text, quote, body="", visibility="private", group=None, **extra) -> int:
    """Create a note through the API (as the page's JavaScript does) and return its id."""
    content = text.current_revision.content
    start = content.index(quote)
    payload = {
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": body}] if body else [],
        "target": {
            "source": TEXT_URL,
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ],
        },
        "scholia:visibility": visibility,
        **extra,
    }
    if group is not None:
        payload["scholia:group"] = group.id
    response = browser.api("POST", "/api/v1/annotations", payload)
    assert response.status_code == 201, response.get_json()
    return annotation_id(response.get_json())


def api_reply(browser, parent_id: int, body: str, **extra):
    """A reply as W3C has it: an annotation whose target is the parent annotation's IRI."""
    payload = {
        "type": "Annotation",
        "motivation": "replying",
        "body": [{"type": "TextualBody", "purpose": "replying", "value": body}],
        "target": f"http://localhost/api/v1/annotations/{parent_id}",
        **extra,
    }
    return browser.api("POST", "/api/v1/annotations", payload)


def form_reply(browser, parent_id: int, body: str) -> int:
    """Reply through the margin's form; the redirect names the new reply's anchor."""
    response = browser.post(f"/notes/{parent_id}/reply", body=body)
    assert response.status_code == 302, response.status_code
    return int(re.search(r"#a(\d+)$", response.headers["Location"]).group(1))


CSRF_TOKEN = 'meta[name="csrf-token"][content], input[name="csrf_token"][value]'


def csrf_token(client, path: str = "/") -> str:
    """The token a real browser would send: from the page's meta tag (signed-in pages) or a
    form's hidden field; a page with neither (an anonymous reader's) sends the sign-in form's."""
    for page in (path, "/auth/login"):
        for carrier in dom(client.get(page).get_data(as_text=True)).select(CSRF_TOKEN):
            token = carrier.get("content") if carrier.name == "meta" else carrier.get("value")
            if token:
                return token
    raise AssertionError(f"neither {path} nor the sign-in page carries a CSRF token")


class AuthActions:
    """Register, sign in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def register(self, email="reader@example.org", name="Reader", password=DEFAULT_PASSWORD, **kw):
        data = {
            "display_name": name,
            "email": email,
            "password": password,
            "confirm": kw.pop("confirm", password),
            "csrf_token": csrf_token(self.client, "/auth/register"),
        }
        return self.client.post("/auth/register", data=data, **kw)

    def login(self, email="reader@example.org", password=DEFAULT_PASSWORD, **kw):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client)}
        return self.client.post("/auth/login", data=data, **kw)

    def logout(self, **kw):
        return self.client.post("/auth/logout", data={"csrf_token": csrf_token(self.client)}, **kw)


@contextmanager
def recorded_queries(engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block, for query-count assertions."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
