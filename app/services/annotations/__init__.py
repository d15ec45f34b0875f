"""Annotations: what may be stored (rules, spans), writing them (writing, thread_changes) and
reading them back (queries, notebook), every step through the one access policy."""

from app.services.annotations.notebook import (
    NotebookFilter,
    NotebookGroup,
    group_for_notebook,
    notebook,
    tag_suggestions,
)
from app.services.annotations.queries import (
    History,
    get_editable,
    get_visible,
    paragraph_spans,
    text_for,
    text_slug_of,
    versions,
)
from app.services.annotations.rules import (
    CONTEXT_CHARS,
    MAX_BODY_CHARS,
    audience_key,
    check_audience,
    check_body,
    normalise_tag,
    normalise_tags,
    parse_audience,
    refusal,
)
from app.services.annotations.spans import SpanTarget, reanchor, resolve_span
from app.services.annotations.thread_changes import delete, restore, set_visibility
from app.services.annotations.writing import (
    MARKDOWN_BODY,
    BodyForm,
    Changes,
    Draft,
    create,
    edit,
    get_for,
    new_annotation,
    once,
    store,
)

__all__ = [
    "CONTEXT_CHARS",
    "MARKDOWN_BODY",
    "MAX_BODY_CHARS",
    "BodyForm",
    "Changes",
    "Draft",
    "History",
    "NotebookFilter",
    "NotebookGroup",
    "SpanTarget",
    "audience_key",
    "check_audience",
    "check_body",
    "create",
    "delete",
    "edit",
    "get_editable",
    "get_for",
    "get_visible",
    "group_for_notebook",
    "new_annotation",
    "normalise_tag",
    "normalise_tags",
    "notebook",
    "once",
    "paragraph_spans",
    "parse_audience",
    "reanchor",
    "refusal",
    "resolve_span",
    "restore",
    "set_visibility",
    "store",
    "tag_suggestions",
    "text_for",
    "text_slug_of",
    "versions",
]
