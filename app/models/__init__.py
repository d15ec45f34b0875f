"""Every model, importable from one place (Alembic's autogenerate needs them all loaded)."""

from app.models.text import Paragraph, ParagraphRole, Text, TextRevision
from app.models.user import LoginAttempt, User

__all__ = ["LoginAttempt", "Paragraph", "ParagraphRole", "Text", "TextRevision", "User"]
