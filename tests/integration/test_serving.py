"""Real gunicorn with several workers, driven by many clients at once, as a deployment runs.

The database is a fresh SQLite file (migrated and seeded with the real ``flask`` commands), or
the PostgreSQL database the rest of the suite uses when ``SCHOLIA_TEST_DATABASE_URL`` names one.
Each client registers its own account through the real form, signs out and signs in again,
while the others read the library and a text. Nothing may fail: no 5xx, no lost or doubled
account, no "database is locked" and no traceback in the server's log.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from app.models import User
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
CLIENTS = 32
READ_SECONDS = 6.0  # how long clients keep reading; account flows finish even if later
REQUEST_TIMEOUT = 30.0
STARTUP_TIMEOUT = 30.0
RUN_TIMEOUT = 120.0  # hard bound on the whole load phase
TEXT_PATH = "/texts/carr-rapprochement"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, runtime_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, SECRET_KEY="integration-test-secret-key")
    # gunicorn 25+ opens a control socket in $XDG_RUNTIME_DIR (else ~/.gunicorn): one per server.
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    env.pop("SCHOLIA_PROXY_COUNT", None)
    env.pop("SCHOLIA_SEEDS_DIR", None)
    return env


def _flask(database_url: str, runtime_dir: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=_server_env(database_url, runtime_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


@pytest.fixture
def served_database(request, database_url, tmp_path) -> str:
    """A migrated, seeded database with no accounts, for the server to use."""
    if database_url.startswith("sqlite"):
        url = "sqlite:///" + str(tmp_path / "served.sqlite3")
        _flask(url, tmp_path, "db", "upgrade")
    else:
        request.getfixturevalue("app")  # migrated once per session, every table emptied
        url = database_url
    _flask(url, tmp_path, "seed")
    return url


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        booted = server.log().count("Booting worker with pid")
        if booted >= WORKERS:
            try:
                url = server.base_url + "/"  # always http://127.0.0.1:port
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not serve within {STARTUP_TIMEOUT}s:\n{server.log()}")


@pytest.fixture
def server(served_database, tmp_path):
    port = _free_port()
    log_path = tmp_path / "gunicorn.stderr"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=_server_env(served_database, tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller: a 302 after a form is the answer we check."""

    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Client:
    """One browser: its own cookie jar, every response recorded."""

    base_url: str
    number: int
    responses: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    @property
    def email(self) -> str:
        return f"reader{self.number}@example.org"

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = self.base_url + path  # always http://127.0.0.1:port
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                status, text = error.code, error.read().decode(errors="replace")
        self.responses.append((method, path, status))
        return status, text

    def csrf_token(self, path: str) -> str:
        status, html = self.request("GET", path)
        match = CSRF_META.search(html)
        assert status == 200 and match, f"GET {path}: {status}, no csrf-token meta tag"
        return match.group(1)

    def read_until(self, deadline: float, rng: random.Random) -> None:
        while time.monotonic() < deadline:
            self.request("GET", rng.choice(["/", TEXT_PATH]))

    def register_sign_out_sign_in(self) -> None:
        token = self.csrf_token("/auth/register")
        self.request(
            "POST",
            "/auth/register",
            {
                "display_name": f"Reader {self.number}",
                "email": self.email,
                "password": TEST_PASSWORD,
                "confirm": TEST_PASSWORD,
                "csrf_token": token,
            },
        )
        self.request("POST", "/auth/logout", {"csrf_token": self.csrf_token("/")})
        token = self.csrf_token("/auth/login")
        self.request(
            "POST",
            "/auth/login",
            {"email": self.email, "password": TEST_PASSWORD, "csrf_token": token},
        )


def _drive(client: Client, start: threading.Barrier, errors: list[str]) -> None:
    rng = random.Random(client.number)
    try:
        start.wait(timeout=STARTUP_TIMEOUT)
        began = time.monotonic()
        # Read for a while first, so sign-ups overlap with other clients' reading and sign-ins.
        client.read_until(began + rng.uniform(0, READ_SECONDS / 2), rng)
        client.register_sign_out_sign_in()
        client.read_until(began + READ_SECONDS, rng)
    except Exception as error:
        errors.append(f"client {client.number}: {type(error).__name__}: {error}")


def test_many_clients_on_several_workers_register_sign_in_and_read(server, served_database):
    clients = [Client(server.base_url, n) for n in range(1, CLIENTS + 1)]
    errors: list[str] = []
    start = threading.Barrier(CLIENTS)
    threads = [
        threading.Thread(target=_drive, args=(c, start, errors), daemon=True) for c in clients
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + RUN_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"clients still busy after {RUN_TIMEOUT}s"
    server.stop()  # flush and close the log before reading it
    log = server.log()

    responses = [r for c in clients for r in c.responses]
    assert not errors, "\n".join(errors)
    server_errors = Counter(r for r in responses if r[2] >= 500)
    assert not server_errors, f"5xx responses: {dict(server_errors)}"

    def statuses(method: str, path: str) -> Counter:
        return Counter(s for m, p, s in responses if (m, p) == (method, path))

    assert statuses("POST", "/auth/register") == {302: CLIENTS}
    assert statuses("POST", "/auth/logout") == {302: CLIENTS}
    assert statuses("POST", "/auth/login") == {302: CLIENTS}
    assert set(statuses("GET", "/")) == {200}
    assert set(statuses("GET", TEXT_PATH)) == {200}
    assert len(responses) >= CLIENTS * 8, f"only {len(responses)} requests were made"

    engine = create_engine(served_database)
    try:
        with engine.connect() as conn:
            counts = dict(conn.execute(select(User.email, func.count()).group_by(User.email)).all())
    finally:
        engine.dispose()
    assert counts == {c.email: 1 for c in clients}

    assert "database is locked" not in log
    assert "Traceback" not in log, log


def test_simultaneous_sign_ups_for_one_address_make_one_account(server, served_database):
    """The unique email holds under a race on every database: one 302, the rest a clear 409."""
    rounds, racers = 4, 8
    outcomes: Counter = Counter()
    for round_number in range(rounds):
        clients = [Client(server.base_url, 1000 + round_number * racers + n) for n in range(racers)]
        tokens = [c.csrf_token("/auth/register") for c in clients]
        email = f"race{round_number}@example.org"
        start = threading.Barrier(racers)

        def sign_up(client: Client, token: str, email: str = email, start=start) -> None:
            start.wait(timeout=STARTUP_TIMEOUT)
            status, _ = client.request(
                "POST",
                "/auth/register",
                {
                    "display_name": "Racer",
                    "email": email,
                    "password": TEST_PASSWORD,
                    "confirm": TEST_PASSWORD,
                    "csrf_token": token,
                },
            )
            outcomes[status] += 1

        threads = [
            threading.Thread(target=sign_up, args=pair)
            for pair in zip(clients, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=RUN_TIMEOUT)
    assert outcomes == {302: rounds, 409: rounds * (racers - 1)}
    engine = create_engine(served_database)
    try:
        with engine.connect() as conn:
            racers_stored = conn.execute(
                select(func.count()).select_from(User).where(User.email.like("race%"))
            ).scalar()
    finally:
        engine.dispose()
    assert racers_stored == rounds
