"""Every model, importable from one place (Alembic's autogenerate needs them all loaded)."""

from app.models.activity import Event, EventKind, Notification, NotificationKind, PartChange
from app.models.annotation import (
    Annotation,
    AnnotationImport,
    AnnotationTag,
    AnnotationVersion,
    Flag,
    HighlightColor,
    IdempotencyKey,
    Kind,
    Motivation,
    Reaction,
    ReactionKind,
    Suggestion,
    SuggestionStatus,
    Visibility,
)
from app.models.group import Group, Membership, ReadingAssignment, Removal, Role
from app.models.mail import MailMode, MailOutbox, MailPreference, OutboxStatus
from app.models.prompt import ParagraphPrompt
from app.models.text import Paragraph, ParagraphRole, Text, TextRevision
from app.models.user import ApiToken, LoginAttempt, User

__all__ = [
    "Annotation",
    "AnnotationImport",
    "AnnotationTag",
    "AnnotationVersion",
    "ApiToken",
    "Event",
    "EventKind",
    "Flag",
    "Group",
    "HighlightColor",
    "IdempotencyKey",
    "Kind",
    "LoginAttempt",
    "MailMode",
    "MailOutbox",
    "MailPreference",
    "Membership",
    "Motivation",
    "Notification",
    "NotificationKind",
    "OutboxStatus",
    "Paragraph",
    "ParagraphPrompt",
    "ParagraphRole",
    "PartChange",
    "Reaction",
    "ReactionKind",
    "ReadingAssignment",
    "Removal",
    "Role",
    "Suggestion",
    "SuggestionStatus",
    "Text",
    "TextRevision",
    "User",
    "Visibility",
]
