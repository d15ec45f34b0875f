"""Importing a file on the page, in a real browser: the form, its refusal and the report, each
axe-clean in light and dark."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, SeminarNotes, sign_in
from tests.browser.test_accessibility import SCHEMES, _assert_no_violations

pytestmark = pytest.mark.browser

SOURCE = "https://elsewhere.example/texts/carr-rapprochement"


def _file(*items: dict) -> dict:
    data = json.dumps({"type": "AnnotationCollection", "items": list(items)}).encode()
    return {"name": "notes.jsonld", "mimeType": "application/ld+json", "buffer": data}


def _note(n: int, quote: str, body: str, creator: str) -> dict:
    return {
        "id": f"https://elsewhere.example/api/v1/annotations/{n}",
        "type": "Annotation",
        "creator": {"type": "Person", "name": creator},
        "body": [{"type": "TextualBody", "value": body}],
        "target": {"source": SOURCE, "selector": {"type": "TextQuoteSelector", "exact": quote}},
    }


@SCHEMES
def test_import_from_the_notebook_to_the_report_and_the_text(
    new_page, page_watch, seminar_notes, scheme
):
    page_watch.allow_console_error(r"status of 400")  # the refused file, on purpose
    page = new_page(color_scheme=scheme)
    sign_in(page, SeminarNotes.MEMBER)
    page.goto("/notes")
    page.get_by_role("link", name="Import annotations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import annotations")
    _assert_no_violations(page)
    # A file that is not JSON: the form again, with why, and nothing imported.
    page.get_by_label("File").set_input_files(
        {"name": "notes.json", "mimeType": "application/json", "buffer": b"{oops"}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid JSON")
    _assert_no_violations(page)
    page.get_by_label("File").set_input_files(
        _file(
            _note(1, "Litvinov in Copenhagen", "Imported from elsewhere", "Ann Student"),
            _note(2, "Litvinov in Copenhagen", "Not mine", "Someone Else"),
        )
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import report")
    expect(page.get_by_role("main")).to_contain_text("Written by someone else (Someone Else)")
    _assert_no_violations(page)
    page.get_by_role("main").get_by_role("link", name="Read").first.click()
    expect(page).to_have_url(re.compile(re.escape(READ_PATH) + "$"))
    expect(page.get_by_role("main")).to_contain_text("Imported from elsewhere")
