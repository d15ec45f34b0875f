"""Importing annotations (issue 18 §4): W3C JSON-LD (Scholia's own export among them) and
Hypothesis's export, on the page, through the API and by the operator's CLI; each annotation
anchored as a POST would be, reported item by item, nothing stored twice, nothing half-stored."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.presenters import Urls, serialise
from app.extensions import db
from app.models import Annotation, Group, Motivation, User, Visibility
from app.services import annotation_import, discussion, importer
from app.services.access import viewer_for
from tests import factories
from tests.conftest import SEED, database_beside, make_test_app, migrate_from_nothing

SLUG = factories.SLUG
ELSEWHERE = "https://elsewhere.example"
SOURCE = f"{ELSEWHERE}/texts/{SLUG}"
QUOTE = "Litvinov in Copenhagen"
OTHER = "A treaty of peace with Estonia"
IMPORTS = f"/api/v1/imports?text={SLUG}"


def iri(n: int) -> str:
    return f"{ELSEWHERE}/api/v1/annotations/{n}"


def note(n: int, quote: str | None, body: str = "", creator: str = "Ada", **extra) -> dict:
    """A W3C annotation as Scholia exports it (``presenters.serialise``), from another site."""
    item = {
        "id": iri(n),
        "type": "Annotation",
        "motivation": "commenting" if body else "highlighting",
        "creator": {"type": "Person", "name": creator},
        "target": {"source": SOURCE},
        "scholia:visibility": "private",
        **extra,
    }
    if quote is not None:
        item["target"]["selector"] = [{"type": "TextQuoteSelector", "exact": quote}]
    if body:
        item["body"] = [{"type": "TextualBody", "purpose": "commenting", "value": body}]
    return item


def reply(n: int, parent: int, body: str, creator: str = "Ada") -> dict:
    return {
        "id": iri(n),
        "type": "Annotation",
        "motivation": "replying",
        "creator": {"type": "Person", "name": creator},
        "body": [{"type": "TextualBody", "purpose": "commenting", "value": body}],
        "target": iri(parent),
    }


def collection(*items: dict) -> bytes:
    return json.dumps(
        {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "type": "AnnotationCollection",
            "items": items,
        }
    ).encode()


def count(session) -> int:
    return factories.fresh(session).scalar(select(func.count(Annotation.id)))


def by_via(session, n: int) -> Annotation:
    return factories.fresh(session).scalar(select(Annotation).where(Annotation.via == iri(n)))


def api_import(browser, data: bytes, content_type: str = "application/ld+json", slug=SLUG):
    return browser.client.post(
        f"/api/v1/imports?text={slug}",
        data=data,
        content_type=content_type,
        headers={"X-CSRFToken": browser.token},
    )


def page_import(browser, data: bytes, slug: str = SLUG):
    return browser.client.post(
        "/import",
        data={"csrf_token": browser.token, "text": slug, "file": (io.BytesIO(data), "notes.json")},
        content_type="multipart/form-data",
    )


def outcomes(report: dict) -> dict[str, str]:
    """Each item's outcome by its id in the file."""
    return {item["id"]: item["outcome"] for item in report["items"]}


def test_a_w3c_file_lands_on_its_words_with_threads_tags_and_audiences(ada, session, seeded):
    group = factories.make_group(session, ada.user, name="Carr seminar")
    content = seeded.current_revision.content
    start = content.index(OTHER)
    data = collection(
        {
            **note(1, QUOTE, "Who went?"),
            "body": [
                {"type": "TextualBody", "purpose": "commenting", "value": "Who went?"},
                {"type": "TextualBody", "purpose": "tagging", "value": "diplomacy"},
            ],
        },
        note(2, "Moscow", **{"scholia:visibility": "public", "scholia:color": "green"}),
        reply(3, 1, "Litvinov and his staff."),
        note(
            4,
            "world revolution",
            "For the seminar",
            **{"scholia:visibility": "group", "scholia:group": 99, "scholia:groupName": group.name},
        ),
        {**note(5, None, "On a char= fragment"), "target": f"{SOURCE}#char={start},{start + 30}"},
    )
    page = page_import(ada, data)
    assert page.status_code == 200
    report = factories.dom(page.get_data(as_text=True))
    assert "5 annotations stored" in factories.text_of(report.select_one("main, body"))
    rows = {
        factories.text_of(r.th): factories.text_of(r.td)
        for r in report.select("tr")
        if r.th and r.td
    }
    assert rows["Imported"] == "5" and rows["Skipped"] == "0"

    first = by_via(session, 1)
    assert (first.exact, first.body_source, first.tag_names) == (QUOTE, "Who went?", ["diplomacy"])
    assert content[first.start : first.end] == QUOTE and first.user_id == ada.user.id
    highlight = by_via(session, 2)
    assert highlight.motivation is Motivation.HIGHLIGHTING
    assert highlight.visibility is Visibility.PUBLIC and highlight.color.value == "green"
    answer = by_via(session, 3)
    assert (answer.parent_id, answer.root_id, answer.body_source) == (
        first.id,
        first.id,
        "Litvinov and his staff.",
    )
    seminar = by_via(session, 4)
    assert (seminar.visibility, seminar.group_id) == (Visibility.GROUP, group.id)
    fragment = by_via(session, 5)
    assert (fragment.start, fragment.end, fragment.exact) == (
        start,
        start + 30,
        content[start : start + 30],
    )
    # The note is on the page where a POSTed one would be, with its reply under it.
    reading = ada.html(f"/texts/{SLUG}?lens=mine")
    assert "Who went?" in reading and "Litvinov and his staff." in reading


HYPOTHESIS_ROWS = [
    {
        "id": "hA1",
        "created": "2024-03-01T10:00:00.000000+00:00",
        "updated": "2024-03-02T10:00:00.000000+00:00",
        "user": "acct:ada_h@hypothes.is",
        "uri": "https://example.com/carr",
        "text": "Hypothesis note",
        "tags": ["Soviet Trade"],
        "group": "__world__",
        "permissions": {"read": ["group:__world__"]},
        "target": [
            {
                "source": "https://example.com/carr",
                "selector": [
                    {
                        "type": "RangeSelector",
                        "startContainer": "/p[3]",
                        "startOffset": 0,
                        "endContainer": "/p[3]",
                        "endOffset": 22,
                    },
                    {"type": "TextPositionSelector", "start": 5000, "end": 5022},
                    {
                        "type": "TextQuoteSelector",
                        "exact": QUOTE,
                        "prefix": "Russia; and ",
                        "suffix": " negotiated",
                    },
                ],
            }
        ],
        "references": [],
        "user_info": {"display_name": "Ada H."},
        "links": {"html": "https://hypothes.is/a/hA1"},
    },
    {
        "id": "hA2",
        "created": "2024-03-03T10:00:00+00:00",
        "updated": "2024-03-03T10:00:00+00:00",
        "user": "acct:ada_h@hypothes.is",
        "uri": "https://example.com/carr",
        "text": "A reply to myself",
        "tags": [],
        "group": "__world__",
        "permissions": {"read": ["group:__world__"]},
        "target": [{"source": "https://example.com/carr"}],
        "references": ["hA1"],
    },
    {
        "id": "hA3",
        "created": "2024-03-04T10:00:00+00:00",
        "updated": "2024-03-04T10:00:00+00:00",
        "user": "acct:ada_h@hypothes.is",
        "uri": "https://example.com/carr",
        "text": "A page note, only mine",
        "tags": [],
        "group": "__world__",
        "permissions": {"read": ["acct:ada_h@hypothes.is"]},
        "target": [{"source": "https://example.com/carr"}],
    },
]


def test_a_hypothesis_export_is_imported_as_the_readers_own(ada, session, seeded):
    response = api_import(
        ada, json.dumps({"total": 3, "rows": HYPOTHESIS_ROWS}).encode(), "application/json"
    )
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["format"] == "Hypothesis" and report["counts"]["imported"] == 3
    session = factories.fresh(session)
    found = {a.body_source: a for a in session.scalars(select(Annotation))}
    root = found["Hypothesis note"]
    assert root.exact == QUOTE and seeded.current_revision.content[root.start : root.end] == QUOTE
    assert root.tag_names == ["soviet-trade"] and root.visibility is Visibility.PUBLIC
    assert root.via == "https://hypothes.is/a/hA1"
    assert root.created_at.year == 2024 and root.is_edited  # its own times, kept
    assert found["A reply to myself"].parent_id == root.id
    page_note = found["A page note, only mine"]
    assert page_note.is_text_note and page_note.visibility is Visibility.PRIVATE
    assert {a.user_id for a in found.values()} == {ada.user.id}


def test_each_item_is_reported_imported_approximate_orphaned_or_skipped_with_why(ada, session):
    long_body = "x" * 20_001
    data = collection(
        note(1, QUOTE, "exact"),
        # The text has been corrected since (or the other site's copy had a typo).
        {
            **note(2, "Litvinov in Copenhagn negotiated", "approximately"),
            "target": {
                "source": SOURCE,
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": "Litvinov in Copenhagn negotiated",
                        "prefix": "Soviet Russia; and ",
                    }
                ],
            },
        },
        note(3, "words this text has never held anywhere at all", "orphan"),
        {
            **note(4, None, "xpath only"),
            "target": {"source": SOURCE, "selector": {"type": "XPathSelector", "value": "/p[2]"}},
        },
        reply(5, 404, "reply to nothing"),
        note(6, None, ""),  # no words, no span
        note(7, QUOTE, "someone else's", creator="Bea"),
        note(8, QUOTE, long_body),
    )
    response = api_import(ada, data)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert outcomes(report) == {
        iri(1): "imported",
        iri(2): "anchored approximately",
        iri(3): "orphaned",
        iri(4): "skipped",
        iri(5): "skipped",
        iri(6): "skipped",
        iri(7): "skipped",
        iri(8): "skipped",
    }
    reasons = {item["id"]: item.get("reason", "") for item in report["items"]}
    assert "XPathSelector" in reasons[iri(4)]
    assert "neither in the file nor one of your own" in reasons[iri(5)]
    assert "Empty" in reasons[iri(6)]
    assert "Written by someone else (Bea)" in reasons[iri(7)]
    assert "20,000" in reasons[iri(8)]
    approx = by_via(session, 2)
    assert approx.exact == "Litvinov in Copenhagen negotiated" and approx.start is not None
    orphan = by_via(session, 3)
    assert orphan.is_orphan and orphan.exact.startswith("words this text")
    assert count(session) == 3


def test_importing_the_same_file_again_stores_nothing_twice(ada, session):
    data = collection(note(1, QUOTE, "once"), reply(2, 1, "and its reply"), note(3, "Moscow"))
    assert api_import(ada, data).status_code == 201
    before = count(session)
    again = api_import(ada, data)
    assert again.status_code == 201
    assert again.get_json()["counts"] == {
        "imported": 0,
        "anchored approximately": 0,
        "orphaned": 0,
        "already imported": 3,
        "skipped": 0,
    }
    assert count(session) == before == 3
    # A reply added to the file since finds its parent among those imported before.
    grown = api_import(ada, collection(reply(4, 1, "a later reply")))
    assert outcomes(grown.get_json()) == {iri(4): "imported"}
    assert by_via(session, 4).parent_id == by_via(session, 1).id


def test_the_database_itself_holds_one_copy_per_reader_text_and_via(ada, session):
    """What keeps two imports at once from both storing a note: the uniqueness constraint."""
    api_import(ada, collection(note(1, QUOTE, "once")))
    first = by_via(session, 1)
    copy = Annotation(
        user_id=first.user_id,
        text_id=first.text_id,
        revision_id=first.revision_id,
        motivation=first.motivation,
        via=first.via,
    )
    session.add(copy)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"rows": 3, "type": "Thing"}', 400, "must hold a W3C AnnotationCollection"),
        (json.dumps([note(1, QUOTE, "fine"), 7]).encode(), 400, "Item 2 of the file"),
        (b"\xff\xfe not utf-8", 400, "UTF-8"),
    ],
)
def test_a_malformed_file_is_refused_whole(ada, session, data, status, words):
    response = api_import(ada, data)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]
    assert count(session) == 0


def test_a_file_sent_as_another_media_type_is_a_415_as_every_json_write_is(ada, session):
    """A body that is not JSON by its Content-Type is refused as the API's other JSON writes
    refuse it (415, naming what to send), not taken for a malformed file."""
    response = api_import(ada, collection(note(1, QUOTE, "fine")), content_type="text/plain")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "application/ld+json" in response.get_json()["detail"]
    assert count(session) == 0


def test_an_uploaded_file_holding_what_no_field_may_is_refused_whole(ada, session):
    page = page_import(ada, collection(note(1, QUOTE, "fine"), note(2, QUOTE, "a NUL \u0000")))
    assert page.status_code == 400
    assert "holds a NUL" in page.get_data(as_text=True)
    assert count(session) == 0


def test_a_file_over_the_limits_is_refused_and_nothing_is_stored(ada, session, monkeypatch):
    monkeypatch.setattr(annotation_import, "MAX_ITEMS", 2)
    three = collection(note(1, QUOTE, "a"), note(2, QUOTE, "b"), note(3, QUOTE, "c"))
    response = api_import(ada, three)
    assert response.status_code == 413 and "at most 2" in response.get_json()["detail"]
    monkeypatch.setattr(annotation_import, "MAX_FILE_BYTES", 100)
    page = page_import(ada, collection(note(1, QUOTE, "a")))
    assert page.status_code == 413
    assert "Nothing was imported" in page.get_data(as_text=True)
    assert count(session) == 0


def test_uploads_past_the_sites_request_limit_are_read_up_to_the_imports_own(ada, session):
    padded = collection(note(1, QUOTE, "padded")) + b" " * (3 * 1024 * 1024)  # over 2 MB
    assert api_import(ada, padded).status_code == 201
    huge = b" " * (annotation_import.MAX_FILE_BYTES + 10)
    assert api_import(ada, huge).status_code == 413
    assert count(session) == 1


def test_a_group_the_importer_is_not_in_keeps_the_note_private(ada, session):
    data = collection(
        note(
            1,
            QUOTE,
            "seminar words",
            **{"scholia:visibility": "group", "scholia:groupName": "Elsewhere"},
        )
    )
    report = api_import(ada, data).get_json()
    assert report["items"][0]["outcome"] == "imported"
    assert "kept private" in report["items"][0]["reason"]
    assert by_via(session, 1).visibility is Visibility.PRIVATE


def test_imports_have_their_own_hourly_quota(ada, session):
    for _ in range(annotation_import.IMPORTS_PER_HOUR):
        assert api_import(ada, b"[]").status_code == 201
    refused = api_import(ada, collection(note(1, QUOTE, "one too many")))
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert count(session) == 0


def test_an_import_is_one_operation_not_a_note_by_note_write(app, ada, session, seeded):
    many = app.config["WRITES_PER_MINUTE"] + 5
    data = collection(*(note(n, QUOTE, f"note {n}") for n in range(1, many + 1)))
    assert api_import(ada, data).get_json()["counts"]["imported"] == many
    # The per-minute write quota is untouched: the reader goes on annotating at once.
    factories.api_note(ada, seeded, "Moscow", "written by hand right after")


def test_shared_imported_notes_count_against_the_days_quota_private_ones_do_not(
    app, ada, session, seeded
):
    """Ten imports an hour of a thousand public notes each would flood a text past what one
    reader may write in a day; notes kept private reach nobody."""
    app.config["WRITES_PER_DAY"] = 10
    private = collection(*(note(n, QUOTE, f"mine {n}") for n in range(1, 13)))
    assert api_import(ada, private).get_json()["counts"]["imported"] == 12

    def public(first: int, many: int) -> bytes:
        return collection(
            *(
                note(n, QUOTE, f"for all {n}", **{"scholia:visibility": "public"})
                for n in range(first, first + many)
            )
        )

    before = count(session)
    flood = api_import(ada, public(100, 11))
    assert flood.status_code == 429 and "Nothing was imported" in flood.get_json()["detail"]
    assert count(session) == before
    assert api_import(ada, public(200, 8)).status_code == 201
    factories.api_note(ada, seeded, "Moscow", "one by hand", visibility="public")
    past = api_import(ada, public(300, 2))  # 8 imported + 1 written + 2 > 10
    assert past.status_code == 429 and count(session) == before + 9


def test_the_page_is_linked_from_the_notebook_and_needs_signing_in(ada, client, seeded):
    notebook = factories.dom(ada.html("/notes"))
    assert notebook.select_one('a[href="/import"]') is not None
    form = factories.dom(ada.html("/import"))
    assert form.select_one('form[enctype="multipart/form-data"] input[type=file][name=file]')
    assert form.select_one(f'select[name=text] option[value="{SLUG}"]')
    assert client.get("/import").status_code == 302


def test_someone_elses_notes_are_skipped_on_the_page_but_kept_by_the_cli_with_authors(
    ada, session, runner, tmp_path
):
    bea = factories.make_user(session, "bea@example.org", "Bea")
    data = collection(note(1, QUOTE, "Ada's"), note(2, "Moscow", "Bea's", creator="Bea"))
    page = page_import(ada, data)
    assert "Written by someone else (Bea)" in page.get_data(as_text=True)
    assert count(session) == 1
    path = tmp_path / "seminar.json"
    path.write_bytes(data)
    args = ["import-annotations", str(path), "--text", SLUG, "--user", ada.user.email]
    result = runner.invoke(args=[*args, "--keep-authors"])
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.output and "1 already imported" in result.output
    assert by_via(session, 2).user_id == bea.id
    unknown = tmp_path / "unknown.json"
    unknown.write_bytes(collection(note(3, QUOTE, "Cy's", creator="Cy")))
    result = runner.invoke(
        args=[
            "import-annotations",
            str(unknown),
            "--text",
            SLUG,
            "--user",
            ada.user.email,
            "--keep-authors",
        ]
    )
    assert "no account is named Cy: imported as yours" in result.output
    assert by_via(session, 3).user_id == ada.user.id


def test_the_cli_refuses_a_bad_file_clearly(ada, session, runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2")
    result = runner.invoke(
        args=["import-annotations", str(path), "--text", SLUG, "--user", ada.user.email]
    )
    assert result.exit_code != 0 and "not valid JSON" in result.output
    assert "Nothing was imported" in result.output


# ---- W3C model §3.3.2: id → via, canonical kept ----


def test_a_posted_id_is_kept_as_via_and_canonical_as_given(ada, session, seeded):
    content = seeded.current_revision.content
    start = content.index(QUOTE)
    payload = {
        "type": "Annotation",
        "id": "urn:uuid:0d7c1f3a-6a42-4e0e-9a1b-3c4a5b6c7d8e",
        "canonical": "https://canonical.example/anno/1",
        "target": {
            "source": factories.TEXT_URL,
            "selector": {"type": "TextPositionSelector", "start": start, "end": start + len(QUOTE)},
        },
    }
    response = ada.api("POST", "/api/v1/annotations", payload)
    assert response.status_code == 201, response.get_json()
    served = ada.get(response.headers["Location"]).get_json()
    assert served["via"] == payload["id"] and served["canonical"] == payload["canonical"]
    assert served["id"] != payload["id"]
    again = ada.api("POST", "/api/v1/annotations", payload)
    assert again.status_code == 409 and "not stored twice" in again.get_json()["detail"]
    assert ada.api("POST", "/api/v1/annotations", {**payload, "id": 5}).status_code == 400


# ---- round trip: a seminar's discussion leaves and comes back whole ----


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """Another instance, with a database of its own, migrated from nothing."""
    if database_url.startswith("sqlite"):
        url = "sqlite:///" + str(tmp_path / "fresh.sqlite3")
    else:
        url = database_beside(database_url, "fresh")
    other = make_test_app(url, tmp_path / "fresh-instance")
    migrate_from_nothing(other)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _seminar(session, text) -> None:
    """Ida and Ann's seminar on the text: private and public notes, a group's thread, tags, a
    discussion of ¶5."""
    ida = factories.make_user(session, "ida@example.org", "Ida Teacher")
    ann = factories.make_user(session, "ann@example.org", "Ann Student")
    group = factories.make_group(session, ida, ann, name="Carr seminar")
    factories.make_annotation(session, ida, text, QUOTE, body="Mine alone", tags=("draft", "nep"))
    factories.make_annotation(session, ida, text, "Moscow", visibility=Visibility.PUBLIC)
    factories.make_annotation(
        session, ida, text, None, body="On the whole text", visibility=Visibility.PUBLIC
    )
    question = factories.make_annotation(
        session, ann, text, OTHER, body="Why Estonia first?", tags=("treaty",), group=group
    )
    first = discussion.reply(session, viewer_for(session, ida), question.id, "Because it was near.")
    session.commit()
    discussion.reply(session, viewer_for(session, ann), first.id, "Thank you!")
    session.commit()
    thread = discussion.discussion_thread(session, viewer_for(session, ann), SLUG, group.id, 5)
    discussion.reply(session, viewer_for(session, ann), thread.id, "On ¶5, for everyone")
    session.commit()


def _exported(app, session) -> bytes:
    """The text's annotations as the export gives them: serialise + scholia:groupName."""
    with app.test_request_context():
        urls = Urls()
        items = []
        for annotation in session.scalars(select(Annotation).order_by(Annotation.id)):
            item = serialise(annotation, urls=urls, context=False)
            if annotation.group_id is not None:
                item["scholia:groupName"] = session.get(Group, annotation.group_id).name
            items.append(item)
    return collection(*items)


def _picture(session) -> list[tuple]:
    """What a reader sees of each annotation: author, words, anchor, tags, audience, thread."""
    annotations = session.scalars(select(Annotation)).all()
    by_id = {a.id: a for a in annotations}

    def group_name(a):
        return session.get(Group, a.group_id).name if a.group_id else None

    return sorted(
        (
            session.get(User, a.user_id).display_name,
            a.motivation.value,
            a.body_source,
            a.exact,
            a.start,
            a.end,
            tuple(a.tag_names),
            a.visibility.value,
            group_name(a),
            by_id[a.parent_id].body_source if a.parent_id else None,
            by_id[a.root_id].body_source if a.root_id else None,
            a.color,
            a.is_discussion,
        )
        for a in annotations
    )


def test_round_trip_into_a_fresh_instance_keeps_annotations_anchors_threads_tags_audiences(
    app, session, seeded, fresh_app, tmp_path
):
    _seminar(session, seeded)
    session = factories.fresh(session)
    before = _picture(session)
    path = tmp_path / "seminar.jsonld"
    path.write_bytes(_exported(app, session))

    with fresh_app.app_context(), Session(db.engine) as there:
        importer.import_file(there, SEED)
        there.commit()
        ida = factories.make_user(there, "ida@other.example", "Ida Teacher")
        ann = factories.make_user(there, "ann@other.example", "Ann Student")
        factories.make_group(there, ida, ann, name="Carr seminar")
    runner = fresh_app.test_cli_runner()
    args = ["import-annotations", str(path), "--text", SLUG, "--user", "ida@other.example"]
    result = runner.invoke(args=[*args, "--keep-authors"])
    assert result.exit_code == 0, result.output
    assert f"W3C file into {SLUG}: 8 imported" in result.output
    with fresh_app.app_context(), Session(db.engine) as there:
        assert _picture(there) == before
    again = runner.invoke(args=[*args, "--keep-authors"])
    assert "8 already imported" in again.output
