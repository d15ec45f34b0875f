"""New annotations and edits: the one write path (``store``), checks under the write lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import (
    Annotation,
    AnnotationTag,
    AnnotationVersion,
    EventKind,
    HighlightColor,
    IdempotencyKey,
    Motivation,
    Suggestion,
    Text,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import live, markdown, notifications, quotas, revision_cache
from app.services.access import Action, Viewer, can
from app.services.annotations.queries import text_and_author, text_for
from app.services.annotations.rules import (
    audience_key,
    check_audience,
    check_body,
    check_motivation,
    check_words,
    normalise_tags,
    refusal,
)
from app.services.annotations.spans import SpanTarget, resolve_span, same_target, set_span
from app.services.errors import Conflict, Invalid, Malformed, NotFound, SignInNeeded


@dataclass(frozen=True)
class BodyForm:
    """The media type and language of a note's words (W3C model §3.2.4)."""

    format: str = markdown.MARKDOWN
    language: str | None = None


MARKDOWN_BODY = BodyForm()  # what the page writes


@dataclass
class Draft:
    """A new annotation's content, in neutral form (the API and the HTML forms both make one)."""

    text_slug: str
    motivation: Motivation = Motivation.COMMENTING
    body: str = ""
    tags: list[str] = field(default_factory=list)
    color: HighlightColor | None = None
    target: SpanTarget | None = None  # None: a note on the whole text
    visibility: Visibility = Visibility.PRIVATE
    group_id: int | None = None
    via: str | None = None  # the IRI it had where it came from (W3C model §3.3.2)
    canonical: str | None = None
    form: BodyForm = MARKDOWN_BODY
    # A suggested correction's words (motivation EDITING only; see services/corrections.py).
    replacement: str | None = None


@dataclass
class Changes:
    """An edit; fields left as None stay as they are."""

    body: str | None = None
    tags: list[str] | None = None
    color: HighlightColor | None = None
    clear_color: bool = False
    motivation: Motivation | None = None
    # A target sent with the edit (the text's slug and the span, None for the whole text): it
    # must be the annotation's own, since a note stays on the words it was written on.
    target: tuple[str, SpanTarget | None] | None = None
    parent_id: int | None = None  # likewise a reply's target: the note it answers
    # A suggestion's words sent back (a body with purpose editing): they must be its own.
    replacement: str | None = None
    # Where it came from and its name across systems (W3C model §3.3.2), sent back as served:
    # once set they stay (protocol §5.3), but a canonical IRI may be given later.
    via: str | None = None
    canonical: str | None = None
    form: BodyForm = MARKDOWN_BODY  # of the body, when one is sent (the page's: Markdown)


def new_annotation(
    viewer: Viewer, body: str = "", form: BodyForm = MARKDOWN_BODY, **fields
) -> Annotation:
    """An annotation by the viewer, its words rendered once, created and updated now.

    ``updated_at`` starts equal to ``created_at``: only an edit moves it (see is_edited).
    """
    now = utcnow()
    return Annotation(
        created_at=now,
        updated_at=now,
        user_id=viewer.id,
        body_source=body,
        body_html=markdown.render_body(body, form.format),
        body_format=form.format,
        body_language=form.language,
        **fields,
    )


def check_quota(session: Session, viewer: Viewer) -> None:
    """Refuse a change past the viewer's write quota; every write calls it under the lock."""
    if viewer.limits is not None and viewer.id is not None:
        quotas.check(session, viewer.id, viewer.limits)


def create(session: Session, viewer: Viewer, draft: Draft) -> Annotation:
    """Store a new annotation, with its tags and its event, in one short write transaction.

    On SQLite every worker's writes queue for one lock, so the work that needs no lock
    (anchoring the span on the text as it stands, rendering the Markdown) is done before it;
    under the lock the text's current revision is read again, and anchored on afresh only if
    the text was revised meanwhile.
    """
    if viewer.user is None:
        raise SignInNeeded("Sign in to annotate.")
    check_audience(viewer, draft.visibility, draft.group_id)
    body = check_body(draft.body)
    tags = normalise_tags(draft.tags)
    check_motivation(draft.motivation, is_reply=False)
    if (draft.motivation is Motivation.EDITING) != (draft.replacement is not None):
        raise Invalid(
            "A suggested correction (motivation 'editing') has a body with purpose 'editing': "
            "the words to put in place of those it targets; nothing else has one."
        )
    if draft.motivation is Motivation.EDITING and draft.target is None:
        raise Invalid("A suggested correction is on words of the text: its target needs them.")
    if draft.target is None and not body.strip():
        raise Invalid("A note on the whole text needs some words.")
    text, author = text_and_author(session, draft.text_slug, viewer)
    # Refused here, it is refused: this read is the text as it stands (the lock is not taken).
    annotation = _new_on_text(session, viewer, draft, body, text)
    # The caller answers with the annotation as written (its author's name too): the commit
    # need not expire it.
    begin_write(session, keep=[text, text.current_revision, author], expire_on_commit=False)
    check_quota(session, viewer)
    check_new_via(session, viewer.id, text.id, draft.via)
    # FOR KEY SHARE (PostgreSQL; SQLite's write lock already did it): an accept or import
    # holding the text's row finishes first, and the note is anchored on what it made.
    current = session.scalar(
        select(Text.current_revision_id)
        .where(Text.id == text.id)
        .with_for_update(read=True, key_share=True)
    )
    if current != annotation.revision.id:  # revised since: anchor on what is current now
        text = text_for(session, draft.text_slug, reload=True)
        annotation = _new_on_text(session, viewer, draft, body, text)
    annotation.created_at = annotation.updated_at = utcnow()
    annotation.user = author
    annotation.tags = [AnnotationTag(name=name) for name in sorted(tags)]  # as loaded
    if draft.replacement is not None:
        annotation.suggestion = Suggestion(original=annotation.exact, replacement=draft.replacement)
    audience = audience_key(draft.visibility, draft.group_id)
    # Offered first next time outside a group's lens (ReadingContext.default_audience): "private"
    # or "public"; a group's notes default to the group in its own lens.
    if draft.group_id is None and viewer.user.last_audience != audience:
        session.execute(update(User).where(User.id == viewer.id).values(last_audience=audience))
    if draft.via is None:
        return store(session, viewer, annotation)
    try:  # a POST with the same id at the same moment (PostgreSQL) meets the constraint
        with session.begin_nested():
            return store(session, viewer, annotation)
    except IntegrityError:
        check_new_via(session, viewer.id, text.id, draft.via)
        raise


def check_new_via(session: Session, user_id: int | None, text_id: int, via: str | None) -> None:
    """Refuse a second annotation by one reader on one text with the same ``via`` (the id a
    client sent, or an imported annotation's): each is stored once."""
    if via is None:
        return
    found = session.scalar(
        select(Annotation.id).where(
            Annotation.user_id == user_id, Annotation.text_id == text_id, Annotation.via == via
        )
    )
    if found is not None:
        raise Conflict(
            f"You already have annotation {found} on this text with the id {via[:200]!r} (kept "
            "as its via): it is not stored twice."
        )


def store(
    session: Session,
    viewer: Viewer,
    annotation: Annotation,
    parent: Annotation | None = None,
    *,
    imported: bool = False,
) -> Annotation:
    """Write a new annotation (a note, a highlight or a reply) with its event and its
    notices: the one way a new annotation reaches the database, under the write lock.

    An ``imported`` one's event names no actor (an import counts against the imports' own
    quota, not note by note against the writes'), and it notifies nobody: a discussion brought
    back is no news to anyone."""
    if annotation.written_revision_id is None:  # for good: re-anchoring never moves it
        annotation.written_revision_id = annotation.revision_id
        if annotation.written_revision_id is None:
            annotation.written_revision = annotation.revision
    session.add(annotation)
    session.flush()
    live.record(session, annotation, EventKind.CREATED, None if imported else viewer.id)
    if not imported:
        notifications.notify(session, annotation, parent)
    return annotation


def _new_on_text(
    session: Session, viewer: Viewer, draft: Draft, body: str, text: Text
) -> Annotation:
    """The annotation ``draft`` describes, anchored on the text's current revision, unsaved."""
    revision = text.current_revision
    annotation = new_annotation(
        viewer,
        body,
        text=text,
        revision=revision,
        visibility=draft.visibility,
        group_id=draft.group_id,
        motivation=draft.motivation,
        color=draft.color,
        via=draft.via,
        canonical=draft.canonical,
        form=draft.form,
    )
    if draft.target is not None:
        layout = revision_cache.layout(session, revision)
        start, end = resolve_span(layout, draft.target)
        set_span(annotation, layout.content, start, end)
    return annotation


def get_for(session: Session, viewer: Viewer, annotation_id: int, action: Action) -> Annotation:
    """The annotation, locked for a write, if the viewer may do ``action`` to it.

    What the viewer may not see answers 404, exactly like a missing annotation (its existence
    is private too); what they may see but not change answers 403. Only for writes: reads use
    ``get_visible``, which never waits for the write lock.
    """
    begin_write(session)
    annotation = thread_locked(session, annotation_id)
    if action is Action.RESTORE:
        if annotation is None or not can(viewer, action, annotation):
            raise NotFound()
    else:
        if annotation is None or not can(viewer, Action.VIEW, annotation):
            raise NotFound()
        if not can(viewer, action, annotation):
            raise refusal(viewer, action, annotation)
    check_quota(session, viewer)
    return annotation


def thread_locked(session: Session, annotation_id: int) -> Annotation | None:
    """The annotation as it stands now, with its thread's writes taking turns.

    SQLite's write lock already serialises every write. On PostgreSQL two requests on one
    thread would each judge it on what it was before the other committed (a move and a hide, a
    move and a reply): every write to a thread locks the thread's first note's row, root first
    whatever it writes (so two of them never wait for each other), then reads what it judges.
    """
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or session.get_bind().dialect.name != "postgresql":
        return annotation
    root_id = annotation.root_id or annotation.id
    # FOR NO KEY UPDATE, as the quota's lock: rows that only refer to the thread go on.
    lock = {"key_share": True}
    session.get(Annotation, root_id, with_for_update=lock, populate_existing=True)
    if root_id != annotation.id:
        session.refresh(annotation)
    return annotation


def _canonical_after(annotation: Annotation, changes: Changes) -> str | None:
    """The annotation's canonical IRI after an edit: once set, it and via stay as they are
    (W3C protocol §5.3); an edit may give a canonical IRI it did not have."""
    for name in ("via", "canonical"):
        sent, kept = getattr(changes, name), getattr(annotation, name)
        if sent is not None and kept is not None and sent != kept:
            raise Conflict(f"An annotation's {name} cannot be changed once it is set.")
    if changes.via is not None and annotation.via is None:
        raise Conflict("via names where an annotation came from: only its creation sets it.")
    return annotation.canonical or changes.canonical


def edit(session: Session, viewer: Viewer, annotation_id: int, changes: Changes) -> Annotation:
    """Apply an edit, keeping the state before it as a version."""
    annotation = get_for(session, viewer, annotation_id, Action.EDIT)
    if annotation.is_reply:
        if changes.target is not None or changes.parent_id not in (None, annotation.parent_id):
            raise Conflict(
                "A reply's target is the note it answers, and it cannot be moved to another: "
                "delete it and reply there instead."
            )
    elif changes.parent_id is not None:
        raise Conflict("A note cannot be turned into a reply: reply to the other note instead.")
    elif changes.target is not None:
        layout = revision_cache.layout(session, annotation.revision)
        if not same_target(layout, annotation, *changes.target):
            raise Conflict(
                "An annotation's target cannot be changed: it stays on the words it was written "
                "on. Delete it and annotate the new words instead."
            )
    canonical = _canonical_after(annotation, changes)
    body = check_body(changes.body) if changes.body is not None else annotation.body_source
    form = (
        changes.form
        if changes.body is not None
        else BodyForm(annotation.body_format, annotation.body_language)
    )
    tags = normalise_tags(changes.tags) if changes.tags is not None else annotation.tag_names
    color = None if changes.clear_color else (changes.color or annotation.color)
    motivation = changes.motivation or annotation.motivation
    check_motivation(motivation, is_reply=annotation.is_reply)
    if (motivation is Motivation.EDITING) != (annotation.motivation is Motivation.EDITING):
        raise Conflict(
            "A suggested correction stays one, and a note does not become one: suggest the "
            "correction on the words instead."
        )
    if changes.replacement is not None and (
        annotation.suggestion is None or changes.replacement != annotation.suggestion.replacement
    ):
        raise Conflict(
            "A suggestion's words stay those suggested (its replies discuss them, an instructor "
            "decides on them), and a note has none: suggest other words as a new suggestion."
        )
    check_words(annotation, body)
    if (body, form, tags, color, motivation, canonical) == (
        annotation.body_source,
        BodyForm(annotation.body_format, annotation.body_language),
        annotation.tag_names,
        annotation.color,
        annotation.motivation,
        annotation.canonical,
    ):
        return annotation
    annotation.versions.append(
        AnnotationVersion(
            number=len(annotation.versions) + 1,
            body_source=annotation.body_source,
            body_html=annotation.body_html,
            tags=" ".join(annotation.tag_names),
            color=annotation.color,
            created_at=annotation.updated_at,
        )
    )
    annotation.body_source = body
    annotation.body_html = markdown.render_body(body, form.format)
    annotation.body_format, annotation.body_language = form.format, form.language
    if tags != annotation.tag_names:
        # Only what changed: a kept tag replaced by a new row of the same name would be
        # inserted before the old one is deleted, against the (annotation, name) constraint.
        annotation.tags = [
            *(tag for tag in annotation.tags if tag.name in tags),
            *(AnnotationTag(name=name) for name in tags if name not in annotation.tag_names),
        ]
    annotation.color, annotation.motivation = color, motivation
    annotation.canonical = canonical
    annotation.updated_at = utcnow()
    session.flush()
    live.record(session, annotation, EventKind.UPDATED, viewer.id)
    return annotation


MAX_IDEMPOTENCY_KEY = 255


def once(
    session: Session, viewer: Viewer, key: str | None, make: Callable[[], Annotation]
) -> tuple[Annotation, bool]:
    """Run ``make`` once per (viewer, key): a retry gets the first result back, not a copy.

    Returns the annotation and whether it was made now. Two simultaneous requests with one key
    on PostgreSQL both get past the lookup; the unique key then refuses the second, whose work
    is rolled back to its savepoint, and it answers with the first one's annotation.
    """
    if key is None:
        return make(), True
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise Malformed(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.")

    def earlier() -> Annotation | None:
        found = session.scalar(
            select(IdempotencyKey.annotation_id).where(
                IdempotencyKey.user_id == viewer.id, IdempotencyKey.key == key
            )
        )
        return session.get(Annotation, found) if found is not None else None

    begin_write(session)
    if (annotation := earlier()) is not None:
        return annotation, False
    try:
        with session.begin_nested():
            annotation = make()
            session.add(IdempotencyKey(user_id=viewer.id, key=key, annotation_id=annotation.id))
    except IntegrityError:
        annotation = earlier()
        if annotation is None:
            raise
        return annotation, False
    return annotation, True
