from flask import jsonify, request

from app.api import bp
from app.api.presenters import Urls, xsd_datetime
from app.current import viewer
from app.extensions import db
from app.services import search
from app.views.search import hit_url


@bp.get("/search")
def search_annotations():
    """Full-text search over paragraphs and the annotations the caller may read.

    Parameters (all optional): ``q`` (words; at most 12 count), ``text`` (a slug), ``group``
    (an id or "group-<id>" of the caller's), ``member`` (an author's id), ``tag``, ``from`` and
    ``to`` (YYYY-MM-DD, inclusive), ``kind`` (paragraph, note, highlight, question, reply),
    ``page`` (from 1; 20 items a page). A bad value is a 400 problem.
    """
    acting = viewer()
    query = search.parse(request.args, acting)
    results = search.search(db.session, acting, query)
    urls = Urls.of_request()
    items = []
    for hit in results.hits:
        note = hit.annotation
        items.append(
            {
                "kind": hit.kind,
                "id": urls.annotation(hit.text.slug, note.id) if note else None,
                "url": request.host_url.rstrip("/") + hit_url(hit),
                "text": {"slug": hit.text.slug, "title": hit.text.title},
                "paragraph": hit.paragraph,
                "snippet": str(hit.snippet),
                "author": hit.author,
                "created": xsd_datetime(hit.created) if hit.created else None,
            }
        )
    return jsonify(
        {"total": results.total, "page": query.page, "pageSize": search.PAGE_SIZE, "items": items}
    )
