"""Concurrent writes through gunicorn, with and without the server being SIGKILLed mid-run.

32 clients create annotations, reply to each other and react: a fixed number of writes each, or
for a bounded time while the server is killed and restarted. Creates and
replies carry an Idempotency-Key and are retried with the same key after any failure, as a
careful client would. Afterwards every acknowledged (2xx) write must be in the database exactly
once, the database must pass its integrity checks, and without kills nothing may answer 5xx.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app.models import Annotation, IdempotencyKey, Reaction
from app.services import accounts, groups
from app.services.access import viewer_for
from tests.conftest import TEST_PASSWORD
from tests.integration.harness import CLIENTS, RUN_TIMEOUT, Client, start_server

pytestmark = pytest.mark.slow

LOAD_SECONDS = 12.0  # long enough for three kills and restarts, each with writes between
OPERATIONS = 8  # per client without kills: a count, not a rate, so a busy machine is only slower
KILLS = 3
TEXT_PATH = "/texts/carr-rapprochement"  # under the server's own address: another host is refused
QUOTES = ["Krasin", "Arcos", "Rapallo", "Litvinov", "Genoa", "Reichswehr", "Radek", "Chicherin"]


@pytest.fixture
def seminar(served_database):
    """Accounts for every client, all in one group, so they can answer each other."""
    engine = create_engine(served_database)
    try:
        with Session(engine) as session:
            users = [
                accounts.create_user(
                    session, f"writer{n}@example.org", f"Writer {n}", TEST_PASSWORD
                )
                for n in range(CLIENTS)
            ]
            session.commit()
            group = groups.create(session, viewer_for(session, users[0]), "Load")
            session.commit()
            for user in users[1:]:
                groups.join(session, viewer_for(session, user), group.invite_code)
                session.commit()
            return group.id
    finally:
        engine.dispose()


@dataclass
class Writer:
    client: Client
    group_id: int
    rng: random.Random
    shared: list[int]  # annotation ids everyone may answer (grows as writes are acknowledged)
    acknowledged: dict[str, int] = field(default_factory=dict)  # idempotency key -> id
    reactions: set[tuple[int, str]] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    token: str = ""
    attempted: int = 0  # creates and replies sent, each until it was answered or time ran out

    def send(self, method, path, payload=None, key=None, deadline=0.0) -> tuple[int, str] | None:
        """One write, retried (same key) through refused connections and restarts."""
        headers = {"X-CSRFToken": self.token}
        if key:
            headers["Idempotency-Key"] = key
        while time.monotonic() < deadline:
            try:
                status, body = self.client.request(method, path, json_body=payload, headers=headers)
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)  # the server is down, restarting, or dropped the connection
                continue
            self.statuses[status] += 1
            if status < 500:
                return status, body
            time.sleep(0.2)
        return None

    def run(self, deadline: float, operations: int | None) -> None:
        done = 0
        while time.monotonic() < deadline and (operations is None or done < operations):
            done += 1
            roll = self.rng.random()
            if roll < 0.5 or not self.shared:
                key = str(uuid.uuid4())
                payload = {
                    "type": "Annotation",
                    "motivation": "commenting",
                    "body": [{"type": "TextualBody", "value": f"load note {key}"}],
                    "target": {
                        "source": self.client.base_url + TEXT_PATH,
                        "selector": [
                            {"type": "TextQuoteSelector", "exact": self.rng.choice(QUOTES)}
                        ],
                    },
                    "scholia:visibility": "group",
                    "scholia:group": self.group_id,
                }
                self.attempted += 1
                answer = self.send("POST", "/api/v1/annotations", payload, key, deadline)
                if answer and answer[0] == 201:
                    annotation_id = int(json.loads(answer[1])["id"].rsplit("/", 1)[1])
                    self.acknowledged[key] = annotation_id
                    self.shared.append(annotation_id)
            elif roll < 0.8:
                key = str(uuid.uuid4())
                parent = self.rng.choice(self.shared)
                payload = {
                    "type": "Annotation",
                    "motivation": "replying",
                    "target": f"http://localhost/api/v1/annotations/{parent}",
                    "body": [{"type": "TextualBody", "value": f"load reply {key}"}],
                }
                self.attempted += 1
                answer = self.send("POST", "/api/v1/annotations", payload, key, deadline)
                if answer and answer[0] == 201:
                    self.acknowledged[key] = int(json.loads(answer[1])["id"].rsplit("/", 1)[1])
            else:
                target, kind = self.rng.choice(self.shared), self.rng.choice(["agree", "question"])
                answer = self.send(
                    "PUT", f"/api/v1/annotations/{target}/reactions/{kind}", None, None, deadline
                )
                if answer and answer[0] == 204:
                    self.reactions.add((target, kind))


def _drive(server_url: str, group_id: int, chaos=None, operations=None) -> list[Writer]:
    """Every client writes at once: ``operations`` writes each, or until the load time is up."""
    shared: list[int] = []
    writers = []
    for n in range(CLIENTS):
        client = Client(server_url, n)
        client.sign_in(f"writer{n}@example.org", TEST_PASSWORD)
        writer = Writer(client, group_id, random.Random(n), shared)
        writer.token = client.csrf_token("/")
        writers.append(writer)
    deadline = time.monotonic() + (LOAD_SECONDS if operations is None else RUN_TIMEOUT / 2)
    threads = [
        threading.Thread(target=w.run, args=(deadline, operations), daemon=True) for w in writers
    ]
    for thread in threads:
        thread.start()
    if chaos:
        chaos(deadline)
    for thread in threads:
        thread.join(timeout=RUN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "writers still busy"
    return writers


def _check_database(url: str, writers: list[Writer]) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            else:  # PostgreSQL: every index is usable and every reference resolves
                assert (
                    conn.execute(
                        text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
                    ).scalar()
                    == 0
                )
            acknowledged = {k: v for w in writers for k, v in w.acknowledged.items()}
            keys = dict(
                conn.execute(select(IdempotencyKey.key, IdempotencyKey.annotation_id)).all()
            )
            # Every acknowledged write is there, under its key, exactly once.
            for key, annotation_id in acknowledged.items():
                assert keys.get(key) == annotation_id, key
            bodies = Counter(
                b for (b,) in conn.execute(select(Annotation.body_source)) if b.startswith("load ")
            )
            assert all(n == 1 for n in bodies.values()), [b for b, n in bodies.items() if n > 1]
            for key in acknowledged:
                assert bodies[f"load note {key}"] + bodies[f"load reply {key}"] == 1, key
            # Each key made at most one annotation; none was made without its key.
            assert len(keys) == sum(bodies.values())
            reactions = Counter(
                conn.execute(select(Reaction.annotation_id, Reaction.kind, Reaction.user_id)).all()
            )
            assert all(n == 1 for n in reactions.values())
            for w in writers:
                for annotation_id, kind in w.reactions:
                    assert (
                        conn.execute(
                            select(func.count())
                            .select_from(Reaction)
                            .where(Reaction.annotation_id == annotation_id, Reaction.kind == kind)
                        ).scalar()
                        >= 1
                    )
    finally:
        engine.dispose()


def test_concurrent_writes_are_all_kept_exactly_once(served_database, seminar, tmp_path):
    server = start_server(served_database, tmp_path)
    try:
        writers = _drive(server.base_url, seminar, operations=OPERATIONS)
    finally:
        server.stop()
    statuses = sum((w.statuses for w in writers), Counter())
    assert not {s: n for s, n in statuses.items() if s >= 500}, statuses
    # Every create and reply was answered 201: none refused, none left unanswered.
    assert sum(len(w.acknowledged) for w in writers) == sum(w.attempted for w in writers), statuses
    assert sum(w.attempted for w in writers) >= CLIENTS * OPERATIONS // 2, statuses
    log = server.log()
    assert "Traceback" not in log and "database is locked" not in log, log
    _check_database(served_database, writers)


def test_writes_survive_the_server_being_killed(served_database, seminar, tmp_path):
    current = {"server": start_server(served_database, tmp_path)}
    port = int(current["server"].base_url.rsplit(":", 1)[1])

    def chaos(deadline: float) -> None:
        for _ in range(KILLS):
            time.sleep(LOAD_SECONDS / (KILLS + 1))
            current["server"].kill()
            time.sleep(0.5)
            current["server"] = start_server(served_database, tmp_path, port)

    try:
        writers = _drive(current["server"].base_url, seminar, chaos)
    finally:
        current["server"].stop()
    assert sum(len(w.acknowledged) for w in writers) >= CLIENTS, "too few writes got through"
    _check_database(served_database, writers)
