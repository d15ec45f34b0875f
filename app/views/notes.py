"""Notes without JavaScript: the forms behind the reading page's margin, and the notebook."""

from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app import edge
from app.current import viewer
from app.extensions import db
from app.models import HighlightColor, Motivation
from app.services import annotations, corrections, discussion, groups, live, moderation, texts
from app.services.annotations import Changes, Draft, NotebookFilter, SpanTarget
from app.views.library import PAGE_ARGUMENTS
from app.views.refusals import answer_refusals, form_refused

bp = Blueprint("notes", __name__)
answer_refusals(bp, form_refused)


def _tags(raw: str) -> list[str]:
    return [t for t in raw.replace(",", " ").split() if t]


def _color(raw: str | None) -> HighlightColor | None:
    try:
        return HighlightColor(raw) if raw else None
    except ValueError:
        abort(400, description="Unknown highlight colour.")


def note_in_text(annotation, external: bool = False) -> str:
    """The reading page at ``annotation``: in a lens that shows it, its note (a reply's root) in
    the margin with its thread open however full the paragraph. Where a form about it lands, and
    where every link to a note in its text goes (inbox, flags, history, a note's own page);
    ``external``, an absolute URL (for exports, read away from the site)."""
    lens = texts.Lens.showing(annotation)
    return url_for(
        "library.read",
        slug=annotation.text.slug,
        lens=lens and lens.key,
        focus=annotation.root_id or annotation.id,
        _anchor=f"a{annotation.id}",
        _external=external,
    )


MAX_BACK = 2_000


def _kind_change(annotation, question: bool) -> Motivation | None:
    """The edit page's "This is a question", as the margin's editor has it; a reply is a reply."""
    if annotation.is_reply or question == (annotation.motivation is Motivation.QUESTIONING):
        return None
    return Motivation.QUESTIONING if question else Motivation.COMMENTING


def note_in_page(annotation) -> str:
    """``note_in_text``, in the page the request came from (``back``: its lens and filters)
    when it names one: where a form about a note returns, and its page's "Back" link."""
    return back_to_page(
        annotation,
        request.values.get("back"),
        anchor=f"a{annotation.id}",
        focus=annotation.root_id or annotation.id,
    )


def back_to_page(annotation, back: str | None, anchor: str | None = None, **extra) -> str:
    """Where an action on ``annotation`` returns: the reading page it was sent from (``back``,
    that page's query; margin.js and the note's page send it), at the note's paragraph (or
    ``anchor``), with ``extra`` arguments. Only the note's own text and the page's own
    arguments (``library.PAGE_ARGUMENTS``) come back: no form it had open, nothing forged. A
    page that names no lens (or an action that names no page) gets one that shows the note."""
    args: dict[str, list[str]] = {}
    for name, value in parse_qsl((back or "")[:MAX_BACK]):
        if name in PAGE_ARGUMENTS:
            args.setdefault(name, []).append(value)
    if "lens" not in args and (lens := texts.Lens.showing(annotation)) is not None:
        args["lens"] = [lens.key]
    if anchor is None:
        part = live.parts_of(db.session, annotation)[0]
        anchor = "part-0" if part == live.WHOLE_TEXT_PART else f"p{part}"
    return url_for("library.read", slug=annotation.text.slug, **args, **extra, _anchor=anchor)


@bp.post("/texts/<slug>/notes")
@login_required
def create(slug: str):
    """A note on one paragraph (field ``paragraph``) or on the whole text."""
    start = edge.whole_number(request.form.get("start"), "start", "an offset in the text")
    end = edge.whole_number(request.form.get("end"), "end", "an offset in the text")
    target = SpanTarget(start=start, end=end) if start is not None else None
    visibility, group_id = annotations.parse_audience(request.form.get("audience"))
    draft = Draft(
        text_slug=slug,
        motivation=Motivation.QUESTIONING
        if request.form.get("question")
        else Motivation.COMMENTING,
        body=request.form.get("body", ""),
        tags=_tags(request.form.get("tags", "")),
        color=_color(request.form.get("color")),
        target=target,
        visibility=visibility,
        group_id=group_id,
    )
    annotation = annotations.create(db.session, viewer(), draft)
    db.session.commit()
    flash("Note saved.", "success")
    return redirect(note_in_text(annotation))


@bp.route("/notes/<int:annotation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(annotation_id: int):
    """Edit a note's words, tags and colour; the earlier version is kept. Saved or left, the
    reader goes back to the note in the page they came from (``back``: its lens and filters)."""
    annotation = annotations.get_editable(db.session, viewer(), annotation_id)
    if request.method == "POST":
        changes = Changes(
            body=request.form.get("body", ""),
            tags=_tags(request.form.get("tags", "")),
            color=_color(request.form.get("color")),
            clear_color=not request.form.get("color"),
            motivation=_kind_change(annotation, bool(request.form.get("question"))),
        )
        annotation = annotations.edit(db.session, viewer(), annotation_id, changes)
        db.session.commit()
        flash("Note saved.", "success")
        return redirect(note_in_page(annotation))
    return render_template("notes/edit.html", annotation=annotation, back=note_in_page(annotation))


@bp.post("/notes/<int:annotation_id>/delete")
@login_required
def delete(annotation_id: int):
    """Delete, then offer an undo on the page the reader returns to: the one they deleted from
    (``back``), in the same lens, filters and paragraph."""
    annotation = annotations.delete(db.session, viewer(), annotation_id)
    db.session.commit()
    removed = annotation.user_id != viewer().id  # a moderator's removal of someone's thread
    flash("Removed, with its replies." if removed else "Note deleted.", "undo")
    if request.values.get("from") == "notebook":
        return redirect(url_for("notes.notebook", undo=annotation.id))
    return redirect(back_to_page(annotation, request.values.get("back"), undo=annotation.id))


@bp.post("/notes/<int:annotation_id>/restore")
@login_required
def restore(annotation_id: int):
    """Undo a delete, back on the page it was undone from (``back``) at the note."""
    annotation = annotations.restore(db.session, viewer(), annotation_id)
    db.session.commit()
    flash("Note restored.", "success")
    back = request.values.get("back")
    if back is None:  # the notebook's Undo
        return redirect(note_in_text(annotation))
    focus = annotation.root_id or annotation.id
    return redirect(back_to_page(annotation, back, f"a{annotation.id}", focus=focus))


@bp.get("/notes/<int:annotation_id>")
def show(annotation_id: int):
    """One thread on a page of its own, with its forms (Reply, Flag and Who sees this in
    sections, the one ``?open=`` names open): where the margin's links lead without JavaScript."""
    root, conversation = discussion.thread_of(db.session, viewer(), annotation_id)
    back = request.args.get("back")  # the reading page it came from: back_to_page
    return render_template(
        "notes/show.html",
        root=root,
        conv=conversation,
        group_names=groups.names(db.session, viewer()),
        flatten=discussion.flatten,
        opened=request.args.get("open"),  # the form the margin's link was for
        back_query=back,
        back=note_in_page(root),  # to the page it came from, lens and filters kept, at the note
        my_flags=moderation.my_open_flags(db.session, viewer(), root.id),
        deciding=not root.deleted_at and corrections.may_decide(db.session, viewer(), root),
    )


@bp.get("/notes/<int:annotation_id>/history")
@login_required
def history(annotation_id: int):
    """Every earlier version of a note, with its time."""
    history = annotations.versions(db.session, viewer(), annotation_id)
    return render_template("notes/history.html", history=history, annotation=history.annotation)


@bp.get("/notes")
@login_required
def notebook():
    """All my annotations across texts, grouped by text and paragraph; filter by tag, colour."""
    filters = NotebookFilter(
        tag=request.args.get("tag") or None, color=_color(request.args.get("color"))
    )
    entries = annotations.notebook(db.session, viewer(), filters)
    return render_template(
        "notes/notebook.html",
        groups=annotations.group_for_notebook(db.session, entries),
        filters=filters,
        tags=annotations.tag_suggestions(db.session, viewer(), own=True),
        undo=edge.number(request.args.get("undo")),
    )
