"""Real gunicorn with several workers, driven by many clients at once, as a deployment runs.

Each client registers its own account through the real form, signs out and signs in again,
while the others read the library and a text. Nothing may fail: no 5xx, no lost or doubled
account, no "database is locked" and no traceback in the server's log.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select

from app.models import User
from tests.conftest import TEST_PASSWORD
from tests.integration.harness import (
    CLIENTS,
    READS,
    RUN_TIMEOUT,
    STARTUP_TIMEOUT,
    TEXT_PATH,
    Client,
    served_database,
    server,
)

pytestmark = pytest.mark.slow
__all__ = ["served_database", "server"]  # fixtures used by the tests below


def _drive(client: Client, start: threading.Barrier, errors: list[str]) -> None:
    rng = random.Random(client.number)
    try:
        start.wait(timeout=STARTUP_TIMEOUT)
        # Some reading first, so sign-ups overlap with other clients' reading and sign-ins.
        first = rng.randint(0, READS)
        client.read(first, rng)
        client.register_sign_out_sign_in()
        client.read(READS - first, rng)
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
    reads = statuses("GET", "/").total() + statuses("GET", TEXT_PATH).total()
    assert reads >= CLIENTS * READS  # (the account flows read "/" for its token too)

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
