"""A text's annotations a page at a time, for the API's paged, cached collection.

The reading page shows a text's annotations in margins of a few each; a client of the API reads
them in pages of a few hundred, so no answer grows with the text's popularity. A page is
made once and then served from the render cache until the text changes; ``text_state`` is what
a cached answer costs: one small, prebuilt query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from app.database import rows_committed
from app.models import Annotation, Text
from app.services import live
from app.services.access import Viewer, visible_to
from app.services.errors import NotFound

# Reading order: anchored annotations by position, then notes on the whole text and orphans.
READING_ORDER = (Annotation.start.is_(None), Annotation.start, Annotation.id)


@dataclass(frozen=True)
class TextState:
    """A text and where its change log stands: everything its pages are made from but viewer."""

    id: int
    slug: str
    title: str
    revision_id: int
    cursor: int  # live.latest_id: every change to the text's annotations moves it


# Built once: SQLAlchemy then skips building and keying the statement on every request.
_STATE = select(
    Text.id,
    Text.slug,
    Text.title,
    Text.current_revision_id,
    live.cursor_of(Text.id).label("cursor"),
).where(Text.slug == bindparam("slug"), Text.current_revision_id.is_not(None))


def text_state(engine: Engine, slug: str) -> TextState:
    """The text named ``slug`` and its change-log cursor, read together in one query.

    Read before any annotation: a change that lands in between can then only put a newer page
    under the older cursor, never an older page under the newer one.
    """
    rows = rows_committed(engine, _STATE, {"slug": slug})
    if not rows:
        raise NotFound(f"There is no text '{slug}'.")
    return TextState(*rows[0])


def page_for_text(
    session: Session, viewer: Viewer, text_id: int, offset: int, limit: int
) -> tuple[int, list[Annotation]]:
    """How many annotations on the text the viewer may see, and ``limit`` of them from ``offset``.

    Two queries (and one for the tags of the page's items), whatever the page; a page past the
    end costs only the count.
    """
    visible = (Annotation.text_id == text_id, visible_to(viewer))
    total = session.scalar(select(func.count()).select_from(Annotation).where(*visible))
    if offset >= total or limit == 0:
        return total, []
    found = session.scalars(
        select(Annotation)
        .where(*visible)
        .options(joinedload(Annotation.user))
        .order_by(*READING_ORDER)
        .offset(offset)
        .limit(limit)
    )
    return total, list(found)
