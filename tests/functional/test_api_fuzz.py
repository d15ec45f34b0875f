"""Schemathesis fuzzes every /api/v1 operation from the OpenAPI document, as a reader with a
personal access token (``Authorization: Bearer``).

Two tests: each operation alone (examples, then generated requests, valid and invalid), and
sequences that follow the document's links (create, then read, replace, edit, delete, restore,
react to and flag what was created). Every response must be no server error, of a documented
status, media type and headers, with a body the document's schema allows; in sequences, what was
made can be read, and what was deleted cannot (until it is restored).

Bounded for CI: a few dozen examples per operation, derandomized (the same requests every run).
Locally, a longer hunt: ``SCHOLIA_FUZZ_EXAMPLES=500 pytest tests/functional/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
import re
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.specs.openapi.checks import ensure_resource_availability, unsupported_method
from sqlalchemy import text as sql

from app.api.openapi import document
from app.services import previews, tokens
from tests import factories
from tests.conftest import make_test_app
from tests.factories import SLUG
from tests.functional.test_openapi import CHECKS as CONFORMANCE

# And a method no operation takes is a 405 naming those it does (Allow).
CHECKS = [*CONFORMANCE, unsupported_method]

EXAMPLES = int(os.environ.get("SCHOLIA_FUZZ_EXAMPLES", "25"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz_app(migrated_database, tmp_path, app, seeded):
    """The app with no write quota (the fuzzer's requests must reach the code behind a route,
    not a 429), on the test's tables (emptied after it) with the Carr excerpt in them."""
    return make_test_app(
        migrated_database, tmp_path / "fuzz", WRITES_PER_MINUTE=0, WRITES_PER_DAY=0
    )


@pytest.fixture
def api_auth(session) -> dict[str, dict[str, str]]:
    """How the fuzzer's requests authenticate, as the transport's arguments (headers, cookies):
    a reader's personal access token, as scripts send it (no cookie, no CSRF token)."""
    user = factories.make_user(session, "fuzzer@example.org", "Fuzzer")
    _, secret = tokens.create(session, user.id, "Fuzzing")
    session.commit()
    return {"headers": {"Authorization": f"Bearer {secret}"}}


@pytest.fixture
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


# A text this server has: generated targets name random slugs, so most would be a 404 and
# nothing would ever be created for the links to follow. Half of them are pointed at it.
TEXT_IRI = re.compile(r"/texts/[a-z0-9-]+")


def aim_at_the_text(case) -> None:
    body = case.body
    if not isinstance(body, dict) or zlib.crc32(repr(body).encode()) % 2:
        return
    target = body.get("target")
    if isinstance(target, str):
        body["target"] = TEXT_IRI.sub(f"/texts/{SLUG}", target, count=1)
    elif isinstance(target, dict) and isinstance(target.get("source"), str):
        target["source"] = TEXT_IRI.sub(f"/texts/{SLUG}", target["source"], count=1)


OPERATIONS = [
    pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
    for path, item in document()["paths"].items()
    for method in item
    if method != "parameters"
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_as_documented(api_schema, api_auth, method, path):
    """The operation's examples, then the coverage phase's boundary and invalid values of each
    parameter and property, then generated requests (valid and invalid), as the CLI runs them."""

    def answers_as_documented(case):
        aim_at_the_text(case)
        case.call_and_validate(**api_auth, checks=CHECKS)

    config = HypothesisTestConfig(
        project=api_schema.config,
        modes=list(HypothesisTestMode),
        settings=FUZZ_SETTINGS,
        explicit_settings=FUZZ_SETTINGS,
    )
    create_test(
        operation=api_schema[path][method], test_func=answers_as_documented, config=config
    )()


def forget_annotations(engine) -> None:
    """Every annotation (with what hangs on it) and import, and the workers' preview counts."""
    with engine.begin() as conn:
        conn.execute(sql("UPDATE annotation SET parent_id = NULL, root_id = NULL"))
        conn.execute(sql("DELETE FROM annotation"))
        conn.execute(sql("DELETE FROM annotation_import"))
    previews._recent.clear()


def test_sequences_along_the_links_answer_as_documented(api_schema, api_auth, engine):
    succeeded: set[tuple[str, str]] = set()
    # Annotations deleted and not restored since: schemathesis's own use-after-free check
    # takes a restore (POST …/restore) for a use of what was deleted, and knows nothing of the
    # same annotation at its two addresses (/annotations/N, /texts/<slug>/annotations/N).
    deleted: set[int] = set()
    # The document's links only: schemathesis would also guess some, and feeds an annotation's
    # IRI (its "id") where the path takes its number.
    api_schema.config.phases.stateful.inference.algorithms = []

    class Workflow(api_schema.as_state_machine()):
        def setup(self):
            # Each sequence starts from the same state: Hypothesis replays a sequence to shrink
            # or check it, and one whose create now meets what an earlier one left (a flag
            # waiting, an id already imported, a rate used up) draws differently, which it
            # reports as a flaky strategy instead of a finding.
            forget_annotations(engine)
            deleted.clear()

        def before_call(self, case):
            aim_at_the_text(case)

        def get_call_kwargs(self, case):
            return api_auth

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            done = response.status_code < 300
            if done:
                succeeded.add((case.method, case.path))
            # And what was made can be read.
            case.validate_response(
                response,
                checks=[*CHECKS, ensure_resource_availability],
                headers=api_auth["headers"],
                recorder=self.recorder,
            )
            # What was deleted cannot be read or changed until it is restored (but OPTIONS,
            # which Flask answers for the route whatever the annotation, still says what it
            # takes; and DELETE again may answer as the first did).
            number = (case.path_parameters or {}).get("annotation_id")
            restore = case.path.endswith("/restore")
            if number in deleted and not restore and case.method not in ("OPTIONS", "DELETE"):
                assert response.status_code >= 400, f"{case.method} {case.formatted_path}"
            if done and case.method == "DELETE" and case.path.endswith("{annotation_id}"):
                deleted.add(number)
            elif done and restore:
                deleted.discard(number)

    Workflow.run(settings=settings(FUZZ_SETTINGS, max_examples=EXAMPLES, stateful_step_count=10))
    # The links were followed: something was made, then read, changed or deleted through them.
    one = "/api/v1/annotations/{annotation_id}"
    assert ("POST", "/api/v1/annotations") in succeeded
    assert {("GET", one), ("PUT", one), ("PATCH", one), ("DELETE", one)} & succeeded
