"""The API against the W3C Web Annotation Data Model (https://www.w3.org/TR/annotation-model/,
§3–4) and Protocol (https://www.w3.org/TR/annotation-protocol/, §4–5): each test names the
requirement it checks and quotes the specification's words."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.api.presenters import xsd_datetime
from app.models import Annotation, Visibility
from tests import factories

TEXT_URL = "http://localhost/texts/carr-rapprochement"
LIST = "/api/v1/annotations?text=carr-rapprochement"
ANNO_MEDIA_TYPE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
XSD_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def note(session, browser, text, quote="Litvinov in Copenhagen", **kwargs) -> int:
    return factories.make_annotation(session, browser.user, text, quote, **kwargs).id


def send(browser, method: str, path: str, payload=None, **headers):
    """A request from the signed-in page, with its CSRF token and any other headers."""
    headers["X-CSRFToken"] = browser.token
    return browser.client.open(path, method=method, json=payload, headers=headers)


def new_annotation(content: str, quote: str = "Litvinov in Copenhagen", body: str = "") -> dict:
    start = content.index(quote)
    bodies = [{"type": "TextualBody", "purpose": "commenting", "value": body}] if body else []
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": bodies,
        "target": {
            "source": TEXT_URL,
            "selector": {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
        },
    }


@pytest.fixture
def other_text(session, seeded):
    """A second text: the seed under another slug."""
    from app.services import importer
    from tests.conftest import SEED

    text = importer.import_file(session, SEED, slug="carr-again").text
    session.commit()
    return text


def count(session) -> int:
    return session.scalar(select(func.count(Annotation.id)))


# Model §3.3.5 (lifecycle): created/modified "MUST be expressed in the xsd:dateTime format, and
# SHOULD have a timezone specified"; for the model's own datetimes, "The datetime MUST be a
# xsd:dateTime with the UTC timezone expressed as "Z"".


def test_created_and_modified_are_utc_datetimes_with_z(ada, session, seeded):
    note_id = note(session, ada, seeded, body="A thought")
    data = ada.get(f"/api/v1/annotations/{note_id}").get_json()
    stored = session.get(Annotation, note_id)
    for key, moment in (("created", stored.created_at), ("modified", stored.updated_at)):
        assert XSD_UTC.match(data[key]), data[key]
        # The same moment the database holds, read back as UTC.
        assert datetime.fromisoformat(data[key]) == moment
    item = ada.get(LIST).get_json()["first"]["items"][0]
    assert XSD_UTC.match(item["created"]) and XSD_UTC.match(item["modified"])

    bea = factories.sign_in(ada.app, session, "Bea")
    public = note(session, bea, seeded, "Krasin", body="Loud", visibility=Visibility.PUBLIC)
    flag = send(ada, "POST", f"/api/v1/annotations/{public}/flags", {"reason": "Check this"})
    assert flag.status_code == 201, flag.get_json()
    assert XSD_UTC.match(flag.get_json()["created"])


def test_datetimes_from_either_database_are_written_as_utc():
    """SQLite gives back zoneless values (the UTC they were stored in); PostgreSQL aware ones,
    possibly in the session's zone: both are the same instant, written with Z."""
    naive = datetime(2026, 12, 3, 18, 43, 11, 956400)
    assert xsd_datetime(naive) == "2026-12-03T18:43:11.956400Z"
    assert xsd_datetime(naive.replace(tzinfo=UTC)) == "2026-12-03T18:43:11.956400Z"
    berlin = datetime(2026, 12, 3, 19, 43, 11, tzinfo=timezone(timedelta(hours=1)))
    assert xsd_datetime(berlin) == "2026-12-03T18:43:11Z"


def test_stored_datetimes_come_back_aware_in_utc(ada, session, seeded):
    note_id = note(session, ada, seeded)
    session.expire_all()
    stored = session.get(Annotation, note_id)
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.updated_at.utcoffset() == timedelta(0)


# Model §3.1: "There SHOULD be 1 or more body relationships associated with an Annotation but
# there MAY be 0"; the model's highlight example (§3.2 motivation) has no body at all.


def test_a_highlight_has_no_body_key(ada, session, seeded):
    highlight = note(session, ada, seeded)
    comment = note(session, ada, seeded, "Krasin", body="Why Krasin?", tags=("trade",))
    data = ada.get(f"/api/v1/annotations/{highlight}").get_json()
    assert data["motivation"] == "highlighting" and "body" not in data
    items = {
        item["id"].rsplit("/", 1)[1]: item for item in ada.get(LIST).get_json()["first"]["items"]
    }
    assert "body" not in items[str(highlight)]
    assert [b["value"] for b in items[str(comment)]["body"]] == ["Why Krasin?", "trade"]


# Protocol §4.1: "Annotation Servers MUST support a JSON-LD representation using the Web
# Annotation profile. These responses MUST have a Content-Type header with the
# application/ld+json media type, and it SHOULD have the Web Annotation profile IRI";
# "For HEAD and GET requests, the response MUST have a Vary header that includes Accept".


@pytest.mark.parametrize("path", ["/api/v1/annotations/{id}", LIST])
def test_json_ld_with_the_profile_by_default_and_plain_json_on_request(ada, session, seeded, path):
    url = path.format(id=note(session, ada, seeded, body="Seen"))
    for accept in (None, ANNO_MEDIA_TYPE, "application/ld+json", "*/*", "text/html,*/*;q=0.8"):
        response = ada.get(url, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200
        assert response.headers["Content-Type"] == ANNO_MEDIA_TYPE, accept
        assert "Accept" in response.vary
    plain = ada.get(url, headers={"Accept": "application/json"})  # as the page's scripts ask
    assert plain.headers["Content-Type"] == "application/json"
    assert "Accept" in plain.vary
    assert plain.get_data() == ada.get(url).get_data()  # the same JSON either way
    head = ada.client.head(url)
    assert head.headers["Content-Type"] == ANNO_MEDIA_TYPE and head.get_data() == b""


def test_a_created_annotation_is_served_as_json_ld(ada, session, seeded):
    content = ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
    created = send(ada, "POST", "/api/v1/annotations", new_annotation(content, body="New"))
    assert created.status_code == 201
    assert created.headers["Content-Type"] == ANNO_MEDIA_TYPE


def test_errors_are_problem_details(ada):
    """Issue 18 §2: errors are RFC 9457 problem details, whatever the client accepts."""
    missing = ada.get("/api/v1/annotations/999999", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    problem = missing.get_json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert (problem["title"], problem["status"]) == ("Not Found", 404)
    assert problem["detail"] == "No such annotation."
    # The type names an entry of the API's list of problems, which says what it means.
    listing, entry = problem["type"].split("#")
    assert listing.endswith("/api/v1/problems") and entry in ada.get(listing).get_json()


# Protocol §4.1: "The response from the Annotation Server MUST have an ETag header"; RFC 9110
# §13.1.2: If-None-Match matching on GET → "304 (Not Modified)"; §13.1.1: when If-Match fails
# "An origin server MUST NOT perform the requested method" and answers 412.


def etag_of(browser, note_id: int) -> str:
    response = browser.get(f"/api/v1/annotations/{note_id}")
    assert response.status_code == 200
    tag, weak = response.get_etag()
    assert tag and not weak
    return tag


def test_if_none_match_answers_304_without_a_body(ada, session, seeded):
    url = f"/api/v1/annotations/{note(session, ada, seeded, body='Unchanged')}"
    tag = ada.get(url).headers["ETag"]
    again = ada.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == tag
    plain = ada.get(url, headers={"Accept": "application/json"})
    assert plain.headers["ETag"] != tag  # each representation has its own validator
    assert ada.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_etag_moves_with_everything_the_annotation_shows(ada, session, seeded):
    bea = factories.sign_in(ada.app, session, "Bea")
    group = factories.make_group(session, ada.user, bea.user)
    note_id = note(session, bea, seeded, body="First", group=group)
    url = f"/api/v1/annotations/{note_id}"
    changes = [
        {"body": [{"type": "TextualBody", "value": "Second"}]},  # body
        {
            "body": [
                {"type": "TextualBody", "value": "Second"},
                {"type": "TextualBody", "purpose": "tagging", "value": "trade"},
            ]
        },  # tags
        {"scholia:color": "green"},  # colour
        {"motivation": "questioning"},  # motivation
        {"scholia:visibility": "private"},  # audience
    ]
    seen = {etag_of(bea, note_id)}
    for change in changes:
        response = send(bea, "PATCH", url, change)
        assert response.status_code == 200, (change, response.get_json())
        assert response.headers["ETag"].strip('"') == etag_of(bea, note_id)
        assert etag_of(bea, note_id) not in seen, change
        seen.add(etag_of(bea, note_id))

    send(bea, "PATCH", url, {"scholia:visibility": "group", "scholia:group": group.id})
    before = etag_of(bea, note_id)
    assert send(ada, "POST", f"{url}/hidden", {"hidden": True}).status_code == 200  # hidden
    assert etag_of(bea, note_id) != before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_stale_if_match_is_refused_and_changes_nothing(ada, session, seeded, method):
    note_id = note(session, ada, seeded, body="Original")
    url = f"/api/v1/annotations/{note_id}"
    stale = etag_of(ada, note_id)
    edit = {"body": [{"type": "TextualBody", "value": "Edited"}]}
    assert send(ada, "PATCH", url, edit).status_code == 200
    current = ada.get(url).get_data()

    change = None if method == "DELETE" else {"body": [{"type": "TextualBody", "value": "Lost"}]}
    refused = send(ada, method, url, change, **{"If-Match": f'"{stale}"'})
    assert refused.status_code == 412
    assert refused.get_json()["status"] == 412
    assert "changed since you read it" in refused.get_json()["detail"]
    assert ada.get(url).get_data() == current  # nothing changed

    fresh = etag_of(ada, note_id)
    accepted = send(ada, method, url, change, **{"If-Match": f'"{fresh}"'})
    assert accepted.status_code == (204 if method == "DELETE" else 200)
    if method == "DELETE":
        assert ada.get(url).status_code == 404
    else:
        assert ada.get(url).get_json()["body"][0]["value"] == "Lost"


def test_if_match_takes_the_plain_json_etag_the_page_saw(ada, session, seeded):
    note_id = note(session, ada, seeded, body="Original")
    url = f"/api/v1/annotations/{note_id}"
    seen = ada.get(url, headers={"Accept": "application/json"}).headers["ETag"]
    change = {"body": [{"type": "TextualBody", "value": "Edited"}]}
    assert send(ada, "PATCH", url, change, **{"If-Match": seen}).status_code == 200
    assert send(ada, "PATCH", url, change, **{"If-Match": seen}).status_code == 412


def test_the_collection_has_an_etag_and_answers_304(ada, session, seeded):
    note(session, ada, seeded, body="One")
    for headers in ({}, {"Accept-Encoding": "gzip"}, {"Accept": "application/json"}):
        first = ada.get(LIST, headers=headers)
        tag = first.headers["ETag"]
        again = ada.get(LIST, headers={**headers, "If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b""
    before = ada.get(LIST).headers["ETag"]
    note(session, ada, seeded, "Krasin", body="Two")
    changed = ada.get(LIST, headers={"If-None-Match": before})
    assert changed.status_code == 200 and len(changed.get_json()["first"]["items"]) == 2
    assert changed.headers["ETag"] != before


# Protocol §4.1: "The response MUST have a Link header ... of http://www.w3.org/ns/ldp#Resource
# and a rel parameter value of type"; "The response MUST have an Allow header that lists the
# HTTP methods available". §5.1 (container): "MUST ... a Link header ... http://www.w3.org/ns/
# ldp#BasicContainer ... rel of type", "a Link header with a rel of
# http://www.w3.org/ns/ldp#constrainedBy and a target of http://www.w3.org/TR/annotation-
# protocol/", "an Allow header", and if it takes POST "an Accept-Post header". §5.2: "the
# response MUST have a 201 status, with the Location header set to the new IRI".


def links(response) -> list[str]:
    return [value for name, value in response.headers if name == "Link"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_annotation_names_its_type_and_methods(ada, session, seeded, method):
    response = ada.client.open(f"/api/v1/annotations/{note(session, ada, seeded)}", method=method)
    assert '<http://www.w3.org/ns/ldp#Resource>; rel="type"' in links(response)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_container_names_its_type_constraints_and_methods(ada, session, seeded, method):
    response = ada.client.open(LIST, method=method)
    assert '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"' in links(response)
    assert (
        '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"'
        in links(response)
    )
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert response.headers["Accept-Post"] == ANNO_MEDIA_TYPE


def test_a_created_annotation_has_location_and_content_location(ada, session, seeded):
    content = ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
    created = send(ada, "POST", "/api/v1/annotations", new_annotation(content))
    iri = created.get_json()["id"]
    assert created.headers["Location"] == created.headers["Content-Location"] == iri
    assert '<http://www.w3.org/ns/ldp#Resource>; rel="type"' in links(created)
    assert ada.get(iri.removeprefix("http://localhost")).get_json()["id"] == iri


# Protocol §4 (authentication) leaves the scheme to HTTP; RFC 9110 §15.5.2: "The server
# generating a 401 response MUST send a WWW-Authenticate header field".


def test_an_anonymous_write_is_told_to_sign_in(client, session, seeded):
    owner = factories.sign_in(client.application, session, "Owner")
    note_id = note(session, owner, seeded, body="Mine")
    url = f"/api/v1/annotations/{note_id}"
    before = owner.get(url).get_data()
    change = {"body": [{"type": "TextualBody", "value": "Vandalised"}]}
    token = factories.csrf_token(client)  # an anonymous page's token, as a visitor has
    writes = [
        ("POST", "/api/v1/annotations", {"type": "Annotation", "target": TEXT_URL}),
        ("PUT", url, change),
        ("PATCH", url, change),
        ("DELETE", url, None),
        ("POST", f"{url}/flags", {"reason": "spam"}),
    ]
    for method, path, payload in writes:
        for headers in ({}, {"X-CSRFToken": token}):  # token-less, and with a token
            response = client.open(path, method=method, json=payload, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert (
                response.headers["WWW-Authenticate"]
                == 'Cookie realm="Scholia", Bearer realm="Scholia"'
            )
            assert response.get_json()["detail"] == "Sign in to do this."
    assert owner.get(url).get_data() == before
    assert count(session) == 1


def test_a_signed_in_write_without_its_csrf_token_is_still_refused(ada, session, seeded):
    note_id = note(session, ada, seeded, body="Mine")
    url = f"/api/v1/annotations/{note_id}"
    change = {"body": [{"type": "TextualBody", "value": "Forged"}]}
    for method, path, payload in (("PATCH", url, change), ("DELETE", url, None)):
        response = ada.client.open(path, method=method, json=payload)  # no X-CSRFToken
        assert response.status_code == 400 and "WWW-Authenticate" not in response.headers
        assert response.get_json()["title"] == "Form expired"
    assert ada.get(url).get_json()["body"][0]["value"] == "Mine"


# Protocol §4 (containers): "The IRI of the Annotation Container MUST end with a "/""; its
# representation's type MUST include BasicContainer, it SHOULD have a label; annotations are
# created by POST to it and their IRIs are inside it. §4.2 (container representations): the
# client's Prefer header chooses a minimal container (ldp:PreferMinimalContainer) or items as
# IRIs (oa:PreferContainedIRIs) or descriptions, and "the response MUST have a Vary header that
# includes Prefer".

CONTAINER = "/api/v1/texts/carr-rapprochement/annotations/"
MINIMAL = 'return=representation;include="http://www.w3.org/ns/ldp#PreferMinimalContainer"'
IRIS = 'return=representation;include="http://www.w3.org/ns/oa#PreferContainedIRIs"'


def test_each_text_has_a_container_whose_iri_ends_in_a_slash(ada, session, seeded):
    first = note(session, ada, seeded)
    response = ada.get(CONTAINER)
    container = response.get_json()
    assert response.status_code == 200 and container["id"] == "http://localhost" + CONTAINER
    assert "BasicContainer" in container["type"] and "AnnotationCollection" in container["type"]
    assert container["label"] == f"Annotations on {seeded.title}"
    (item,) = container["first"]["items"]
    assert item["id"] == f"http://localhost{CONTAINER}{first}"  # annotation IRIs are inside it
    assert ada.get(item["id"]).get_json()["id"] == item["id"]
    assert set(response.vary) >= {"Accept", "Prefer"}
    # The path before containers had IRIs of their own still answers, naming the container.
    legacy = ada.get(LIST)
    assert legacy.get_json() == container
    assert legacy.headers["Content-Location"] == "http://localhost" + CONTAINER


def test_prefer_minimal_container_leaves_the_items_out(ada, session, seeded):
    note(session, ada, seeded)
    response = ada.get(CONTAINER, headers={"Prefer": MINIMAL})
    container = response.get_json()
    assert container["total"] == 1 and "items" not in str(container)
    assert container["first"] == f"http://localhost{CONTAINER}?page=0"
    assert response.headers["Preference-Applied"] == "return=representation"
    whole = ada.get(CONTAINER)
    assert (
        "Preference-Applied" not in whole.headers
        and whole.headers["ETag"] != response.headers["ETag"]
    )


def test_prefer_contained_iris_lists_iris_only_and_its_pages_say_so(ada, session, seeded):
    first = note(session, ada, seeded)
    container = ada.get(CONTAINER, headers={"Prefer": IRIS}).get_json()
    iri = f"http://localhost{CONTAINER}{first}"
    assert container["first"]["items"] == [iri]
    assert container["first"]["id"] == f"http://localhost{CONTAINER}?iris=1&page=0"
    page = ada.get(container["first"]["id"]).get_json()
    assert page["type"] == "AnnotationPage" and page["items"] == [iri]
    both = f'{MINIMAL[:-1]} http://www.w3.org/ns/oa#PreferContainedIRIs"'
    minimal = ada.get(CONTAINER, headers={"Prefer": both}).get_json()
    assert minimal["first"] == f"http://localhost{CONTAINER}?iris=1&page=0"


@pytest.mark.parametrize(
    "prefer", ["", "return=minimal", 'return=representation;include="', "include=x" * 500]
)
def test_an_odd_prefer_header_gets_the_whole_container(ada, session, seeded, prefer):
    note(session, ada, seeded)
    container = ada.get(CONTAINER, headers={"Prefer": prefer}).get_json()
    assert len(container["first"]["items"]) == 1


def test_post_to_a_container_creates_inside_it(ada, session, seeded):
    content = ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
    created = send(ada, "POST", CONTAINER, new_annotation(content, body="Here"))
    assert created.status_code == 201
    assert created.headers["Location"].startswith("http://localhost" + CONTAINER)
    reply = send(
        ada,
        "POST",
        CONTAINER,
        {
            "type": "Annotation",
            "target": created.headers["Location"],
            "body": {"type": "TextualBody", "value": "And"},
        },
    )
    assert reply.status_code == 201 and reply.get_json()["target"] == created.headers["Location"]


def test_post_to_another_texts_container_is_refused_and_stores_nothing(
    ada, session, seeded, other_text
):
    content = ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
    elsewhere = f"/api/v1/texts/{other_text.slug}/annotations/"
    before = count(session)
    refused = send(ada, "POST", elsewhere, new_annotation(content, body="Here"))
    assert refused.status_code == 409 and "another text" in refused.get_json()["detail"]
    parent = note(session, ada, seeded)
    refused = send(
        ada,
        "POST",
        elsewhere,
        {
            "type": "Annotation",
            "target": f"http://localhost{CONTAINER}{parent}",
            "body": {"type": "TextualBody", "value": "And"},
        },
    )
    assert refused.status_code == 409 and count(session) == before + 1


def test_an_annotation_is_not_inside_another_texts_container(ada, session, seeded, other_text):
    mine = note(session, ada, seeded)
    for method in ("GET", "PUT", "DELETE"):
        response = send(ada, method, f"/api/v1/texts/{other_text.slug}/annotations/{mine}", {})
        assert response.status_code == 404, method
    assert send(ada, "GET", f"/api/v1/texts/no-such-text/annotations/{mine}").status_code == 404
    assert ada.get("/api/v1/texts/no-such-text/annotations/").status_code == 404
    assert session.get(Annotation, mine).deleted_at is None


# Protocol §5.1: the server accepts annotations as application/ld+json with the annotation
# profile (and Scholia as application/json); a body in another media type is not one it
# supports: 415 Unsupported Media Type (RFC 9110 §15.5.16), nothing stored.


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/turtle", None]
)
def test_a_body_in_another_media_type_is_415(ada, session, seeded, content_type):
    content = ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
    headers = {"X-CSRFToken": ada.token}
    if content_type:
        headers["Content-Type"] = content_type
    before = count(session)
    response = ada.client.post(
        "/api/v1/annotations", data=json.dumps(new_annotation(content)), headers=headers
    )
    assert response.status_code == 415 and response.mimetype == "application/problem+json"
    assert "Send JSON" in response.get_json()["detail"] and count(session) == before
    accepted = ada.client.post(
        "/api/v1/annotations",
        data=json.dumps(new_annotation(content)),
        headers={**headers, "Content-Type": ANNO_MEDIA_TYPE},
    )
    assert accepted.status_code == 201
