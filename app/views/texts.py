"""Adding a text on the page (upload or paste, preview, save) and editing its details."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app import edge
from app.current import viewer
from app.errors import handle_http_error, handle_refusal, refusal_headers, status_of
from app.extensions import db
from app.models import ParagraphRole
from app.services import importer
from app.services.errors import QuotaExceeded, Refused
from app.services.texts import adding
from app.views.refusals import is_page_of_its_own

bp = Blueprint("texts", __name__)

# The form carries the source back in base64 (4/3 of its bytes), with a few fields beside it.
BODY_LIMIT = adding.MAX_BYTES * 4 // 3 + 64 * 1024


@dataclass(frozen=True)
class Kept:
    """What a form sent, to fill it again."""

    text: str = ""
    format: str = "txt"
    slug: str = ""
    group: int | None = None
    title: str = ""
    author: str = ""
    citation: str = ""


@dataclass(frozen=True)
class FormError:
    message: str
    field: str | None = None


def _error(refusal: Refused) -> FormError:
    return FormError(str(refusal), getattr(refusal, "field", None))


def _group() -> int | None:
    source = request.form if request.method == "POST" else request.args
    return edge.whole_number(source.get("group"), "group", "a group's number")


def _page(template: str, status: int = 200, headers=None, **context):
    acting = viewer()
    page = render_template(
        template,
        taught=adding.groups_taught(acting),
        max_bytes=adding.MAX_BYTES,
        **context,
    )
    return page, status, headers or {}


def _refused(refusal: Refused, template: str, **context):
    """The form again with the refusal beside its field, or the refusal's own page (a reader
    who may not add texts)."""
    db.session.rollback()
    if is_page_of_its_own(refusal):
        return handle_refusal(refusal)
    return _page(
        template,
        status_of(refusal)[0],
        refusal_headers(refusal),
        error=_error(refusal),
        **context,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """A body past ``BODY_LIMIT`` is not read at all (a 5 MB file costs nothing to refuse): the
    form again, saying so, to those who may add texts (it is refused before anyone is looked at:
    a visitor or a member gets the bare error page, as for any other address)."""
    if request.endpoint != "texts.create" or not adding.may_add(viewer()):
        return handle_http_error(_error)
    message = (
        f"That is more than a text may be: at most {adding.MAX_BYTES // (1024 * 1024)} MB. "
        "Nothing was read; split it into parts, or leave out what the seminar does not read."
    )
    return _page("texts/new.html", 413, kept=Kept(), error=FormError(message, "source"))


@bp.get("/texts/new")
@login_required
def new():
    """The form: a file or pasted text, its URL name, a reading list to put it on."""
    try:
        adding.check_may_add(viewer())
    except Refused as refusal:
        return handle_refusal(refusal)
    return _page("texts/new.html", kept=Kept(group=_group()), error=None)


@bp.post("/texts/new")
@login_required
@edge.larger_body(BODY_LIMIT)
def create():
    """Preview what was sent (nothing stored), or with ``step=save`` parse the carried source
    again and store it, then go to the new text's reading page."""
    form = request.form
    kept = Kept(
        text=form.get("text", ""),
        format="md" if form.get("format") == "md" else "txt",
        slug=form.get("slug", ""),
        group=_group(),
    )
    acting = viewer()
    if form.get("step") == "save":
        try:
            source = adding.Source.carried(form.get("source", ""), form.get("source_name", ""))
        except Refused as refusal:
            return _refused(refusal, "texts/new.html", kept=kept)
        try:
            text = adding.add(db.session, acting, source, kept.slug, kept.group)
        except (adding.SlugRefused, adding.SlugTaken, adding.GroupRefused) as refusal:
            db.session.rollback()
            return _preview(source, kept, _error(refusal), status_of(refusal)[0])
        except Refused as refusal:
            return _refused(refusal, "texts/new.html", kept=kept)
        db.session.commit()
        message = f"“{text.title}” is in the library."
        if kept.group is not None:
            message += " It is on your group’s reading list too."
        flash(message, "success")
        return redirect(url_for("library.read", slug=text.slug))
    try:
        source = _source(kept)
    except Refused as refusal:
        return _refused(refusal, "texts/new.html", kept=kept)
    return _preview(source, kept)


def _source(kept: Kept) -> adding.Source:
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    has_text = bool(kept.text.strip())
    if has_file and has_text:
        raise adding.SourceRefused("Choose a file or paste the text, not both.")
    if has_file:
        return adding.Source.upload(upload.read(adding.MAX_BYTES + 1), upload.filename)
    if has_text:
        form = adding.Format.MARKDOWN if kept.format == "md" else adding.Format.PLAIN
        return adding.Source.pasted(kept.text, form)
    raise adding.SourceRefused("Choose a file, or paste the text.")


def _preview(source: adding.Source, kept: Kept, error: FormError | None = None, status=200):
    """The parsed text with its Save form; with ``error`` (a URL name or group refused on
    saving), that form says why."""
    try:
        preview = adding.preview(db.session, viewer(), source, kept.slug)
    except Refused as refusal:
        return _refused(refusal, "texts/new.html", kept=kept)
    if error is None and preview.slug_problem:
        error = FormError(preview.slug_problem, "slug")
    again = Kept(
        text=source.raw.decode("utf-8", "replace") if source.is_pasted else "",
        format="md" if source.name.endswith(".md") else "txt",
        slug=kept.slug,
        group=kept.group,
    )
    shown = Kept(slug=preview.slug or kept.slug, group=kept.group)
    return _page(
        "texts/preview.html", status, preview=preview, kept=shown, again=again, error=error
    )


@bp.get("/texts/<slug>/edit")
@login_required
def edit(slug: str):
    """The text's title, author and citation, to change (its words stay)."""
    try:
        text = adding.editable(db.session, viewer(), slug)
    except Refused as refusal:
        return handle_refusal(refusal)
    kept = Kept(title=text.title, author=text.author, citation=text.citation)
    return _edit_page(text, kept)


def _edit_page(text, kept: Kept, error: FormError | None = None, status: int = 200, headers=None):
    citation_paragraph = next(
        (p.number for p in text.current_revision.paragraphs if p.role is ParagraphRole.CITATION),
        None,
    )
    limits = {
        "title": importer.MAX_TITLE,
        "author": importer.MAX_AUTHOR,
        "citation": adding.MAX_CITATION,
    }
    return _page(
        "texts/edit.html",
        status,
        headers,
        text=text,
        kept=kept,
        error=error,
        limits=limits,
        citation_paragraph=citation_paragraph,
    )


@bp.post("/texts/<slug>/edit")
@login_required
def update(slug: str):
    form = request.form
    kept = Kept(
        title=form.get("title", ""),
        author=form.get("author", ""),
        citation=form.get("citation", ""),
    )
    try:
        text = adding.edit(db.session, viewer(), slug, kept.title, kept.author, kept.citation)
    except (adding.DetailRefused, QuotaExceeded) as refusal:  # the form again, as typed
        db.session.rollback()
        text = adding.editable(db.session, viewer(), slug)
        status, headers = status_of(refusal)[0], refusal_headers(refusal)
        return _edit_page(text, kept, _error(refusal), status, headers)
    except Refused as refusal:
        return handle_refusal(refusal)
    db.session.commit()
    flash("Saved: the title, author and citation are changed everywhere.", "success")
    return redirect(url_for("library.read", slug=text.slug))
