"""The SMTP server mail leaves by, named by one URL (``SCHOLIA_SMTP_URL``).

``smtp://host:25`` plain; ``smtp://user:pass@host:587?starttls=1`` upgraded with STARTTLS before
signing in; ``smtps://user:pass@host:465`` TLS from the first byte. ``?timeout=`` seconds (30).
A user name or password holding ``@``, ``:`` or ``/`` is percent-encoded in the URL.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from app.services.errors import Invalid

_YES = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False  # smtps: TLS from the start
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise Invalid("SCHOLIA_SMTP_URL must look like smtp://host:25 or smtps://host:465.")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
            timeout = float(query.get("timeout", 30))
        except ValueError:
            raise Invalid("SCHOLIA_SMTP_URL has a port or timeout that is not a number.") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            starttls=query.get("starttls", "").lower() in _YES,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )


class Unconfirmed(smtplib.SMTPException):
    """The whole message went to the server, which then fell silent or hung up before saying
    whether it took it: it may have. Sent again, it might arrive twice."""


class Uncarried(smtplib.SMTPException):
    """This server can never carry this message: an address outside ASCII (``zoë@…``, which
    registration accepts) and a server without SMTPUTF8. The next message may well go."""


class _Watched:
    """An SMTP connection that notes when a message's last byte (the lone "." ending its data)
    has gone: from then on a lost connection says nothing of whether it arrived."""

    handed_over = False

    def send(self, s):
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTP_SSL(_Watched, smtplib.SMTP_SSL):
    pass


class Transport:
    """One connection for a whole drain, opened at the first message and opened again after a
    failure. ``send`` raises ``smtplib.SMTPException`` or ``OSError`` when the message was not
    accepted (``Uncarried`` when it never can be by this server), ``Unconfirmed`` when it may
    have been."""

    def __init__(self, server: SmtpServer):
        self.server = server
        self._smtp: _SMTP | _SMTP_SSL | None = None

    def _connect(self) -> _SMTP | _SMTP_SSL:
        server = self.server
        context = ssl.create_default_context()
        if server.tls:
            smtp = _SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
        else:
            smtp = _SMTP(server.host, server.port, timeout=server.timeout)
        try:
            if server.starttls:
                smtp.starttls(context=context)
            if server.user:
                smtp.login(server.user, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        smtp.handed_over = False
        try:
            smtp.send_message(message)
        except smtplib.SMTPNotSupportedError as error:  # before a byte of it was sent
            raise Uncarried(str(error)) from error
        except BaseException as error:
            self.close()  # the next message starts on a fresh connection
            answered = isinstance(error, smtplib.SMTPResponseException)  # a 4xx or 5xx
            if smtp.handed_over and isinstance(error, OSError) and not answered:
                raise Unconfirmed(f"No answer once the message was sent: {error}") from error
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
