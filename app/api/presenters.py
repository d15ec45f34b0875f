"""Annotations and their collections as W3C Web Annotation JSON-LD (as ``h/presenters``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request, url_for

from app.api.schemas import (
    ANNO_CONTEXT,
    COLOR_KEY,
    GROUP_KEY,
    LDP_CONTEXT,
    PAGE_SIZE,
    VISIBILITY_KEY,
    Paging,
)
from app.models import Annotation, Motivation
from app.models.text import ParagraphSpan, paragraph_at
from app.services.annotation_pages import TextState
from app.services.errors import NotFound

MAX_URL_ROOTS = 32


class Urls:
    """The absolute URLs that annotations name, built once per request.

    ``url_for`` is slow next to string formatting, and a page of annotations names several
    URLs per item. Everything here depends only on the request's root URL
    (``request.url_root``: scheme, host and script root) and the routes.
    """

    def __init__(self) -> None:
        self.context = [ANNO_CONTEXT, {"scholia": url_for("api.namespace", _external=True) + "#"}]
        self._texts: dict[str, str] = {}
        self._containers: dict[str, str] = {}

    @classmethod
    def of_request(cls) -> Urls:
        """The request's ``Urls``, made once per worker and root URL rather than per request.

        What ``url_for`` answers depends on the app's routes and on the request's scheme, host
        and script root, all of them in the WSGI environ (after ProxyFix has rewritten it):
        the key. The host is the client's to choose, so the table is bounded.
        """
        environ = request.environ
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME"),
        )
        table = current_app.extensions.setdefault("scholia.urls", {})
        urls = table.get(key)
        if urls is None:
            if len(table) >= MAX_URL_ROOTS:
                table.clear()
            urls = table[key] = cls()
        return urls

    def container(self, slug: str) -> str:
        """The text's annotation container (W3C protocol §4), an IRI ending in ``/``."""
        url = self._containers.get(slug)
        if url is None:
            url = self._containers[slug] = url_for("api.container", slug=slug, _external=True)
        return url

    def annotation(self, slug: str, annotation_id: int) -> str:
        """An annotation's IRI: inside its text's container (its route, api.annotation)."""
        return f"{self.container(slug)}{annotation_id}"

    def text(self, slug: str) -> str:
        url = self._texts.get(slug)
        if url is None:
            url = self._texts[slug] = url_for("library.read", slug=slug, _external=True)
        return url


def xsd_datetime(moment: datetime) -> str:
    """An ``xsd:dateTime`` in UTC with its ``Z``, as the Web Annotation model asks of
    ``created`` and ``modified``. A zoneless value (as SQLite keeps them) is the UTC it was
    stored in; PostgreSQL's aware values may come in the session's zone and are turned to UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def _target(annotation: Annotation, urls: Urls) -> Any:
    if annotation.is_reply:  # W3C: a reply's target is the annotation it answers
        return urls.annotation(annotation.text.slug, annotation.parent_id)
    target: dict[str, Any] = {"source": urls.text(annotation.text.slug)}
    if annotation.exact is not None:
        selectors: list[dict] = [
            {
                "type": "TextQuoteSelector",
                "exact": annotation.exact,
                "prefix": annotation.prefix,
                "suffix": annotation.suffix,
            }
        ]
        if annotation.start is not None:
            selectors.append(
                {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end}
            )
        target["selector"] = selectors
    return target


def serialise(
    annotation: Annotation,
    spans: list[ParagraphSpan] | None = None,
    readable: bool = True,
    urls: Urls | None = None,
    context: bool = True,
) -> dict:
    """The annotation as W3C JSON-LD; ``spans`` (the text's paragraphs) add scholia:paragraph.

    ``readable`` is False for a hidden annotation the caller may not read: its words stay out.
    ``urls`` are the request's, made once for many items; ``context=False`` leaves out the
    ``@context`` of an item inside a collection or page, which carries it once for them all.
    """
    urls = urls or Urls()
    bodies = []
    if annotation.body_source and readable:
        bodies.append(
            {
                "type": "TextualBody",
                "purpose": "commenting",
                "format": annotation.body_format,
                "value": annotation.body_source,
            }
        )
        if annotation.body_language:
            bodies[-1]["language"] = annotation.body_language
    suggestion = annotation.suggestion if annotation.motivation is Motivation.EDITING else None
    if suggestion is not None and readable:
        bodies.append(
            {
                "type": "TextualBody",
                "purpose": "editing",
                "format": "text/plain",
                "value": suggestion.replacement,
            }
        )
    for tag in annotation.tag_names if readable else []:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": tag})
    data: dict[str, Any] = {
        "id": urls.annotation(annotation.text.slug, annotation.id),
        "type": "Annotation",
        "motivation": annotation.motivation.value,
        "created": xsd_datetime(annotation.created_at),
        "modified": xsd_datetime(annotation.updated_at),
        "creator": {"type": "Person", "name": annotation.user.display_name},
        "target": _target(annotation, urls),
        VISIBILITY_KEY: annotation.visibility.value,
        "scholia:orphan": annotation.is_orphan,
    }
    if bodies:  # a highlight has none, and no "body" (the model's own highlight example)
        data["body"] = bodies
    if annotation.group_id is not None:
        data[GROUP_KEY] = annotation.group_id
    if annotation.is_reply:
        data["scholia:root"] = urls.annotation(annotation.text.slug, annotation.root_id)
    if annotation.is_hidden:
        data["scholia:hidden"] = True
    if annotation.is_discussion:
        data["scholia:discussion"] = True
    if suggestion is not None:
        data["scholia:suggestion"] = suggestion.status.value
    if annotation.color is not None:
        data[COLOR_KEY] = annotation.color.value
    # Any string a client sent (a POST's id, its canonical): words too, hidden with the rest.
    if annotation.via is not None and readable:
        data["via"] = annotation.via
    if annotation.canonical is not None and readable:
        data["canonical"] = annotation.canonical
    if spans is not None and annotation.start is not None:
        data["scholia:paragraph"] = paragraph_at(spans, annotation.start).paragraph.number
    return {"@context": urls.context, **data} if context else data


@dataclass(frozen=True)
class ContainerView:
    """How a client asked to see a container (protocol §4.2, with LDP's ``Prefer``): whole, or
    minimal (no page inside it), with its items described or named by IRI only."""

    minimal: bool = False
    iris: bool = False


def container(
    urls: Urls,
    text: TextState,
    paging: Paging,
    total: int,
    items: list,
    view: ContainerView = ContainerView(),
) -> dict:
    """A text's annotation container (an LDP BasicContainer and AnnotationCollection) with its
    first page inside, or with ``?page=N`` that AnnotationPage (protocol §4.2-4.3).

    Pages of IRIs (``oa:PreferContainedIRIs``) are told apart from pages of descriptions by
    ``iris=1`` in their IRIs, as the protocol's examples do, so each page's IRI names one
    representation.
    """
    iri = urls.container(text.slug)
    query = "iris=1&" if view.iris else ""
    if paging.limit != PAGE_SIZE:
        query += f"limit={paging.limit}&"
    last = max(0, -(-total // paging.limit) - 1)
    number = paging.page or 0
    if number > last:
        raise NotFound(
            f"There is no page {number}: pages run from 0 to {last} ({total} annotations)."
        )

    def page_url(n: int) -> str:
        return f"{iri}?{query}page={n}"

    page: dict[str, Any] = {
        "id": page_url(number),
        "type": "AnnotationPage",
        "partOf": {"id": iri, "total": total},
        "startIndex": paging.offset,
    }
    if number > 0:
        page["prev"] = page_url(number - 1)
    if number < last:
        page["next"] = page_url(number + 1)
    page["items"] = items
    if paging.page is not None:
        return {"@context": urls.context, **page}
    data: dict[str, Any] = {
        "@context": [*urls.context, LDP_CONTEXT],
        "id": iri,
        "type": ["BasicContainer", "AnnotationCollection"],
        "label": f"Annotations on {text.title}",
        "total": total,
        "first": page_url(0) if view.minimal else page,
        "last": page_url(last),
    }
    return data
