#!/usr/bin/env python3
"""The project's command list, runnable with nothing but Python 3.11+.

    python3 dev.py serve   install, migrate, load seeds/, serve at http://127.0.0.1:5000
    python3 dev.py test    install test tools, lint, run the whole suite (pytest args pass on)
    python3 dev.py lint    ruff check and format check only
    python3 dev.py bench   load benchmark against a hello-world baseline (bench/README.md)

Each command first makes ./.venv and installs the requirements into it (again only when a
requirements file changed), so a fresh clone needs no other step.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CHROMIUM = Path("/usr/bin/chromium")


def run(*args: str | Path, env: dict | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_venv(requirements: str) -> None:
    # A .venv without pip is what a run without ensurepip left half-made: make it again.
    has_pip = (BIN / "python").exists() and any(VENV.glob("lib/python*/site-packages/pip"))
    if not has_pip:
        try:
            import ensurepip  # noqa: F401 (Debian ships it apart, in python3-venv)
        except ImportError:
            sys.exit(
                "error: this Python cannot make a virtual environment (no ensurepip).\n"
                "On Debian or Ubuntu: sudo apt-get install python3-venv, then run this again."
            )
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    files = sorted(ROOT.glob("requirements*.txt"))
    digest = hashlib.sha256(
        b"".join(f.read_bytes() for f in files) + requirements.encode()
    ).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-r", ROOT / requirements)
    stamp.write_text(digest)


def flask(*args: str) -> None:
    run(BIN / "flask", "--app", "wsgi", *args)


def serve(extra: list[str]) -> None:
    ensure_venv("requirements.txt")
    flask("db", "upgrade")
    flask("seed")
    bind = os.environ.get("SCHOLIA_BIND", "127.0.0.1:5000")
    print(f"\nScholia is at http://{bind}/  (Ctrl+C stops it)\n", flush=True)
    # Workers, bind address and logging come from gunicorn.conf.py.
    gunicorn = str(BIN / "gunicorn")
    os.execv(gunicorn, [gunicorn, *extra, "wsgi:app"])  # noqa: S606 (become the server)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; as root on Debian we can install it ourselves."""
    if CHROMIUM.exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run("apt-get", "update", "-qq", env=env)
        run("apt-get", "install", "-y", "-qq", "chromium", env=env)
    else:
        print(
            "note: /usr/bin/chromium is missing, so browser tests will be skipped; "
            "install it with: sudo apt-get install chromium",
            flush=True,
        )


def lint(_extra: list[str] | None = None) -> None:
    ensure_venv("requirements-dev.txt")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")


def test(extra: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    ensure_chromium()
    lint()
    with in_memory_temp() as env:
        run(BIN / "python", "-m", "pytest", *parallel(extra), *extra, env=env)


@contextlib.contextmanager
def in_memory_temp() -> Iterator[dict]:
    """The environment with TMPDIR in memory (a fresh directory in /dev/shm) where there is
    one: the tests' databases and Chromium's profiles and shared memory live there, and on a
    disk the kernel's writeback of them cost a 2-core machine a seventh of the suite's time
    (6:44 against 5:50). Nothing tested needs a disk: a killed server leaves its writes in the
    page cache either way."""
    env = dict(os.environ)
    shm = "/dev/shm"  # noqa: S108 (a private directory of our own is made in it)
    if "TMPDIR" in env or not os.path.isdir(shm) or not os.access(shm, os.W_OK):
        yield env
        return
    free = os.statvfs(shm)
    if free.f_bavail * free.f_frsize < 2 * 1024**3:  # a container's 64 MB would fill up
        yield env
        return
    temp = tempfile.mkdtemp(prefix="scholia-tests-", dir=shm)
    # Others may pass through, not list it (as through /tmp): the PostgreSQL disk-full test runs
    # a cluster as the postgres user in a folder of its own made here.
    os.chmod(temp, 0o711)  # noqa: S103 (pass through only, no listing)
    try:
        yield {**env, "TMPDIR": temp}
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def parallel(extra: list[str]) -> list[str]:
    """Spread the suite over the cores (each worker has its own database), unless the
    caller chose: `-n 0` runs it in one process."""
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in extra):
        return []
    # One more worker than cores: a third of the suite waits (browsers, servers, live polls).
    workers = min(4, (os.cpu_count() or 1) + 1)
    return ["-n", str(workers), "--dist", "worksteal"] if workers > 1 else []


def ensure_wrk() -> None:
    """The load generator; without it (and without root) bench/run.py uses a Python client."""
    if shutil.which("wrk"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run("apt-get", "update", "-qq", env=env)
            run("apt-get", "install", "-y", "-qq", "wrk", env=env)
        except subprocess.CalledProcessError:
            print("note: could not install wrk; using the slower Python load client", flush=True)
    else:
        print("note: wrk is missing (sudo apt-get install wrk); using a Python client", flush=True)


def bench(extra: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    ensure_chromium()
    ensure_wrk()
    run(BIN / "python", "-m", "bench.run", *extra)


COMMANDS = {"serve": serve, "test": test, "lint": lint, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
