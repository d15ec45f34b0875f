"""Every model, importable from one place (Alembic's autogenerate needs them all loaded)."""

from app.models.annotation import (
    Annotation,
    AnnotationTag,
    AnnotationVersion,
    HighlightColor,
    Motivation,
    Visibility,
)
from app.models.text import Paragraph, ParagraphRole, Text, TextRevision
from app.models.user import LoginAttempt, User

__all__ = [
    "Annotation",
    "AnnotationTag",
    "AnnotationVersion",
    "HighlightColor",
    "LoginAttempt",
    "Motivation",
    "Paragraph",
    "ParagraphRole",
    "Text",
    "TextRevision",
    "User",
    "Visibility",
]
