"""How every benchmark starts Scholia and talks to it: gunicorn as in production, on a free
port, and clients that sign in through the real form."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

from bench import generate

ROOT = Path(__file__).resolve().parent.parent


WORK = generate.DATA / "work"


BIN = Path(sys.executable).parent


STARTUP_TIMEOUT = 60.0


# One browser: the same User-Agent signs in and sends the load (Flask-Login's session protection
# would otherwise take each request for another browser and rewrite the session cookie).
USER_AGENT = "scholia-bench"


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


CSRF_FIELD = re.compile(r'<input[^>]* name="csrf_token"[^>]* value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's configuration, on a free port, logging to a file."""

    def __init__(self, module: str, database_url: str | None, workers: int, label: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = WORK / f"{label}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOLIA_")}
        env["SECRET_KEY"] = generate.SECRET_KEY
        # A few bench accounts write hundreds of notes a second: no write quota.
        env["SCHOLIA_WRITES_PER_MINUTE"] = env["SCHOLIA_WRITES_PER_DAY"] = "0"
        if database_url:
            env["DATABASE_URL"] = database_url
        command = [
            str(BIN / "gunicorn"),
            "-c", str(ROOT / "gunicorn.conf.py"),
            "-w", str(workers),
            "-b", f"127.0.0.1:{self.port}",
            module,
        ]  # fmt: skip
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            if self.log().count("Booting worker") >= self.workers:
                with contextlib.suppress(OSError):
                    status, _, _ = fetch(self.base, "GET", "/", timeout=10)
                    if status == 200:
                        return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start in {STARTUP_TIMEOUT} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """Quick shutdown (SIGINT): queued requests of a slow page are not worth waiting for."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def server_errors(self) -> int:
        """5xx answers in the access log, and tracebacks, before the shutdown began.

        (A quick shutdown interrupts the requests still queued, with a traceback each.)
        """
        log = self.log().split("Handling signal", 1)[0]
        return len(re.findall(r'HTTP/1\.[01]" 5\d\d ', log)) + log.count("Traceback")


def fetch(
    base: str,
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 60,
) -> tuple[int, bytes, float]:
    """Status, body and seconds taken."""
    host = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    finally:
        conn.close()


@dataclass
class Session:
    cookie: str
    csrf: str
    cookie_value: str


def sign_in(base: str, email: str, password: str) -> Session:
    """Through the real sign-in form, as a browser does; then the CSRF token pages carry."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base + "/auth/login", timeout=30) as response:
        token = CSRF_FIELD.search(response.read().decode())
    if token is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": email, "password": password}
    ).encode()
    with opener.open(base + "/auth/login", data=form, timeout=30) as response:
        response.read()
    with opener.open(base + "/", timeout=30) as response:
        page = response.read().decode()
    signed_in = "Sign out" in page
    meta = CSRF_META.search(page)
    cookie = next((c for c in jar if c.name == "session"), None)
    if not signed_in or meta is None or cookie is None:
        raise RuntimeError(f"could not sign in as {email}")
    return Session(f"session={cookie.value}", meta.group(1), cookie.value)
