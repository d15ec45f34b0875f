"""The OpenAPI document at /api/v1/openapi.json is a valid OpenAPI 3.1 document, and true.

True: every /api/v1 response of a tour of the API as clients use it (create, read, list, page,
edit, delete, restore, react, flag, hide, preview, the same inside a text's container, search,
export, import, and a refusal of each kind) is checked
against it as it is answered: its operation and status are documented, and its media type,
headers and body are the ones documented for that status. The tour calls every operation the
document describes, so an operation nobody exercises fails here too.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import NEW_NOTE, document
from app.api.protocol import PREFER_IRIS as IRIS
from app.api.protocol import PREFER_MINIMAL as MINIMAL
from app.services.annotations.rules import MAX_BODY_CHARS
from app.services.previews import PER_MINUTE
from tests import factories
from tests.conftest import make_test_app
from tests.factories import SLUG, TEXT_URL, annotation_id, api_note, api_reply

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ANNOTATIONS = "/api/v1/annotations"
CONTAINER = f"/api/v1/texts/{SLUG}/annotations/"


def conforms(contract, response) -> tuple[str, str] | None:
    """Check one response against the document; the operation it answered (method, path)."""
    request = response.request
    if not request.path.startswith("/api/v1/"):
        return None
    found = next(
        ((t, match) for t, pattern in TEMPLATES if (match := pattern.fullmatch(request.path))),
        None,
    )
    assert found is not None, f"{request.path} is not in the document"
    template, match = found
    operations = contract[template]
    assert request.method in operations, f"{request.method} {template} is not in the document"
    case = operations[request.method].Case(
        path_parameters=match.groupdict(), query=dict(request.args) or None
    )
    # A 503 is documented (the database cannot take writes): not a crash.
    case.validate_response(response, checks=CHECKS[1:] if response.status_code == 503 else CHECKS)
    return request.method, template


# Each documented path as a pattern; literal paths first (they win over a parameter).
TEMPLATES = sorted(
    (
        (template, re.compile(re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))))
        for template in document()["paths"]
    ),
    key=lambda pair: pair[0].count("{"),
)


@pytest.fixture
def contract(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def called(app, contract) -> set[tuple[str, str]]:
    """Every test client made from here on checks each /api/v1 response it gets; the set
    collects the operations (method, path template) they answered."""
    seen: set[tuple[str, str]] = set()

    class CheckedClient(FlaskClient):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            operation = conforms(contract, response)
            if operation is not None:
                seen.add(operation)
            return response

    app.test_client_class = CheckedClient
    return seen


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served == document()
    assert served["openapi"].startswith("3.1.")
    validate(served)  # the OpenAPI 3.1 meta-schema, references resolved, ids unique
    schemathesis.openapi.from_dict(served).validate()
    # Its ETag spares clients the download.
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_every_route_under_api_v1_is_documented(app):
    documented = document()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        assert path in documented, f"{rule.rule} is served but not in the document"
        for method in rule.methods:
            assert method.lower() in documented[path], f"{method} {rule.rule} is not documented"


def test_a_response_outside_the_document_is_caught(client, contract):
    """The check is not vacuous: a body, a status or a media type the document does not give
    that operation fails it."""
    good = client.get("/api/v1/ns")
    conforms(contract, good)
    for body, status, mimetype in (
        (b'{"scholia:color": 1}', 200, "application/json"),
        (good.data, 201, "application/json"),
        (good.data, 200, "text/html"),
    ):
        bad = client.get("/api/v1/ns")
        bad.set_data(body)
        bad.status_code, bad.mimetype = status, mimetype
        with pytest.raises(FailureGroup):
            conforms(contract, bad)


def test_a_tour_of_the_api_answers_as_documented(app, session, seeded, called, contract):
    ida, ann, ben, cy, group = factories.seminar_of_four(app, session)
    anonymous = app.test_client()

    # Reading what there is.
    for path in (f"/api/v1/texts/{SLUG}", "/api/v1/ns", "/api/v1/problems", CONTAINER):
        assert anonymous.get(path).status_code == 200
    assert anonymous.get(f"/api/v1/texts/{SLUG}/events").status_code == 200
    assert anonymous.get("/api/v1/openapi.json").status_code == 200

    # Create a note, a highlight and a reply; read them as JSON-LD and as plain JSON.
    note = api_note(ann, seeded, "Litvinov in Copenhagen", "A note", "group", group)
    highlight = api_note(ann, seeded, "Krasin", **{"scholia:color": "green"})
    assert api_reply(ben, note, "A reply").status_code == 201
    as_ld = ann.get(f"{ANNOTATIONS}/{note}")
    assert as_ld.mimetype == "application/ld+json"
    plain = ann.get(f"{ANNOTATIONS}/{note}", headers={"Accept": "application/json"})
    assert plain.mimetype == "application/json"
    unchanged = ann.get(f"{ANNOTATIONS}/{note}", headers={"If-None-Match": as_ld.headers["ETag"]})
    assert unchanged.status_code == 304

    # The text's collection, one of its pages, and the collection unchanged.
    listing = ann.get(f"{ANNOTATIONS}?text={SLUG}&limit=1")
    assert listing.get_json()["total"] == 3
    assert ann.get(f"{ANNOTATIONS}?text={SLUG}&limit=1&page=1").status_code == 200
    again = ann.get(
        f"{ANNOTATIONS}?text={SLUG}&limit=1", headers={"If-None-Match": listing.headers["ETag"]}
    )
    assert again.status_code == 304
    events = ann.get(f"/api/v1/texts/{SLUG}/events?after=0").get_json()
    assert events["events"]

    # The text's own container: minimal, IRIs only (by Prefer and by ?iris=1), a page of it.
    minimal = ann.get(CONTAINER, headers={"Prefer": f'return=representation; include="{MINIMAL}"'})
    assert minimal.headers["Preference-Applied"] == "return=representation"
    assert isinstance(minimal.get_json()["first"], str)
    only_iris = ann.get(CONTAINER, headers={"Prefer": f'return=representation; include="{IRIS}"'})
    assert only_iris.get_json()["first"]["items"][0].endswith(f"/annotations/{note}")
    assert ann.get(f"{CONTAINER}?iris=1&limit=1&page=2").get_json()["items"] == [
        only_iris.get_json()["first"]["items"][2]
    ]

    # Inside the container: create there, and each of an annotation's operations there.
    made = ann.api("POST", CONTAINER, {**NEW_NOTE, "target": TEXT_URL})
    assert made.status_code == 201 and made.headers["Location"].startswith("http://localhost/")
    inside = int(made.headers["Location"].rsplit("/", 1)[1])
    bens = api_note(ben, seeded, "Krasin", "Ben's", "group", group)
    nested = f"{CONTAINER}{bens}"
    assert ann.get(nested).get_json()["id"] == f"http://localhost{nested}"
    assert ben.api("PATCH", nested, {"bodyValue": "Edited inside"}).status_code == 200
    canonical = {**made.get_json(), "canonical": "urn:uuid:1"}
    put_inside = ann.api("PUT", f"{CONTAINER}{inside}", canonical)
    assert put_inside.get_json()["canonical"] == "urn:uuid:1"
    for method in ("PUT", "DELETE"):
        assert ann.api(method, f"{nested}/reactions/question").status_code == 204
    assert ann.api("POST", f"{nested}/flags", {"reason": "Look"}).status_code == 201
    assert ida.api("POST", f"{nested}/hidden", {"hidden": True}).status_code == 200
    assert ann.api("DELETE", f"{CONTAINER}{inside}").status_code == 204
    assert ann.api("POST", f"{CONTAINER}{inside}/restore").status_code == 200

    # Search, the exports (the group's by its instructor), and an import.
    found = anonymous.get("/api/v1/search?q=Litvinov")
    assert found.get_json()["total"] >= 1
    for path in ("notebook.md", "notebook.jsonld?color=green"):
        assert "attachment" in ann.get(f"/api/v1/exports/{path}").headers["Content-Disposition"]
    for path in (f"groups/{group.id}.csv", f"groups/{group.id}.jsonld"):
        assert ida.get(f"/api/v1/exports/{path}").status_code == 200
    imported = ann.client.post(
        f"/api/v1/imports?text={SLUG}",
        json={"type": "AnnotationCollection", "items": [{**NEW_NOTE, "id": "urn:x:1"}]},
        headers={"X-CSRFToken": ann.token},
    )
    assert imported.status_code == 201 and imported.get_json()["counts"]["imported"] == 1

    # Edit (PATCH and PUT), with a current and a stale If-Match.
    etag = as_ld.headers["ETag"]
    patched = ann.api("PATCH", f"{ANNOTATIONS}/{note}", {"bodyValue": "Edited"})
    assert patched.status_code == 200
    stale = ann.client.put(
        f"{ANNOTATIONS}/{note}",
        json=as_ld.get_json(),
        headers={"X-CSRFToken": ann.token, "If-Match": etag},
    )
    assert stale.status_code == 412
    put = ann.client.put(
        f"{ANNOTATIONS}/{note}",
        json={**patched.get_json(), "scholia:color": "blue"},
        headers={"X-CSRFToken": ann.token, "If-Match": patched.headers["ETag"]},
    )
    assert put.status_code == 200

    # React, flag (twice: 409), hide as the instructor, preview.
    for method in ("PUT", "DELETE"):
        assert ben.api(method, f"{ANNOTATIONS}/{note}/reactions/agree").status_code == 204
    assert (
        ben.api("POST", f"{ANNOTATIONS}/{note}/flags", {"reason": "Off topic"}).status_code == 201
    )
    assert ben.api("POST", f"{ANNOTATIONS}/{note}/flags", {"reason": "Again"}).status_code == 409
    assert ida.api("POST", f"{ANNOTATIONS}/{note}/hidden", {"hidden": True}).status_code == 200
    assert ben.get(f"{ANNOTATIONS}/{note}").get_json()["scholia:hidden"] is True
    assert ann.api("POST", "/api/v1/preview", {"markdown": "*so*"}).status_code == 200

    # Delete and restore.
    assert ann.api("DELETE", f"{ANNOTATIONS}/{highlight}").status_code == 204
    assert ann.api("POST", f"{ANNOTATIONS}/{highlight}/restore").status_code == 200

    # Refusals, one of each kind.
    assert anonymous.get(ANNOTATIONS).status_code == 400  # no text named
    assert anonymous.get("/api/v1/search?from=yesterday").status_code == 400
    assert anonymous.get("/api/v1/exports/notebook.md").status_code == 401
    assert ben.get(f"/api/v1/exports/groups/{group.id}.csv").status_code == 403
    assert cy.get(f"{CONTAINER}{note}").status_code == 404
    other_text = {**NEW_NOTE, "target": "http://localhost/texts/another-text"}
    assert ann.api("POST", CONTAINER, other_text).status_code == 409
    not_json = ann.client.post(
        ANNOTATIONS,
        data="bodyValue=x",
        content_type="text/plain",
        headers={"X-CSRFToken": ann.token},
    )
    assert not_json.status_code == 415
    assert ann.api("POST", ANNOTATIONS, ["not", "an", "object"]).status_code == 400
    assert anonymous.post(ANNOTATIONS, json={"target": TEXT_URL}).status_code == 401
    revoked = {"Authorization": "Bearer scholia_" + "x" * 43}
    assert anonymous.get(f"/api/v1/texts/{SLUG}", headers=revoked).status_code == 401
    assert ben.api("POST", f"{ANNOTATIONS}/{note}/hidden", {"hidden": False}).status_code == 403
    assert cy.get(f"{ANNOTATIONS}/{note}").status_code == 404
    assert anonymous.get("/api/v1/texts/no-such-text").status_code == 404
    assert anonymous.get(f"{ANNOTATIONS}?text={SLUG}&page=9").status_code == 404
    too_long = ann.api(
        "PATCH", f"{ANNOTATIONS}/{highlight}", {"bodyValue": "x" * (MAX_BODY_CHARS + 1)}
    )
    assert too_long.status_code == 413
    xpath = {"source": TEXT_URL, "selector": {"type": "XPathSelector", "value": "/p[1]"}}
    assert ann.api("POST", ANNOTATIONS, {"target": xpath}).status_code == 422
    previews = [ann.api("POST", "/api/v1/preview", {"markdown": "x"}) for _ in range(PER_MINUTE)]
    assert previews[-1].status_code == 429

    # Each path's HEAD and OPTIONS, with a note that exists, as the group's instructor.
    for template, item in document()["paths"].items():
        path = template.format(annotation_id=note, slug=SLUG, kind="agree", group_id=group.id)
        path += f"?text={SLUG}" if path == ANNOTATIONS else ""
        if "head" in item:
            assert ida.client.head(path).status_code == 200, path
        assert ida.client.options(path).status_code == 200, path

    documented = {
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented - called == set(), "operations the tour did not call"


def test_a_write_the_database_refuses_is_a_documented_503(
    app, session, seeded, database_url, tmp_path, called
):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("read-only by URL is a SQLite feature (test_storage_errors.py)")
    writer = factories.sign_in(app, session, "Ann Writer")
    note = api_note(writer, seeded, "Krasin", "stored")
    path = database_url.removeprefix("sqlite:///")
    read_only = make_test_app(f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path / "ro")
    read_only.test_client_class = app.test_client_class
    client = read_only.test_client()
    client.set_cookie("session", writer.client.get_cookie("session").value)
    refused = client.patch(
        f"{ANNOTATIONS}/{note}", json={"bodyValue": "lost"}, headers={"X-CSRFToken": writer.token}
    )
    assert refused.status_code == 503
    assert annotation_id(writer.get(f"{ANNOTATIONS}/{note}").get_json()) == note
