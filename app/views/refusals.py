"""How the HTML views answer a service's refusal: one handler per blueprint, no view repeats it."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.errors import handle_refusal, refusal_headers, status_of
from app.extensions import db
from app.services.errors import Refused

# Refusals that are pages of their own rather than a message on the page the form came from.
_PAGES = (401, 403, 404)


def is_page_of_its_own(refusal: Refused) -> bool:
    return status_of(refusal)[0] in _PAGES


def _page_of_its_own(refusal: Refused):
    """The error page for a refusal that is one (None for the others); nothing is kept."""
    db.session.rollback()
    return handle_refusal(refusal) if is_page_of_its_own(refusal) else None


def form_refused(refusal: Refused):
    """A refused note, reply or other form about annotations. Words someone wrote come back to
    them in a form that sends them again (a redirect would lose them), whatever the refusal (a
    member removed since the page was loaded, an ended session); anything else goes back to the
    page the form came from, with the message."""
    args = request.view_args or {}
    if "slug" in args:
        back = url_for("library.read", slug=args["slug"])
    elif (
        request.endpoint == "notes.restore"
    ):  # a deleted note has no page: the message would be lost
        back = url_for("notes.notebook")
    elif "annotation_id" in args:  # the note's own page, where its forms are without JavaScript
        back = url_for("notes.show", annotation_id=args["annotation_id"])
    else:
        back = url_for("notes.notebook")
    if request.form.get("body", "").strip():
        db.session.rollback()
        kept = [
            (name, value)
            for name, values in request.form.lists()
            if name not in ("csrf_token", "body", "tags")
            for value in values
        ]
        page = render_template(
            "notes/refused.html",
            message=str(refusal),
            body=request.form["body"],
            tags=request.form.get("tags"),
            kept=kept,
            back=back,
        )
        return page, status_of(refusal)[0], refusal_headers(refusal)
    if (page := _page_of_its_own(refusal)) is not None:
        return page
    flash(str(refusal), "error")
    return redirect(back)


def group_refused(refusal: Refused):
    """A refused change to a group: back to the group's page (or the list) with the message."""
    if (page := _page_of_its_own(refusal)) is not None:
        return page
    flash(str(refusal), "error")
    group_id = (request.view_args or {}).get("group_id")
    return redirect(
        url_for("groups.show", group_id=group_id) if group_id else url_for("groups.index")
    )


def answer_refusals(blueprint: Blueprint, handler) -> None:
    blueprint.register_error_handler(Refused, handler)
