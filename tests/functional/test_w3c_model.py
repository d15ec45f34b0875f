"""The shapes of the W3C Web Annotation Data Model (https://www.w3.org/TR/annotation-model/) a
client may send: each valid one is kept whole, each that cannot be kept is refused (4xx, nothing
stored) and never silently turned into something else. Each test names the section it checks."""

from __future__ import annotations

import pytest

from app.models import Annotation, AnnotationVersion, Motivation
from tests import factories
from tests.functional.test_w3c_protocol import TEXT_URL, count, new_annotation, send

POST = "/api/v1/annotations"
QUOTE = "Litvinov in Copenhagen"
RFC5147 = "http://tools.ietf.org/rfc/rfc5147"


@pytest.fixture
def content(ada):
    return ada.get("/api/v1/texts/carr-rapprochement").get_json()["content"]


def created(ada, session, payload) -> Annotation:
    response = send(ada, "POST", POST, payload)
    assert response.status_code == 201, response.get_json()
    return factories.fresh(session).get(
        Annotation, int(response.get_json()["id"].rsplit("/", 1)[1])
    )


def refused(ada, session, payload, status: int, words: str) -> None:
    before = count(session)
    response = send(ada, "POST", POST, payload)
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["detail"]
    assert count(session) == before


# Model §3.1: "type ... The Annotation MUST have 1 or more types, and the Annotation class MUST be
# one of them"; §3.3.5 motivation "0 or more"; either may be a single value or an array.


def test_type_and_motivation_may_be_arrays(ada, session, content):
    payload = new_annotation(content, body="An array of one")
    payload["type"] = ["Annotation"]
    payload["motivation"] = ["commenting"]
    stored = created(ada, session, payload)
    assert stored.motivation is Motivation.COMMENTING and stored.body_source == "An array of one"
    refused(ada, session, {**payload, "type": ["Note"]}, 400, "type must be")


# Model §3.2.1 / §4.1: "source ... The value MUST be an IRI"; an IRI may be given as {"id": …}.
# §3.2.1 also allows the target to be the IRI itself.


def test_source_as_an_object_with_an_id_and_a_bare_iri_target(ada, session, content):
    payload = new_annotation(content, body="Source as an object")
    payload["target"]["source"] = {"id": TEXT_URL}
    assert created(ada, session, payload).exact == QUOTE
    whole = {"type": "Annotation", "bodyValue": "On it all", "target": TEXT_URL}
    stored = created(ada, session, whole)
    assert stored.exact is None and stored.body_source == "On it all"


# Model §3.2: "There MAY be 0 or more body relationships"; several commenting bodies are kept,
# in order, one paragraph each.


def test_several_commenting_bodies_are_joined_in_order(ada, session, content):
    payload = new_annotation(content)
    payload["body"] = [
        {"type": "TextualBody", "purpose": "commenting", "value": "First thought"},
        {"type": "TextualBody", "purpose": "tagging", "value": "diplomacy"},
        {"type": "TextualBody", "value": "Second thought"},
    ]
    stored = created(ada, session, payload)
    assert stored.body_source == "First thought\n\nSecond thought"
    assert stored.tag_names == ["diplomacy"]


# Model §3.3.5: the motivations tagging and bookmarking; a body without purpose takes the
# annotation's motivation, so under tagging it is a tag.


def test_tagging_makes_its_bodies_tags(ada, session, content):
    payload = new_annotation(content)
    payload["motivation"] = "tagging"
    payload["body"] = [{"type": "TextualBody", "value": "treaties"}]
    stored = created(ada, session, payload)
    assert stored.tag_names == ["treaties"] and stored.body_source == ""
    assert stored.motivation is Motivation.HIGHLIGHTING  # a tagged highlight: no words


def test_bookmarking_is_a_highlight_or_a_note_by_its_words(ada, session, content):
    payload = new_annotation(content)
    payload["motivation"] = "bookmarking"
    assert created(ada, session, payload).motivation is Motivation.HIGHLIGHTING
    payload = new_annotation(content, body="Come back here")
    payload["motivation"] = ["bookmarking"]
    stored = created(ada, session, payload)
    assert stored.motivation is Motivation.COMMENTING and stored.body_source == "Come back here"
    refused(ada, session, {**payload, "motivation": "frobnicating"}, 422, "motivation must be")


# Model §3.2.5: "bodyValue ... equivalent to a TextualBody" — kept as the note's words.


def test_body_value_is_the_body(ada, session, content):
    payload = new_annotation(content)
    payload["bodyValue"] = "Said in short"
    stored = created(ada, session, payload)
    assert stored.body_source == "Said in short"
    assert stored.motivation is Motivation.COMMENTING
    refused(ada, session, {**payload, "bodyValue": 7}, 400, "bodyValue")


# Model §4.2.1 FragmentSelector with conformsTo RFC 5147 ("char=S,E"), and the same fragment on
# the target's IRI (§4.2 "the IRI of the segment").


def test_an_rfc5147_fragment_is_anchored(ada, session, content):
    start = content.index(QUOTE)
    end = start + len(QUOTE)
    payload = new_annotation(content, body="By fragment")
    payload["target"]["selector"] = {
        "type": "FragmentSelector",
        "conformsTo": RFC5147,
        "value": f"char={start},{end}",
    }
    stored = created(ada, session, payload)
    assert (stored.start, stored.end, stored.exact) == (start, end, QUOTE)
    by_iri = {
        "type": "Annotation",
        "bodyValue": "By IRI",
        "target": f"{TEXT_URL}#char={start},{end}",
    }
    assert created(ada, session, by_iri).exact == QUOTE


# Model §4.2.9 refinedBy: "the Selector ... MUST be applied to the output of the Selector it
# refines" — a quote found within a position range, a position within a quote.


def test_refined_selectors_are_anchored_within_the_outer_span(ada, session, content):
    start = content.index(QUOTE)
    payload = new_annotation(content, body="Refined")
    payload["target"]["selector"] = {
        "type": "TextPositionSelector",
        "start": start - 10,
        "end": start + len(QUOTE) + 10,
        "refinedBy": {"type": "TextQuoteSelector", "exact": "Copenhagen"},
    }
    stored = created(ada, session, payload)
    assert stored.exact == "Copenhagen"
    assert stored.start == content.index("Copenhagen", start - 10)
    payload["target"]["selector"] = {
        "type": "TextQuoteSelector",
        "exact": QUOTE,
        "refinedBy": {"type": "TextPositionSelector", "start": 0, "end": len("Litvinov")},
    }
    assert created(ada, session, payload).exact == "Litvinov"
    payload["target"]["selector"]["refinedBy"] = {"type": "TextQuoteSelector", "exact": "Paris"}
    refused(ada, session, payload, 422, "not in this text")


# Model §4.2: a selector this server cannot apply to its texts is refused by name, never
# stored as a note on the whole text.


@pytest.mark.parametrize(
    ("selector", "named"),
    [
        ({"type": "XPathSelector", "value": "/html/body/p[2]"}, "XPathSelector"),
        ({"type": "CssSelector", "value": "#p2"}, "CssSelector"),
        ({"type": "RangeSelector", "startSelector": {}, "endSelector": {}}, "RangeSelector"),
        ({"type": "FragmentSelector", "value": "page=3"}, "FragmentSelector"),
        ({"type": "FragmentSelector", "conformsTo": RFC5147, "value": "line=3,4"}, "RFC 5147"),
    ],
)
def test_selectors_that_cannot_be_anchored_are_refused_by_name(
    ada, session, content, selector, named
):
    payload = new_annotation(content, body="Nowhere to go")
    payload["target"]["selector"] = selector
    refused(ada, session, payload, 422, named)


def test_an_unusable_selector_beside_a_usable_one_is_an_alternative(ada, session, content):
    """§4.2: several selectors "MUST each describe the same segment": one is enough."""
    payload = new_annotation(content, body="Two ways")
    payload["target"]["selector"] = [
        {"type": "XPathSelector", "value": "/p[2]"},
        {"type": "TextQuoteSelector", "exact": QUOTE},
    ]
    assert created(ada, session, payload).exact == QUOTE


# Model §3.2.1: the source is the resource annotated; a text of another site is not this one.


@pytest.mark.parametrize(
    "source",
    [
        "http://elsewhere.example/texts/carr-rapprochement",
        {"id": "https://evil.example/texts/carr-rapprochement"},
    ],
)
def test_a_source_on_another_host_is_refused(ada, session, content, source):
    payload = new_annotation(content, body="Elsewhere")
    payload["target"]["source"] = source
    refused(ada, session, payload, 422, "another site")
    bare = {"type": "Annotation", "bodyValue": "Elsewhere", "target": source}
    refused(ada, session, bare, 422, "another site")


def test_a_source_on_another_path_is_refused(ada, session, content):
    payload = new_annotation(content, body="Not a text")
    payload["target"]["source"] = "http://localhost/groups/carr-rapprochement"
    refused(ada, session, payload, 400, "not the URL of a text")


# Protocol §5.3 (update): the annotation's target here is kept; PUT sends the whole annotation,
# so its own target comes back unchanged, but a different one is refused (409), not ignored.


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_edit_may_send_its_target_back_but_not_change_it(ada, session, content, method):
    stored = created(ada, session, new_annotation(content, body="Where I was"))
    url = f"/api/v1/annotations/{stored.id}"
    served = ada.get(url).get_json()
    served["body"] = [{"type": "TextualBody", "value": "Edited, same place"}]
    kept = send(ada, method, url, served)
    assert kept.status_code == 200, kept.get_json()
    assert factories.fresh(session).get(Annotation, stored.id).body_source == "Edited, same place"

    moved = {**served, "target": new_annotation(content, "Krasin")["target"]}
    moved["body"] = [{"type": "TextualBody", "value": "Should not be saved"}]
    response = send(ada, method, url, moved)
    assert response.status_code == 409
    assert "target cannot be changed" in response.get_json()["detail"]
    whole = send(ada, method, url, {**served, "target": TEXT_URL})
    assert whole.status_code == 409
    after = factories.fresh(session).get(Annotation, stored.id)
    assert (after.exact, after.body_source) == (QUOTE, "Edited, same place")
    assert session.query(AnnotationVersion).filter_by(annotation_id=stored.id).count() == 1


def test_a_source_that_is_no_url_is_a_clear_400(ada, session, content):
    payload = new_annotation(content, body="Broken")
    payload["target"]["source"] = "http://[::1/texts/carr-rapprochement"
    refused(ada, session, payload, 400, "not a URL")
    refused(ada, session, {**payload, "target": payload["target"]["source"]}, 400, "not a URL")


def test_an_orphan_or_a_reply_may_send_its_served_target_back(ada, session, content):
    """Protocol §5.3: a PUT of the annotation as served keeps it, whatever its target's shape."""
    orphan = created(ada, session, new_annotation(content, body="Words now gone"))
    orphan.start = orphan.end = None  # as a re-import that lost its words leaves it
    session.commit()
    reply = send(
        ada,
        "POST",
        POST,
        {
            "type": "Annotation",
            "motivation": ["replying"],
            "bodyValue": "A reply",
            "target": f"http://localhost/api/v1/annotations/{orphan.id}",
        },
    )
    assert reply.status_code == 201, reply.get_json()
    for url in (f"/api/v1/annotations/{orphan.id}", reply.get_json()["id"]):
        url = url.replace("http://localhost", "")
        served = ada.get(url).get_json()
        served["body"] = [{"type": "TextualBody", "value": "Edited"}]
        response = send(ada, "PUT", url, served)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["body"][0]["value"] == "Edited"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_reply_cannot_be_moved_to_another_note_nor_a_note_made_a_reply(
    ada, session, content, method
):
    first = created(ada, session, new_annotation(content, body="First"))
    second = created(ada, session, new_annotation(content, "Krasin", body="Second"))
    answer = send(
        ada,
        "POST",
        POST,
        {
            "type": "Annotation",
            "motivation": "replying",
            "bodyValue": "Yes",
            "target": f"http://localhost/api/v1/annotations/{first.id}",
        },
    ).get_json()
    url = answer["id"].replace("http://localhost", "")
    elsewhere = {**answer, "target": f"http://localhost/api/v1/annotations/{second.id}"}
    elsewhere["body"] = [{"type": "TextualBody", "value": "Not saved"}]
    response = send(ada, method, url, elsewhere)
    assert response.status_code == 409 and "cannot be moved" in response.get_json()["detail"]
    onto_words = {**elsewhere, "target": new_annotation(content, "Krasin")["target"]}
    assert send(ada, method, url, onto_words).status_code == 409
    as_reply = send(
        ada,
        method,
        f"/api/v1/annotations/{second.id}",
        elsewhere | {"target": f"http://localhost/api/v1/annotations/{first.id}"},
    )
    assert as_reply.status_code == 409 and "turned into a reply" in as_reply.get_json()["detail"]
    fresh = factories.fresh(session)
    moved = fresh.get(Annotation, factories.annotation_id(answer))
    assert (moved.parent_id, moved.body_source) == (first.id, "Yes")
    assert (
        fresh.get(Annotation, second.id).parent_id,
        fresh.get(Annotation, second.id).body_source,
    ) == (None, "Second")


# Model §3.2.4 (textual body): "format ... The Body SHOULD have exactly 1 format associated with
# it"; "language ... SHOULD have exactly 1 language", a BCP47 tag. A server keeps what it is
# given: the words come back with the format and language they were sent in.


def body(value: str, **extra) -> dict:
    return {"type": "TextualBody", "purpose": "commenting", "value": value, **extra}


def test_a_bodys_format_and_language_are_kept_and_served(ada, session, content):
    payload = new_annotation(content)
    payload["body"] = [body("*Pas* d'emphase", format="text/plain", language="fr")]
    stored = created(ada, session, payload)
    assert (stored.body_format, stored.body_language) == ("text/plain", "fr")
    assert "<em>" not in stored.body_html and "*Pas* d&#x27;emphase" in stored.body_html
    served = ada.get(f"/api/v1/annotations/{stored.id}").get_json()["body"][0]
    assert (served["format"], served["language"], served["value"]) == (
        "text/plain",
        "fr",
        "*Pas* d'emphase",
    )
    page = factories.dom(ada.get(f"/notes/{stored.id}").get_data(as_text=True))
    assert page.select_one(f"#a{stored.id} .note-body")["lang"] == "fr"


def test_an_html_body_is_kept_as_sent_and_shown_cleaned(ada, session, content):
    payload = new_annotation(content)
    sent = '<p>Read <em>this</em><script>alert(1)</script> <a href="javascript:x">link</a></p>'
    payload["body"] = [body(sent, format="text/html")]
    stored = created(ada, session, payload)
    assert stored.body_source == sent and stored.body_format == "text/html"
    assert "<em>this</em>" in stored.body_html
    assert "script" not in stored.body_html and "javascript" not in stored.body_html


def test_markdown_stays_the_default_and_body_value_is_plain_text(ada, session, content):
    markdown_note = created(ada, session, new_annotation(content, body="*Yes*"))
    assert (
        markdown_note.body_format == "text/markdown" and "<em>Yes</em>" in markdown_note.body_html
    )
    payload = new_annotation(content)
    del payload["body"]
    payload["bodyValue"] = "*literal*"  # §3.2.5: bodyValue is a plain text string
    plain = created(ada, session, payload)
    assert plain.body_format == "text/plain" and "<em>" not in plain.body_html


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"format": "application/pdf"}, "format 'application/pdf' is not one"),
        ({"format": 7}, "format '7' is not one"),
        ({"language": "en US"}, "not a BCP 47 tag"),
        ({"language": "en\n"}, "not a BCP 47 tag"),
        ({"language": "x" * 300}, "not a BCP 47 tag"),
        ({"language": ["en"]}, "not a BCP 47 tag"),
    ],
)
def test_a_format_or_language_that_cannot_be_kept_is_refused(ada, session, content, extra, words):
    payload = new_annotation(content)
    payload["body"] = [body("Words", **extra)]
    refused(ada, session, payload, 422, words)


def test_bodies_in_different_formats_are_not_joined(ada, session, content):
    payload = new_annotation(content)
    payload["body"] = [body("One", language="en"), body("Deux", language="fr")]
    refused(ada, session, payload, 422, "different formats or languages")


def test_an_edit_sets_the_format_of_the_words_it_sends_and_keeps_it_otherwise(
    ada, session, content
):
    payload = new_annotation(content)
    payload["body"] = [body("Plain *words*", format="text/plain", language="en")]
    stored = created(ada, session, payload)
    url = f"/api/v1/annotations/{stored.id}"
    tagged = send(ada, "PATCH", url, {"scholia:color": "green"})
    assert tagged.get_json()["body"][0]["format"] == "text/plain"
    rewritten = send(ada, "PATCH", url, {"body": [body("Now *Markdown*")]})
    assert rewritten.status_code == 200
    again = factories.fresh(session).get(Annotation, stored.id)
    assert (again.body_format, again.body_language) == ("text/markdown", None)
    assert "<em>Markdown</em>" in again.body_html
    assert again.versions[-1].body_source == "Plain *words*"  # the words before, kept


def test_a_replys_language_is_kept(ada, session, content):
    parent = created(ada, session, new_annotation(content, body="Parent"))
    reply = send(
        ada,
        "POST",
        POST,
        {
            "type": "Annotation",
            "motivation": "replying",
            "target": f"http://localhost/api/v1/annotations/{parent.id}",
            "body": body("Réponse", language="fr"),
        },
    )
    assert reply.status_code == 201 and reply.get_json()["body"][0]["language"] == "fr"


# Model §3.3.2 / protocol §5.1 and §5.3: a client's id is kept as via and canonical as given;
# the server "SHOULD reject update requests that modify the values of the canonical or via
# properties, if they have been already set".


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_via_and_canonical_stay_once_set(ada, session, content, method):
    payload = new_annotation(content, body="From elsewhere")
    payload |= {"id": "urn:uuid:1", "canonical": "urn:uuid:canon"}
    stored = created(ada, session, payload)
    url = f"/api/v1/annotations/{stored.id}"
    served = ada.get(url).get_json()
    assert (served["via"], served["canonical"]) == ("urn:uuid:1", "urn:uuid:canon")
    served["body"] = [{"type": "TextualBody", "value": "Edited"}]
    assert send(ada, method, url, served).status_code == 200  # sent back as served: fine
    for change in ({"canonical": "urn:uuid:other"}, {"via": "urn:uuid:2"}):
        response = send(ada, method, url, served | change)
        assert response.status_code == 409 and "cannot be changed" in response.get_json()["detail"]
    after = factories.fresh(session).get(Annotation, stored.id)
    assert (after.via, after.canonical, after.body_source) == (
        "urn:uuid:1",
        "urn:uuid:canon",
        "Edited",
    )


def test_a_canonical_iri_may_be_given_later_but_never_a_via(ada, session, content):
    stored = created(ada, session, new_annotation(content, body="Mine"))
    url = f"/api/v1/annotations/{stored.id}"
    named = send(ada, "PATCH", url, {"canonical": "urn:uuid:later"})
    assert named.status_code == 200 and named.get_json()["canonical"] == "urn:uuid:later"
    refused_via = send(ada, "PATCH", url, {"via": "urn:uuid:forged"})
    assert refused_via.status_code == 409
    assert factories.fresh(session).get(Annotation, stored.id).via is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("javascript:alert(1)", "would run code"),
        ("JavaScript:alert(1)", "would run code"),
        ("data:text/html,<script>", "would run code"),
        ("not an iri", "absolute IRI"),
        ("/relative/path", "absolute IRI"),
        ("urn:uuid:1\nX", "absolute IRI"),
    ],
)
def test_via_and_canonical_are_absolute_iris_that_run_no_code(ada, session, content, value, words):
    for key in ("id", "canonical"):
        payload = new_annotation(content, body="Named") | {key: value}
        refused(ada, session, payload, 400, words)
