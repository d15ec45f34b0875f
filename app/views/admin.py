"""Site administration: accounts (disable and enable) and every open flag."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.current import viewer
from app.extensions import db
from app.services import accounts, moderation

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    # The viewer, not current_user: login_required lets OPTIONS through unsigned, and an
    # anonymous current_user has no is_admin.
    if not viewer().is_admin:
        abort(404)


@bp.get("/users")
def users():
    """Every account, with a switch to disable or enable it."""
    return render_template(
        "admin/users.html",
        users=accounts.all_users(db.session),
        flags=moderation.open_flags(db.session, viewer()),
    )


@bp.post("/users/<int:user_id>/disabled")
def set_disabled(user_id: int):
    """Disable an account (it cannot sign in; its open sessions end) or enable it again (which
    brings back none of those sessions)."""
    disabled = request.form.get("disabled", "1") != "0"
    try:
        user = accounts.set_disabled(db.session, viewer(), user_id, disabled)
    except accounts.AccountError as error:
        db.session.rollback()
        abort(400, description=str(error))
    db.session.commit()
    if disabled:
        flash(f"{user.display_name} is disabled. They are signed out everywhere.", "success")
    else:
        flash(f"{user.display_name} is enabled.", "success")
    return redirect(url_for("admin.users"))
