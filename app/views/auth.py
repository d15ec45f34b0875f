"""Accounts: register, sign in and out, the account page (a new password).

Sessions carry their user's session generation (``User.get_id``: "12.3"), and ``load_user``
refuses a session from an older generation: signing out, changing the password and disabling
the account move the generation on, so every session begun before ends at once, on every device.
"""

import time
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
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

from app.errors import status_of
from app.extensions import csrf, db, login_manager
from app.forms import LoginForm, MailForm, PasswordForm, RegisterForm, TokenForm
from app.models import User
from app.models.user import parse_session_id
from app.services import accounts, devices, mail, sign_in, tokens
from app.services.access import ANONYMOUS, Account, load_signed_in
from app.services.errors import Refused

bp = Blueprint("auth", __name__, url_prefix="/auth")

# The device cookie: what it holds and whom it vouches for is services/devices.py's.
DEVICE_COOKIE = "scholia_device"
DEVICE_COOKIE_PATH = "/auth"  # only sign-in and the account page need it
MAX_NEXT = 2048


@login_manager.user_loader
def load_user(user_id: str) -> Account | None:
    """The session's user, loaded with their groups: the request's viewer (app.current).

    A session from another session generation has ended (a sign-out, a new password, a
    disabled account), as has any session of a disabled account: both read as nobody.
    """
    parsed = parse_session_id(user_id) if isinstance(user_id, str) else None
    viewer = ANONYMOUS
    if parsed is not None:
        viewer = load_signed_in(db.engine, parsed[0])
        if viewer.user is not None and viewer.user.session_generation != parsed[1]:
            viewer = ANONYMOUS
    g.viewer = viewer
    return viewer.user


@bp.after_request
def _never_stored(response):
    """These pages hold credentials being typed and CSRF tokens: no cache keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_next(target: str | None) -> str:
    """Only a plain path on this site. An open redirect after sign-in would help phishing; and
    browsers drop tabs and newlines from a URL ("/\\t/evil.example" is "//evil.example"), while
    a header cannot hold them at all."""
    if (
        target
        and len(target) <= MAX_NEXT
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target  # browsers read "/\\host" as "//host"
        and not any(c.isspace() or unicodedata.category(c).startswith("C") for c in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("library.index")


def _login_policy() -> sign_in.LoginPolicy:
    config = current_app.config
    return sign_in.LoginPolicy(
        window=timedelta(hours=config["LOGIN_WINDOW_HOURS"]),
        free_failures_per_account=config["LOGIN_FREE_FAILURES_PER_ACCOUNT"],
        free_failures_per_address=config["LOGIN_FREE_FAILURES_PER_ADDRESS"],
        free_failures_per_device=config["LOGIN_FREE_FAILURES_PER_DEVICE"],
        max_delay=timedelta(minutes=config["LOGIN_MAX_DELAY_MINUTES"]),
    )


def _address() -> str:
    return request.remote_addr or "unknown"


def _cookie_keys() -> list[str]:
    """Signed with the newest key, checked against the fallbacks too, as the session cookie is."""
    return [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]


def _device_lifetime() -> int:
    return current_app.config["LOGIN_DEVICE_DAYS"] * 24 * 3600


def _known_devices() -> list[devices.Device]:
    """The accounts this browser signed in to, as its device cookie names them."""
    value = request.cookies.get(DEVICE_COOKIE)
    return devices.read(value, _cookie_keys(), _device_lifetime(), int(time.time()))


def _remember_device(response, user: User, known: list[devices.Device]) -> None:
    """After a success: this browser is a known device for the account, with a fresh nonce."""
    value = devices.issue(_cookie_keys(), user.id, user.password_hash, known, int(time.time()))
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=_device_lifetime(),
        path=DEVICE_COOKIE_PATH,
        secure=current_app.session_interface.get_cookie_secure(current_app),
        httponly=True,
        samesite="Lax",
    )


def _signed_in(user: User, target: str, known: list) -> Response:
    """Commit, start a fresh session (nothing from before survives it) and send the reader on,
    this browser now a known device for the account. The redirect is made before the commit:
    nothing can fail after it."""
    response = redirect(target)
    db.session.commit()
    session.clear()
    login_user(user)
    g.pop("viewer", None)
    session.permanent = True
    _remember_device(response, user, known)
    return response


def _refuse(form, error: accounts.AccountError) -> None:
    """The message beside its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    (field.errors if field is not None else form.form_errors).append(str(error))


def _check_password(form, check: Callable[[], User], wrong: int) -> tuple[User | None, int, dict]:
    """Run a password check (a sign-in, or the account page's current password): the user, or
    None with the status and headers of the refusal, its message on the form. An attempt that
    comes too early is not counted; a wrong password is (committed, as a failed sign-in)."""
    try:
        return check(), 200, {}
    except sign_in.TooManyAttempts as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return None, 429, {"Retry-After": str(error.seconds)}
    except accounts.AccountError as error:
        db.session.commit()  # the failed attempt must count
        _refuse(form, error)
        return None, wrong, {}


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account and sign in with it."""
    target = _safe_next(request.args.get("next"))  # before anything is stored
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session, form.email.data, form.display_name.data, form.password.data
            )
        except accounts.AccountError as error:
            db.session.rollback()
            _refuse(form, error)
            status = 409 if isinstance(error, accounts.EmailTaken) else 400
        else:
            response = _signed_in(user, target, _known_devices())
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return response
    elif form.is_submitted():
        status = 400
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; failures make further attempts wait, except from a browser known to the account."""
    target = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        known = _known_devices()
        user, status, headers = _check_password(
            form,
            lambda: sign_in.authenticate(
                db.session,
                form.email.data,
                form.password.data,
                _address(),
                _login_policy(),
                devices=devices.vouched(known),
            ),
            wrong=401,
        )
        if user is not None:
            return _signed_in(user, target, known)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status, headers


@bp.post("/logout")
@login_required
def logout():
    """Sign out on every device (a POST with a CSRF token, so another site cannot do it)."""
    sign_in.sign_out_everywhere(db.session, current_user.id)
    db.session.commit()
    logout_user()
    g.pop("viewer", None)
    session.clear()
    flash("You are signed out on every device.", "info")
    response = redirect(url_for("library.index"))
    # Unsaved notes kept in this browser (static/js/drafts.js) go too: the next person at a shared
    # computer must not find them.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The signed-in reader's account: who they are, a new password (which ends every other
    session, and keeps this one), and their personal access tokens."""
    form = PasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        known = _known_devices()
        user, status, headers = _check_password(
            form,
            lambda: sign_in.change_password(
                db.session,
                current_user.id,
                form.current_password.data,
                form.password.data,
                _address(),
                _login_policy(),
                devices=devices.vouched(known),
            ),
            wrong=400,
        )
        if user is not None:  # this browser goes on, in the new generation
            response = _signed_in(user, url_for("auth.account"), known)
            flash("Your password is changed. You are signed out on every other device.", "success")
            return response
    elif form.is_submitted():
        status = 400
    return _account_page(form=form), status, headers


def _account_page(
    form=None, token_form=None, new_token=None, new_secret=None, mail_form=None
) -> str:
    if mail_form is None and mail.enabled():
        mail_form = MailForm(formdata=None, data=mail.modes(db.session, current_user.id))
    return render_template(
        "auth/account.html",
        form=form or PasswordForm(),
        token_form=token_form or TokenForm(formdata=None),
        mail_form=mail_form,
        user=db.session.get(User, current_user.id),
        tokens=tokens.list_tokens(db.session, current_user.id),
        new_token=new_token,
        new_secret=new_secret,
    )


@bp.post("/account/tokens")
@login_required
def create_token():
    """A new personal access token: its secret is on this page, once (no-store), and nowhere
    else: a redirect would have to carry it in the session cookie."""
    token_form = TokenForm()
    try:
        token, secret = tokens.create(db.session, current_user.id, token_form.name.data or "")
    except Refused as error:
        db.session.rollback()
        token_form.name.errors = [str(error)]
        return _account_page(token_form=token_form), status_of(error)[0]
    db.session.commit()
    return _account_page(new_token=token, new_secret=secret)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of my tokens (another's is a 404, as one that never was)."""
    name = tokens.revoke(db.session, current_user.id, token_id)
    db.session.commit()
    flash(f"The token “{name}” is revoked: scripts that use it are refused from now on.", "success")
    return redirect(url_for("auth.account", _anchor="tokens-heading"))


@bp.post("/account/mail")
@login_required
def mail_preferences():
    """Which notices come by email, and when."""
    if not mail.enabled():
        flash("This site sends no email.", "info")
        return redirect(url_for("auth.account"))
    mail_form = MailForm()
    if not mail_form.validate_on_submit():
        return _account_page(mail_form=mail_form), 400
    mail.choose(db.session, current_user.id, {kind: mail_form[kind].data for kind in mail.KINDS})
    db.session.commit()
    flash("Your email choices are saved.", "success")
    return redirect(url_for("auth.account", _anchor="mail-heading"))


ONE_CLICK = "One-Click"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # see below: only the RFC 8058 POST goes without a CSRF token
def unsubscribe(token: str):
    """No more email, from a link in any mail, without signing in: the signed token in the link
    says whose email (a bad or old one is a 400). A GET only asks (mail scanners follow links);
    the page's button POSTs with a CSRF token. A mail program's one-click POST (RFC 8058:
    ``List-Unsubscribe=One-Click`` in the body) has no session and so no CSRF token: a forged
    request could only be made by whoever holds the token, which is the whole authority here,
    and nothing it does needs a session or answers with anything private."""
    user_id = mail.read_unsubscribe_token(_cookie_keys(), token)
    if request.method == "GET":
        return render_template("auth/unsubscribe.html", token=token, done=False)
    if request.form.get("List-Unsubscribe") != ONE_CLICK and current_app.config.get(
        "WTF_CSRF_ENABLED", True
    ):
        csrf.protect()
    mail.unsubscribe(db.session, user_id)
    db.session.commit()
    return render_template("auth/unsubscribe.html", token=token, done=True)
