"""Real gunicorn on loopback and HTTP clients with their own cookies: what integration tests drive.

The database is a fresh SQLite file (migrated and seeded with the real ``flask`` commands), or
the PostgreSQL database the rest of the suite uses when ``SCHOLIA_TEST_DATABASE_URL`` names one.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
CLIENTS = 32
READS = 12  # pages each client reads, some before its sign-up and the rest after
REQUEST_TIMEOUT = 30.0
STARTUP_TIMEOUT = 30.0
RUN_TIMEOUT = 120.0  # hard bound on the whole load phase
TEXT_PATH = "/texts/carr-rapprochement"
# A signed-in page's meta tag, or a form's hidden field (anonymous pages have no meta tag).
CSRF_TOKEN = re.compile(
    r'<meta name="csrf-token" content="([^"]+)">|<input[^>]* name="csrf_token"[^>]* value="([^"]+)"'
)


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

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash or power cut would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


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


def start_server(database_url: str, run_dir: Path, port: int | None = None) -> Server:
    """gunicorn in a process group of its own (so a test can SIGKILL all of it), once serving."""
    port = port or _free_port()
    log_path = run_dir / f"gunicorn-{port}-{time.monotonic_ns()}.log"
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
            env=_server_env(database_url, run_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def server(served_database, tmp_path):
    server = start_server(served_database, tmp_path)
    try:
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

    def request(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        *,
        json_body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """Send a form (``data``) or JSON (``json_body``); connection failures raise OSError."""
        headers = dict(headers or {})
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url + path  # always http://127.0.0.1:port
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
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
        match = CSRF_TOKEN.search(html)
        assert status == 200 and match, f"GET {path}: {status}, no CSRF token"
        return match.group(1) or match.group(2)

    def read(self, pages: int, rng: random.Random) -> None:
        for _ in range(pages):
            self.request("GET", rng.choice(["/", TEXT_PATH]))

    def sign_in(self, email: str, password: str) -> None:
        token = self.csrf_token("/auth/login")
        status, _ = self.request(
            "POST", "/auth/login", {"email": email, "password": password, "csrf_token": token}
        )
        assert status == 302, f"sign-in as {email}: {status}"

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
