"""Seminar groups: create, invite, join, manage members and the reading list, see flags."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.current import viewer
from app.extensions import db
from app.models import Role
from app.services import groups, moderation, texts
from app.views.refusals import answer_refusals, group_refused

bp = Blueprint("groups", __name__, url_prefix="/groups")
answer_refusals(bp, group_refused)


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


def _due(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description="Give the due date as YYYY-MM-DD.")


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
        _due(form.get("due_on", "")),
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
