"""Suggested corrections (suggest, accept, decline) and a text's revisions (history, diff)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app import edge
from app.current import viewer
from app.errors import handle_refusal
from app.extensions import db
from app.models import Motivation
from app.services import annotations, corrections
from app.services.annotations import SpanTarget
from app.services.errors import Refused
from app.services.texts import revisions
from app.views.notes import note_in_text
from app.views.refusals import answer_refusals, form_refused

bp = Blueprint("corrections", __name__)
answer_refusals(bp, form_refused)


@bp.post("/texts/<slug>/suggestions")
@login_required
def suggest(slug: str):
    """A suggested correction of the words [start, end) (``exact``: the words the reader saw,
    which win over stale offsets), to ``replacement``, with an optional ``reason``."""
    start = edge.whole_number(request.form.get("start"), "start", "an offset in the text")
    end = edge.whole_number(request.form.get("end"), "end", "an offset in the text")
    exact = request.form.get("exact") or None
    visibility, group_id = annotations.parse_audience(request.form.get("audience") or "public")
    draft = annotations.Draft(
        text_slug=slug,
        motivation=Motivation.EDITING,
        body=request.form.get("body", ""),
        target=SpanTarget(exact=exact, start=start, end=end),
        visibility=visibility,
        group_id=group_id,
        replacement=request.form.get("replacement", ""),
    )
    annotation = corrections.suggest(db.session, viewer(), draft)
    db.session.commit()
    flash("Suggestion saved: an instructor of a group reading this text decides.", "success")
    return redirect(note_in_text(annotation))


@bp.post("/notes/<int:annotation_id>/accept")
@login_required
def accept(annotation_id: int):
    """Accept: the text gets a new revision with the correction, every note moved onto it."""
    accepted = corrections.accept(db.session, viewer(), annotation_id)
    db.session.commit()
    message = f"Accepted: revision {accepted.revision.number} of the text has the correction."
    if accepted.orphans:
        quotes = "; ".join(f"“{a.exact[:60]}” (note {a.id})" for a in accepted.orphans[:20])
        count = len(accepted.orphans)
        message += (
            f" {count} {'note lost its words' if count == 1 else 'notes lost their words'} "
            f"(listed under Notes whose text has changed): {quotes}."
        )
    else:
        message += " Every note is still on its words."
    flash(message, "success")
    return redirect(url_for("notes.show", annotation_id=annotation_id))


@bp.post("/notes/<int:annotation_id>/decline")
@login_required
def decline(annotation_id: int):
    corrections.decline(db.session, viewer(), annotation_id)
    db.session.commit()
    flash("Declined: the suggestion stays, with its discussion.", "success")
    return redirect(url_for("notes.show", annotation_id=annotation_id))


@bp.get("/texts/<slug>/revisions")
def history(slug: str):
    """Every revision of a text: its number, when, who made it and why."""
    text = revisions.text_with_revisions(db.session, slug)
    return render_template("library/revisions.html", text=text)


@bp.get("/texts/<slug>/revisions/compare")
def compare(slug: str):
    """The words that differ between revisions ``from`` and ``to``."""
    old = edge.whole_number(request.args.get("from"), "from", "a revision number")
    new = edge.whole_number(request.args.get("to"), "to", "a revision number")
    page = edge.whole_number(request.args.get("page"), "page", "a page number") or 1
    try:
        comparison = revisions.compare(db.session, slug, old, new, page)
    except Refused as refusal:  # a page of its own (400, 404), not a message elsewhere
        return handle_refusal(refusal)
    return render_template("library/compare.html", text=comparison.text, comparison=comparison)
