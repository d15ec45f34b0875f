"""Exports as downloads, for the notebook and group pages' links and for scripts alike.

Each answer streams (``stream_with_context``) what ``app.services.exports`` reads a batch at a
time; access is checked before the first byte, so a refusal is still a problem document.
The JSON-LD items are exactly the API's own annotations (``presenters.serialise``), with
``scholia:groupName`` beside ``scholia:group``: the contract an importer reads (docs/open-data.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Response, request, stream_with_context, url_for
from werkzeug.urls import iri_to_uri

from app.api import bp, protocol, require_user
from app.api.presenters import Urls, serialise, xsd_datetime
from app.current import viewer
from app.extensions import db
from app.models import HighlightColor
from app.services import exports
from app.services.access import Action, can
from app.services.annotations import NotebookFilter
from app.services.errors import Malformed
from app.services.importer import slugify
from app.views.notes import note_in_text

GROUP_NAME_KEY = "scholia:groupName"
MARKDOWN = "text/markdown; charset=utf-8"
CSV = "text/csv; charset=utf-8; header=present"


def _link(annotation) -> str:
    return note_in_text(annotation, external=True)


def _filters() -> NotebookFilter:
    """The notebook page's filters (``tag``, ``color``), as its page sends them."""
    raw = request.args.get("color") or None
    try:
        color = HighlightColor(raw) if raw else None
    except ValueError:
        names = ", ".join(c.value for c in HighlightColor)
        raise Malformed(f"color must be one of {names}.") from None
    return NotebookFilter(tag=request.args.get("tag") or None, color=color)


def attachment(name: str, extension: str) -> str:
    """``Content-Disposition`` of a download named ``name`` (a group's name, say): an ASCII
    ``filename`` for old clients and the UTF-8 one in ``filename*`` (RFC 6266, RFC 8187), both
    without anything a file system or a header could misread."""
    fallback = slugify(name)[:80].rstrip("-") or "scholia-export"
    readable = re.sub(r"[^\w-]+", "-", name).strip("-")[:80].rstrip("-") or fallback
    return (
        f'attachment; filename="{fallback}.{extension}"; '
        f"filename*=UTF-8''{quote(readable, safe='')}.{extension}"
    )


def _download(chunks: Iterator[str], content_type: str, disposition: str) -> Response:
    response = Response(stream_with_context(chunks), content_type=content_type)
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _collection(export: exports.Export, now: datetime) -> Iterator[str]:
    """The export as a W3C AnnotationCollection, its items the API's annotations."""
    acting = viewer()
    urls = Urls.of_request()
    head = {
        "@context": urls.context,
        # The address asked for as a URI: werkzeug's request.url keeps a query's non-ASCII
        # (a tag of accented letters) as it was decoded.
        "id": iri_to_uri(request.url),
        "type": "AnnotationCollection",
        "label": export.label,
        "generator": {
            "id": url_for("library.index", _external=True),
            "type": "Software",
            "name": "Scholia",
        },
        "generated": xsd_datetime(now),
    }

    def item(entry: exports.Item) -> dict:
        a = entry.annotation
        data = serialise(a, entry.spans, can(acting, Action.READ_HIDDEN, a), urls, context=False)
        if entry.group_name is not None:
            data[GROUP_NAME_KEY] = entry.group_name
        return data

    return exports.collection_chunks(head, (item(entry) for entry in export.items))


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


@bp.get("/exports/notebook.md")
def export_notebook_markdown():
    """All my annotations and replies as one Markdown file for an Obsidian vault, by text and
    in reading order; ``tag`` and ``color`` filter as on the notebook page."""
    acting = require_user()
    export = exports.notebook(db.session, acting, _filters(), reading_order=True)
    now = datetime.now(UTC)
    source = url_for("notes.notebook", _external=True)
    chunks = exports.markdown_chunks(export, _link, source, now)
    return _download(chunks, MARKDOWN, attachment(f"scholia-notebook-{_stamp(now)}", "md"))


@bp.get("/exports/notebook.jsonld")
def export_notebook_jsonld():
    """All my annotations and replies as a W3C AnnotationCollection, in created order (a
    parent before its replies); ``tag`` and ``color`` filter as on the notebook page."""
    acting = require_user()
    export = exports.notebook(db.session, acting, _filters())
    now = datetime.now(UTC)
    disposition = attachment(f"scholia-notebook-{_stamp(now)}", "jsonld")
    return _download(_collection(export, now), protocol.ANNO_MEDIA_TYPE, disposition)


@bp.get("/exports/groups/<int:group_id>.csv")
def export_group_csv(group_id: int):
    """The group's annotations and replies, a row each, for its instructors (403 for its
    members, 404 for anyone else)."""
    export = exports.discussion(db.session, require_user(), group_id)
    now = datetime.now(UTC)
    name = f"{export.group.name} discussion {_stamp(now)}"
    return _download(exports.csv_chunks(export.items, _link), CSV, attachment(name, "csv"))


@bp.get("/exports/groups/<int:group_id>.jsonld")
def export_group_jsonld(group_id: int):
    """The group's annotations and replies as a W3C AnnotationCollection, hidden ones with
    ``scholia:hidden``, for its instructors (403 for its members, 404 for anyone else)."""
    export = exports.discussion(db.session, require_user(), group_id)
    now = datetime.now(UTC)
    name = f"{export.group.name} discussion {_stamp(now)}"
    return _download(_collection(export, now), protocol.ANNO_MEDIA_TYPE, attachment(name, "jsonld"))
