from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, login_manager
from app.forms import LoginForm, RegisterForm
from app.models import User
from app.services import accounts
from app.services.access import load_signed_in

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user, loaded with their groups: the request's viewer (app.current)."""
    if not (user_id.isascii() and user_id.isdigit()):
        return None
    # A disabled account's open sessions end on their next request (it reads as nobody).
    g.viewer = load_signed_in(db.engine, int(user_id))
    return g.viewer.user


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target  # browsers read "/\\host" as "//host"
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("library.index")


def _login_policy() -> accounts.LoginPolicy:
    config = current_app.config
    return accounts.LoginPolicy(
        window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
        failures_per_account=config["LOGIN_FAILURES_PER_ACCOUNT"],
        failures_per_address=config["LOGIN_FAILURES_PER_ADDRESS"],
    )


def _start_session(user: User) -> None:
    """A fresh session on sign-in: nothing from before survives it."""
    session.clear()
    login_user(user)
    g.pop("viewer", None)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account and sign in with it."""
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session, form.email.data, form.display_name.data, form.password.data
            )
        except accounts.AccountError as error:
            db.session.rollback()
            field = getattr(form, error.field) if error.field else None
            (field.errors if field else form.form_errors).append(str(error))
            status = 409 if isinstance(error, accounts.EmailTaken) else 400
        else:
            db.session.commit()
            _start_session(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 400
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; repeated failures are throttled per account and per address."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session,
                form.email.data,
                form.password.data,
                request.remote_addr or "unknown",
                _login_policy(),
            )
        except accounts.TooManyAttempts as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            status = 429
            headers["Retry-After"] = str(int(error.retry_after.total_seconds()) + 1)
        except accounts.AccountError as error:
            db.session.commit()  # the failed attempt must count
            form.form_errors.append(str(error))
            status = 401
        else:
            db.session.commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status, headers


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with a CSRF token, so another site cannot sign you out)."""
    logout_user()
    g.pop("viewer", None)
    session.clear()
    flash("You are signed out.", "info")
    response = redirect(url_for("library.index"))
    # Unsaved notes kept in this browser (static/js/drafts.js) go too: the next person at a shared
    # computer must not find them.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response
