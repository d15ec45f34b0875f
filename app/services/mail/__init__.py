"""Mail that arrives: notices by email, straight away or in a daily digest, as each reader
chooses (``preferences``); queued with the notice (``outbox.queue``), composed and sent outside
any request by ``flask --app wsgi send-mail`` (``outbox.drain``), through the server
``SCHOLIA_SMTP_URL`` names (``transport``). See docs/mail.md."""

from app.services.mail.compose import Site
from app.services.mail.outbox import Report, drain, enabled, queue
from app.services.mail.preferences import (
    KINDS,
    choose,
    modes,
    read_unsubscribe_token,
    unsubscribe,
    unsubscribe_token,
)
from app.services.mail.transport import SmtpServer, Transport

__all__ = [
    "KINDS",
    "Report",
    "Site",
    "SmtpServer",
    "Transport",
    "choose",
    "drain",
    "enabled",
    "modes",
    "queue",
    "read_unsubscribe_token",
    "unsubscribe",
    "unsubscribe_token",
]
