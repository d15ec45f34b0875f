"""Conversation forms: replies, paragraph discussions, reactions, flags, moderation, inbox."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app import edge
from app.current import viewer
from app.extensions import db
from app.models import ReactionKind
from app.models.annotation import group_key
from app.services import annotations, discussion, moderation, notifications, prompts
from app.views.notes import MAX_BACK, note_in_page, note_in_text
from app.views.refusals import answer_refusals, form_refused

bp = Blueprint("discuss", __name__)
answer_refusals(bp, form_refused)

FLAG_SENT = "Thank you: the instructors will see your flag."


def _done(annotation, message: str | None = None, moved: bool = False):
    """Back to the note in the page the form came from; a thread ``moved`` to another audience
    goes to a lens that shows it, as the page's may no longer."""
    db.session.commit()
    if message:
        flash(message, "success")
    return redirect(note_in_text(annotation) if moved else note_in_page(annotation))


@bp.post("/notes/<int:annotation_id>/reply")
@login_required
def reply(annotation_id: int):
    """Answer a note or a reply."""
    seen = request.form.get("audience")
    answer = discussion.reply(
        db.session,
        viewer(),
        annotation_id,
        request.form.get("body", ""),
        annotations.parse_audience(seen) if seen else None,
    )
    return _done(answer, "Reply posted.")


@bp.post("/texts/<slug>/discuss/<int:group_id>/<int:number>")
@login_required
def paragraph(slug: str, group_id: int, number: int):
    """Post in a group's discussion of one paragraph (the thread starts with the first post)."""
    thread = discussion.discussion_thread(db.session, viewer(), slug, group_id, number)
    answer = discussion.reply(db.session, viewer(), thread.id, request.form.get("body", ""))
    db.session.commit()
    flash(f"Posted to the discussion of ¶{number}.", "success")
    return redirect(
        url_for("library.read", slug=slug, lens=group_key(group_id), _anchor=f"a{answer.id}")
    )


def _at_prompt(slug: str, group_id: int, number: int):
    """The reading page in the group's lens, at the paragraph's discussion."""
    lens = group_key(group_id)
    return redirect(url_for("library.read", slug=slug, lens=lens, _anchor=f"discuss-p{number}"))


@bp.post("/texts/<slug>/prompts/<int:group_id>/<int:number>")
@login_required
def pin(slug: str, group_id: int, number: int):
    """Pin a question to the group's discussion of one paragraph, or change its words."""
    prompts.pin(db.session, viewer(), slug, group_id, number, request.form.get("body", ""))
    db.session.commit()
    flash(f"The question heads the discussion of ¶{number}.", "success")
    return _at_prompt(slug, group_id, number)


@bp.post("/texts/<slug>/prompts/<int:group_id>/<int:number>/unpin")
@login_required
def unpin(slug: str, group_id: int, number: int):
    """Take the question off the paragraph's discussion; its answers stay."""
    prompts.unpin(db.session, viewer(), slug, group_id, number)
    db.session.commit()
    flash(f"Question unpinned from ¶{number}; the discussion and its answers stay.", "success")
    return _at_prompt(slug, group_id, number)


@bp.post("/notes/<int:annotation_id>/unpin")
@login_required
def unpin_thread(annotation_id: int):
    """Unpin the question of a discussion whose paragraph a revision took away (the dashboard's
    list offers it there, where no paragraph number names it); back to that list."""
    thread = prompts.unpin_thread(db.session, viewer(), annotation_id)
    db.session.commit()
    flash("Question unpinned; the discussion and its answers stay.", "success")
    return redirect(
        url_for(
            "dashboard.show",
            group_id=thread.group_id,
            slug=thread.text.slug,
            _anchor="dashboard-prompts-heading",
        )
    )


@bp.post("/notes/<int:annotation_id>/react")
@login_required
def react(annotation_id: int):
    """Agree, or mark as a question (again to take it back)."""
    try:
        kind = ReactionKind(request.values.get("kind", ""))
    except ValueError:
        abort(400, description="Reactions are 'agree' or 'question'.")
    on = request.values.get("on", "1") != "0"
    annotation = discussion.react(db.session, viewer(), annotation_id, kind, on)
    return _done(annotation)


@bp.post("/notes/<int:annotation_id>/flag")
@login_required
def flag(annotation_id: int):
    """Ask the group's instructors to look at an annotation."""
    entry = moderation.flag(db.session, viewer(), annotation_id, request.form.get("reason", ""))
    db.session.commit()
    flash(FLAG_SENT, "success")
    # The form is on the note's own page (the reading page's margin flags in place with
    # JavaScript): back there, where the note now says the reader flagged it, next to the
    # message. The margin is the same for every reader and could not say so.
    back = (request.form.get("back") or "")[:MAX_BACK] or None
    return redirect(
        url_for(
            "notes.show",
            annotation_id=entry.annotation_id,
            back=back,
            _anchor=f"flag-{entry.annotation_id}",
        )
    )


@bp.post("/notes/<int:annotation_id>/hide")
@login_required
def hide(annotation_id: int):
    """Hide an annotation from members (moderators and the author still read it), or unhide."""
    hidden = request.values.get("hidden", "1") != "0"
    annotation = moderation.set_hidden(db.session, viewer(), annotation_id, hidden)
    return _done(annotation, "Hidden from members." if hidden else "Visible again.")


@bp.post("/notes/<int:annotation_id>/visibility")
@login_required
def visibility(annotation_id: int):
    """Change who sees a thread (after the author confirmed it moves every reply too)."""
    if not request.form.get("confirm"):
        abort(400, description="Confirm that the whole thread changes audience.")
    audience = annotations.parse_audience(request.form.get("audience"))
    annotation = annotations.set_visibility(db.session, viewer(), annotation_id, *audience)
    return _done(annotation, "Audience changed for the whole thread.", moved=True)


@bp.get("/inbox")
@login_required
def inbox():
    """Replies to my notes and mentions of me."""
    return render_template("discuss/inbox.html", items=notifications.inbox(db.session, viewer()))


@bp.post("/inbox/read")
@login_required
def mark_read():
    """Mark one notification read (field ``id``), or all when there is none: an ``id`` that is
    not a number is refused, not taken for "all"."""
    number = edge.whole_number(request.form.get("id"), "id", "a notification's number")
    notifications.mark_read(db.session, viewer(), number)
    db.session.commit()
    return redirect(url_for("discuss.inbox"))
