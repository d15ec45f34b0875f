"""Form definitions; Flask-WTF adds the CSRF token to each."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from app.models import MailMode
from app.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.services.tokens import MAX_NAME as MAX_TOKEN_NAME

PASSWORD_LENGTH_MESSAGE = (
    f"Passwords need {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
)


class HtmlForm(FlaskForm):
    """A form read from posted form fields only. Flask-WTF would read a JSON body too, whose
    numbers, lists and objects WTForms' validators cannot take (a 500): JSON finds no fields."""

    def __init__(self, *args, **kwargs):
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs.setdefault("formdata", request.form)
        super().__init__(*args, **kwargs)


class LoginForm(HtmlForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


def new_password(label: str) -> PasswordField:
    """A password being chosen: the same rules wherever one is (registration, a change)."""
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_LENGTH_MESSAGE
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )


def repeated(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class RegisterForm(HtmlForm):
    display_name = StringField(
        "Display name",
        validators=[DataRequired(), Length(max=80)],
        description="Shown beside your notes in shared discussions.",
    )
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = new_password("Password")
    confirm = repeated("Repeat password")


class PasswordForm(HtmlForm):
    """The account page's password change: the current password, then the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    password = new_password("New password")
    confirm = repeated("Repeat new password")


class TokenForm(HtmlForm):
    """A new personal access token: its name (the rules are services/tokens.py's)."""

    name = StringField(
        "Name",
        render_kw={"maxlength": MAX_TOKEN_NAME},
        description="What the token is for, e.g. “Grading script”.",
    )


MAIL_CHOICES = [
    SelectChoice(MailMode.IMMEDIATE.value, "Straight away"),
    SelectChoice(MailMode.DAILY.value, "In a daily digest"),
    SelectChoice(MailMode.OFF.value, "No email"),
]


def mail_choice(label: str, description: str) -> SelectField:
    return SelectField(label, choices=MAIL_CHOICES, coerce=MailMode, description=description)


class MailForm(HtmlForm):
    """Which notices come by email, and when (the inbox in the app shows them all anyway)."""

    reply = mail_choice("Replies to my notes", "Someone answers a note or reply of yours.")
    mention = mail_choice("Mentions", "A member of your group names you as @Your Name.")
    flag = mail_choice(
        "Flags", "For instructors and administrators: a reader flags a note you moderate."
    )
