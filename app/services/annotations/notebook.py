"""A reader's own annotations across texts, and the tags they may filter by."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import (
    Annotation,
    AnnotationTag,
    HighlightColor,
    Text,
    TextRevision,
)
from app.models.text import paragraph_at
from app.services.access import Viewer, readable_by, visible_to
from app.services.annotations.rules import normalise_tag


@dataclass(frozen=True)
class NotebookFilter:
    tag: str | None = None
    color: HighlightColor | None = None


def notebook(session: Session, viewer: Viewer, filters: NotebookFilter) -> list[Annotation]:
    """All of a reader's own annotations, by text, then in reading order."""
    query = (
        select(Annotation)
        .join(Text, Annotation.text_id == Text.id)
        .where(visible_to(viewer), Annotation.user_id == viewer.id)
        # Notes and highlights; replies live in their threads, discussions belong to groups.
        .where(Annotation.root_id.is_(None), Annotation.is_discussion.is_(False))
        .options(joinedload(Annotation.text), joinedload(Annotation.revision))
        .order_by(func.lower(Text.title), Annotation.start.is_(None), Annotation.start)
    )
    return list(session.scalars(filtered(query, filters)).unique())


def filtered(query: Select, filters: NotebookFilter) -> Select:
    """``query`` narrowed to the annotations ``filters`` ask for (the notebook's, its exports')."""
    if filters.tag:
        query = query.where(Annotation.tags.any(AnnotationTag.name == normalise_tag(filters.tag)))
    if filters.color:
        query = query.where(Annotation.color == filters.color)
    return query


def tag_suggestions(
    session: Session, viewer: Viewer, text_id: int | None = None, *, own: bool = False
) -> list[str]:
    """Tags on annotations whose words the reader may read (on one text; with ``own``, only
    their own), most used first, for the editor and the notebook's filter. A hidden note's
    tags are its words: they give nothing away to those who see only that it was hidden."""
    query = select(AnnotationTag.name, func.count()).join(
        Annotation, Annotation.id == AnnotationTag.annotation_id
    )
    if text_id is not None:
        query = query.where(Annotation.text_id == text_id)
    if own:
        query = query.where(Annotation.user_id == viewer.id)
    rows = session.execute(
        query.where(readable_by(viewer))
        .group_by(AnnotationTag.name)
        .order_by(func.count().desc(), AnnotationTag.name)
        .limit(200)
    )
    return [name for name, _ in rows]


@dataclass
class NotebookGroup:
    text: Text
    # (paragraph number, its annotations); number None holds whole-text notes and orphans.
    paragraphs: list[tuple[int | None, list[Annotation]]]


def group_for_notebook(session: Session, found: list[Annotation]) -> list[NotebookGroup]:
    """Group a notebook listing by text, then paragraph, with one query for all paragraphs."""
    revision_ids = {a.revision_id for a in found}
    spans: dict[int, list] = {}
    if revision_ids:
        revisions = session.scalars(
            select(TextRevision)
            .where(TextRevision.id.in_(revision_ids))
            .options(selectinload(TextRevision.paragraphs))
        )
        spans = {r.id: r.spans() for r in revisions}
    groups: dict[int, NotebookGroup] = {}
    for annotation in found:
        group = groups.setdefault(annotation.text_id, NotebookGroup(annotation.text, []))
        number = None
        if annotation.start is not None:
            number = paragraph_at(spans[annotation.revision_id], annotation.start).paragraph.number
        if group.paragraphs and group.paragraphs[-1][0] == number:
            group.paragraphs[-1][1].append(annotation)
        else:
            group.paragraphs.append((number, [annotation]))
    return list(groups.values())
