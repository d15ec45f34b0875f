"""The seminar dashboard of a text on a group's reading list, its downloads, and the group's
notes on it in one list: for the group's instructors (services/dashboard.py says what counts)."""

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required

from app import edge
from app.api.exports import attachment
from app.current import viewer
from app.extensions import db
from app.models import Kind
from app.services import dashboard, discussion
from app.views.library import MAX_PARAGRAPH
from app.views.refusals import answer_refusals, group_refused

bp = Blueprint("dashboard", __name__, url_prefix="/groups/<int:group_id>/texts/<slug>")
answer_refusals(bp, group_refused)

SVG = "image/svg+xml; charset=utf-8"
# What XML 1.0 has no place for and the request checks let through (app/edge.py refuses the
# other control characters and lone surrogates): one U+FFFF in a group's name or a text's words
# and no program would open the download.
NOT_XML = str.maketrans("", "", "\ufffe\uffff")
CSV = "text/csv; charset=utf-8; header=present"


def _measure() -> dashboard.Measure:
    raw = request.args.get("show")
    return dashboard.Measure.QUESTIONS if raw == "questions" else dashboard.Measure.ACTIVITY


def _download(body, content_type: str, name: str, extension: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = attachment(name, extension)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


@bp.get("/dashboard")
@login_required
def show(group_id: int, slug: str):
    """Where the group's attention and questions gather on the text, and who took part."""
    board = dashboard.dashboard(db.session, viewer(), group_id, slug, _measure())
    sorting = dashboard.Sorting.parse(request.args.get("sort"))
    return render_template(
        "groups/dashboard.html",
        board=board,
        reading=board.reading,
        group=board.reading.group,
        text=board.reading.text,
        participants=dashboard.sort_participants(board.participants, sorting),
        sorting=sorting,
        columns=dashboard.COLUMNS,
        prompts=board.prompts,
    )


@bp.get("/dashboard/heatmap.svg")
@login_required
def heatmap_svg(group_id: int, slug: str):
    """The heatmap as a self-contained SVG, for slides."""
    board = dashboard.dashboard(db.session, viewer(), group_id, slug, _measure())
    svg = render_template("groups/heatmap.svg", board=board).lstrip().translate(NOT_XML)
    name = f"{board.reading.text.title} {board.measure.value} {_stamp()}"
    return _download(svg, SVG, name, "svg")


@bp.get("/dashboard/participation.csv")
@login_required
def participation_csv(group_id: int, slug: str):
    """The participation table, a row a member, for grading."""
    board = dashboard.dashboard(db.session, viewer(), group_id, slug)
    name = f"{board.reading.group.name} {board.reading.text.title} participation {_stamp()}"
    return _download(dashboard.participation_csv(board), CSV, name, "csv")


def _kind() -> Kind | None:
    raw = request.args.get("kind") or None
    if raw is None:
        return None
    try:
        return Kind(raw)
    except ValueError:
        abort(400, description=f"kind is one of {', '.join(k.value for k in Kind)}.")


@bp.get("/notes")
@login_required
def notes(group_id: int, slug: str):
    """The group's notes on the text in one list, filtered by member, paragraph, tag, kind and
    "unanswered", a page at a time."""
    filters = dashboard.NotesFilter(
        member=edge.whole_number(request.args.get("member"), "member", "a reader's number"),
        paragraph=edge.whole_number(
            request.args.get("paragraph"), "paragraph", "a paragraph number", MAX_PARAGRAPH
        ),
        tag=request.args.get("tag") or None,
        kind=_kind(),
        unanswered=bool(request.args.get("unanswered")),
        page=edge.number(request.args.get("page")) or 1,
    )
    acting = viewer()
    found = dashboard.group_notes(db.session, acting, group_id, slug, filters)
    return render_template(
        "groups/notes.html",
        found=found,
        reading=found.reading,
        group=found.reading.group,
        text=found.reading.text,
        filters=filters,
        kinds=list(Kind),
        conv=discussion.conversation(db.session, acting, found.notes),
        flatten=discussion.flatten,
        group_names={found.reading.group.id: found.reading.group.name},
    )
