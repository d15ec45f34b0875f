"""Flask commands: ``flask --app wsgi seed | import-text | import-annotations | create-user |
set-password | create-token | backup | restore | send-mail``."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.models.base import utcnow
from app.services import accounts, annotation_import, backup, importer, mail, tokens
from app.services.access import load_viewer
from app.services.errors import Refused


def _import(path: Path, slug: str | None = None) -> importer.ImportResult:
    try:
        result = importer.import_file(db.session, path, slug)
    except importer.TextImportError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return result


def _report(result: importer.ImportResult) -> None:
    text = result.text
    count = len(text.current_revision.paragraphs)
    click.echo(f"{result.status}: {text.slug} — {text.title} ({count} paragraphs)")
    if result.anchoring:
        moved = ", ".join(f"{n} {what}" for what, n in result.anchoring.items())
        click.echo(f"  annotations: {moved}")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Import every text in seeds/ (already imported, unchanged texts are left alone)."""
    seeds_dir = Path(current_app.config["SEEDS_DIR"])
    for path in importer.seed_files(seeds_dir):
        _report(_import(path))


@click.command("import-text")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--slug", help="URL name for the text (default: from the file name).")
def import_text_command(path: Path, slug: str | None) -> None:
    """Import one .txt or .md file, or add a revision to the text it updates."""
    _report(_import(path, slug))


@click.command("import-annotations")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--text", "slug", required=True, help="The text to import into (its slug).")
@click.option("--user", "email", required=True, help="The account importing (its email).")
@click.option(
    "--keep-authors",
    is_flag=True,
    help="Give each annotation to the one account named as its creator (else to --user).",
)
def import_annotations_command(path: Path, slug: str, email: str, keep_authors: bool) -> None:
    """Import a W3C or Hypothesis JSON export of annotations into a text, and report."""
    user = accounts.user_by_email(db.session, accounts.normalise_email(email))
    if user is None:
        raise click.ClickException(f"No account has the email address {email}.")
    with ExitStack() as stack:
        bars = []

        def start(total: int) -> None:
            bars.append(stack.enter_context(click.progressbar(length=total, label="Importing")))

        try:
            report = annotation_import.import_annotations(
                db.session,
                load_viewer(db.session, user.id),
                slug,
                path.read_bytes(),
                keep_authors=keep_authors,
                on_start=start,
                progress=lambda done: bars[0].update(done),
            )
        except Refused as error:
            db.session.rollback()
            raise click.ClickException(f"{path}: {error} Nothing was imported.") from None
    db.session.commit()
    counts = ", ".join(f"{n} {what}" for what, n in report.counts().items())
    click.echo(f"{report.kind} file into {report.text.slug}: {counts}")
    for line in report.remarks():
        click.echo(f"  #{line.number} {line.ref or ''}: {line.outcome} — {line.reason}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Make the account a site administrator.")
def create_user_command(email: str, name: str, password: str, admin: bool) -> None:
    """Create an account (with --admin, a site administrator)."""
    try:
        user = accounts.create_user(db.session, email, name, password, is_admin=admin)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"created {'admin ' if admin else ''}user {user.email}")


@click.command("set-password")
@with_appcontext
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(email: str, password: str) -> None:
    """Give an account a new password (a reset: the reader is signed out everywhere)."""
    try:
        user = accounts.set_password(db.session, email, password)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"new password for {user.email}; signed out everywhere")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, to tell it apart later.")
def create_token_command(email: str, name: str) -> None:
    """Make a personal access token for an account and print its secret (shown only now)."""
    user = accounts.user_by_email(db.session, accounts.normalise_email(email))
    if user is None:
        raise click.ClickException("No account has that email address.")
    try:
        token, secret = tokens.create(db.session, user.id, name)
    except Refused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"token “{token.name}” for {user.email} (shown only now; keep it secret):", err=True)
    click.echo(secret)


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH while the app keeps serving."""
    try:
        backup.backup(db.engine, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up to {path} ({path.stat().st_size:,} bytes, integrity checked)")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database's content with the backup at PATH (checked first)."""
    if not yes:
        click.confirm(
            "This replaces everything in the database with the backup. Go on?", abort=True
        )
    try:
        backup.restore(db.engine, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored from {path}")


def mail_site(app: Flask) -> mail.Site:
    """The site as a message sees it: links to its public address (``SCHOLIA_BASE_URL``)."""
    base = urlsplit(app.config["BASE_URL"])
    adapter = app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return mail.Site(
        sender=app.config["MAIL_FROM"],
        url_for=lambda endpoint, **values: adapter.build(endpoint, values, force_external=True),
        keys=[*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key],
        base_url=app.config["BASE_URL"],
    )


def send_mail(
    app: Flask,
    *,
    now: datetime | None = None,
    digests: bool | None = None,
    transport: type[mail.Transport] = mail.Transport,
) -> mail.Report:
    """One drain of the outbox, as ``send-mail`` runs it (in an app context): the day's digests
    too when asked, or by default from ``MAIL_DIGEST_HOUR`` (UTC) on."""
    server = mail.SmtpServer.from_url(app.config["SMTP_URL"])
    now = now or utcnow()
    if digests is None:
        digests = now.hour >= app.config["MAIL_DIGEST_HOUR"]
    with transport(server) as connection:
        return mail.drain(
            db.session,
            mail_site(app),
            connection,
            now=now,
            digests=digests,
            max_attempts=app.config["MAIL_MAX_ATTEMPTS"],
        )


@click.command("send-mail")
@click.option(
    "--digest/--no-digest",
    default=None,
    help="Make today's digests now / not in this run (by default: from SCHOLIA_MAIL_DIGEST_HOUR "
    "UTC on). Each reader gets at most one a day either way.",
)
@with_appcontext
def send_mail_command(digest: bool | None) -> None:
    """Send the mail that is due (run it every few minutes from cron or a systemd timer)."""
    app = current_app._get_current_object()
    if not app.config["SMTP_URL"]:
        raise click.ClickException("SCHOLIA_SMTP_URL is not set: this site sends no mail.")
    if urlsplit(app.config["BASE_URL"]).hostname in ("localhost", "127.0.0.1", "::1"):
        click.echo(
            f"Warning: SCHOLIA_BASE_URL is {app.config['BASE_URL']}: the links in mail (to the "
            "notes, and to unsubscribe) lead there. Set it to the site's public address.",
            err=True,
        )
    try:
        report = send_mail(app, digests=digest)
    except Refused as error:  # the URL is not one
        raise click.ClickException(str(error)) from None
    click.echo(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
        f"nothing to tell {report.dropped}, held for digests {report.held}; "
        f"digests made {report.digests}"
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)


def init_app(app: Flask) -> None:
    for command in (
        seed_command,
        import_text_command,
        import_annotations_command,
        create_user_command,
        set_password_command,
        create_token_command,
        backup_command,
        restore_command,
        send_mail_command,
    ):
        app.cli.add_command(command)
