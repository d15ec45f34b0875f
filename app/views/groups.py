"""Seminar groups: create, invite, join, manage members and the reading list, see flags."""

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.current import viewer
from app.errors import refusal_headers, status_of
from app.extensions import db
from app.models import Role
from app.services import groups, moderation, texts
from app.services.errors import Refused
from app.views.refusals import answer_refusals, group_refused, is_page_of_its_own

bp = Blueprint("groups", __name__, url_prefix="/groups")


@dataclass(frozen=True)
class KeptForm:
    """A refused reading-list form as it was sent: the group page shows it open again, with
    the message beside the field it is about (``field``, or above the form if None)."""

    key: int | str  # the entry's id, or "new" for the form that adds one
    text: str
    due_on: str
    prompt: str
    message: str
    field: str | None


def _refused(refusal: Refused):
    """The group page's answer to a refusal. A refused reading-list form comes back on the
    page, open, holding what was sent (a redirect would lose the prompt typed); any other
    refusal goes back to the page with its message, or is a page of its own (``group_refused``)."""
    reading_form = request.endpoint in ("groups.add_reading", "groups.edit_reading")
    if not reading_form or is_page_of_its_own(refusal):
        return group_refused(refusal)
    db.session.rollback()
    form = request.form
    kept = KeptForm(
        key=(request.view_args or {}).get("assignment_id", "new"),
        text=form.get("text", ""),
        due_on=form.get("due_on", ""),
        prompt=form.get("prompt", ""),
        message=str(refusal),
        field=getattr(refusal, "field", None),
    )
    page = _group_page(request.view_args["group_id"], kept)
    return page, status_of(refusal)[0], refusal_headers(refusal)


answer_refusals(bp, _refused)


def _to_group(group_id: int, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("groups.show", group_id=group_id))


@bp.get("")
@login_required
def index():
    """My groups, and a form to start one."""
    return render_template("groups/index.html", summaries=groups.mine(db.session, viewer()))


@bp.post("")
@login_required
def create():
    """Start a group; its creator owns it."""
    group = groups.create(
        db.session, viewer(), request.form.get("name", ""), request.form.get("description", "")
    )
    return _to_group(group.id, "Group created. Share its invite link with your seminar.")


@bp.get("/<int:group_id>")
@login_required
def show(group_id: int):
    """A group's members, reading list, invite link and (for instructors) flags."""
    return _group_page(group_id)


def _group_page(group_id: int, kept: KeptForm | None = None) -> str:
    acting = viewer()
    group = groups.get(db.session, acting, group_id)
    teaches = acting.teaches(group_id) or acting.is_admin
    return render_template(
        "groups/show.html",
        group=group,
        role=acting.roles.get(group_id),
        teaches=teaches,
        owns=acting.roles.get(group_id) is Role.OWNER or acting.is_admin,
        members=groups.members(db.session, group),
        removed=groups.removed(db.session, group) if teaches else [],
        library=texts.library(db.session) if teaches else [],
        flags=moderation.open_flags(db.session, acting, group_id) if teaches else [],
        Role=Role,
        kept=kept,
    )


@bp.post("/<int:group_id>/settings")
@login_required
def update(group_id: int):
    """Rename or describe the group."""
    form = request.form
    groups.update(db.session, viewer(), group_id, form.get("name", ""), form.get("description", ""))
    return _to_group(group_id, "Saved.")


@bp.post("/<int:group_id>/invite")
@login_required
def invite(group_id: int):
    """Make a new invite link (the old one stops working) or switch it off."""
    on = request.form.get("on", "1") != "0"
    groups.set_invite(db.session, viewer(), group_id, on)
    return _to_group(group_id, "New invite link made." if on else "Invite link switched off.")


@bp.post("/<int:group_id>/leave")
@login_required
def leave(group_id: int):
    """Leave a group: its notes disappear from my view at once."""
    groups.leave(db.session, viewer(), group_id)
    db.session.commit()
    flash("You have left the group.", "success")
    return redirect(url_for("groups.index"))


@bp.post("/<int:group_id>/members/<int:user_id>/remove")
@login_required
def remove_member(group_id: int, user_id: int):
    """Remove someone from the group (owner and instructors)."""
    groups.remove_member(db.session, viewer(), group_id, user_id)
    return _to_group(group_id, "Member removed.")


@bp.post("/<int:group_id>/removed/<int:user_id>/readmit")
@login_required
def readmit(group_id: int, user_id: int):
    """Let someone removed join by the invite link again."""
    groups.readmit(db.session, viewer(), group_id, user_id)
    return _to_group(group_id, "They may join again by the invite link.")


@bp.post("/<int:group_id>/members/<int:user_id>/role")
@login_required
def set_role(group_id: int, user_id: int):
    """Make a member an instructor, or an instructor a member again."""
    if request.form.get("role") not in (Role.INSTRUCTOR, Role.MEMBER):
        abort(400, description="Roles are 'instructor' or 'member'.")
    groups.set_role(db.session, viewer(), group_id, user_id, Role(request.form["role"]))
    return _to_group(group_id, "Role changed.")


@bp.post("/<int:group_id>/readings")
@login_required
def add_reading(group_id: int):
    """Put a text on the reading list (or change its due date and prompt)."""
    form = request.form
    groups.add_reading(
        db.session,
        viewer(),
        group_id,
        form.get("text", ""),
        form.get("due_on", ""),
        form.get("prompt", ""),
    )
    return _to_group(group_id, "Reading list updated.")


@bp.post("/<int:group_id>/readings/<int:assignment_id>")
@login_required
def edit_reading(group_id: int, assignment_id: int):
    """Change the due date and prompt of a text on the reading list."""
    form = request.form
    groups.edit_reading(
        db.session,
        viewer(),
        group_id,
        assignment_id,
        form.get("due_on", ""),
        form.get("prompt", ""),
    )
    return _to_group(group_id, "Reading list updated.")


@bp.post("/<int:group_id>/readings/<int:assignment_id>/remove")
@login_required
def remove_reading(group_id: int, assignment_id: int):
    """Take a text off the reading list."""
    groups.remove_reading(db.session, viewer(), group_id, assignment_id)
    return _to_group(group_id, "Removed from the reading list.")


@bp.post("/<int:group_id>/flags/<int:flag_id>/resolve")
@login_required
def resolve_flag(group_id: int, flag_id: int):
    """Dismiss a flag without hiding the annotation."""
    moderation.resolve_flag(db.session, viewer(), flag_id)
    return _to_group(group_id, "Flag dismissed.")


join_bp = Blueprint("join", __name__)
answer_refusals(join_bp, group_refused)


@join_bp.route("/join/<code>", methods=["GET", "POST"])
@login_required
def join(code: str):
    """An invite link: shows the group, joins on POST."""
    group = groups.by_invite(db.session, code)
    if request.method == "POST":
        groups.join(db.session, viewer(), code)
        return _to_group(group.id, f"Welcome to {group.name}.")
    return render_template(
        "groups/join.html", group=group, code=code, member=viewer().is_member(group.id)
    )
