"""Reading single annotations and a text's list, through the access policy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, true
from sqlalchemy.orm import Session, joinedload

from app.models import Annotation, AnnotationVersion, Text, User
from app.models.text import ParagraphSpan
from app.services import revision_cache
from app.services.access import Action, Viewer, can
from app.services.annotations.rules import FORBIDDEN_MESSAGES
from app.services.errors import Forbidden, NotFound

# Built once: making the joinedload option anew costs more than running the query.
_TEXT_BY_SLUG = (
    select(Text).where(Text.slug == bindparam("slug")).options(joinedload(Text.current_revision))
)


_TEXT_AND_AUTHOR = (
    select(Text, User)
    .join(User, true())  # two rows by their keys, side by side: no relation between them
    .where(Text.slug == bindparam("slug"), User.id == bindparam("user_id"))
    .options(joinedload(Text.current_revision))
    # As they are now, whatever the session loaded before: what is anchored on is current.
    .execution_options(populate_existing=True)
)


def text_and_author(session: Session, slug: str, viewer: Viewer) -> tuple[Text, User]:
    """The text (with its current revision) and the viewer as ``User``, in one query: what a
    new annotation is written on and by, and what its answer names (measured: the author's
    lazy load after the commit cost a create a twelfth of its time)."""
    row = session.execute(_TEXT_AND_AUTHOR, {"slug": slug, "user_id": viewer.id}).one_or_none()
    if row is None or row[0].current_revision is None:
        raise NotFound(f"There is no text '{slug}'.")
    return row[0], row[1]


def text_for(session: Session, slug: str, *, reload: bool = False) -> Text:
    query = _TEXT_BY_SLUG.execution_options(populate_existing=True) if reload else _TEXT_BY_SLUG
    text = session.scalar(query, {"slug": slug})
    if text is None or text.current_revision is None:
        raise NotFound(f"There is no text '{slug}'.")
    return text


def paragraph_spans(session: Session, annotation: Annotation) -> list[ParagraphSpan]:
    """The paragraphs of the revision the annotation is anchored to, with their offsets.

    From this process's cache of immutable revisions (see revision_cache): read, never change.
    """
    return revision_cache.layout(session, annotation.revision).spans


def get_visible(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or not can(viewer, Action.VIEW, annotation):
        raise NotFound()
    return annotation


def text_slug_of(session: Session, annotation_id: int) -> str | None:
    """The slug of the text an annotation is on (None if there is no such annotation): where its
    IRI lives. Says nothing about the annotation to a caller who may not see it."""
    return session.scalar(
        select(Text.slug)
        .join(Annotation, Annotation.text_id == Text.id)
        .where(Annotation.id == annotation_id)
    )


def get_editable(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """For the edit form: the author only (404 if unseen, 403 if someone else's)."""
    annotation = get_visible(session, viewer, annotation_id)
    if not can(viewer, Action.EDIT, annotation):
        raise Forbidden(FORBIDDEN_MESSAGES[Action.EDIT])
    return annotation


@dataclass(frozen=True)
class History:
    annotation: Annotation
    versions: list[AnnotationVersion]  # the earlier versions the viewer may read, oldest first
    withheld: int  # earlier versions written for another audience, for the author's eyes only


def versions(session: Session, viewer: Viewer, annotation_id: int) -> History:
    """A note's earlier versions, as far as they were written for those who may read it now."""
    annotation = get_visible(session, viewer, annotation_id)
    if not can(viewer, Action.READ_HIDDEN, annotation):
        raise Forbidden("An instructor has hidden this annotation.")
    is_author = annotation.user_id == viewer.id
    shown = [v for v in annotation.versions if is_author or not v.author_only]
    return History(annotation, shown, len(annotation.versions) - len(shown))
