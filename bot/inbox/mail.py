"""E-mail through the association's SMTP server (standard library; run off the event loop).

`SMTP_TLS`: `starttls` (port 587, the usual submission), `ssl` (implicit TLS, port 465) or
`none` (a relay on the same machine or network only: the password would travel in clear).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

TIMEOUT = 20.0  # seconds for the whole exchange: a stuck server must not hold a task forever


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    user: str
    password: str
    sender: str  # the From address
    tls: str  # "starttls", "ssl" or "none"

    def __repr__(self) -> str:  # never the password in a log or a traceback
        return f"SMTPSettings({self.host}:{self.port}, tls={self.tls}, from={self.sender})"


class Mailer:
    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings

    async def send(self, recipients: Sequence[str], subject: str, body: str) -> None:
        """One message to all `recipients` (each sees only the From address: they are not
        told each other's addresses). Raises on any failure; the caller retries."""
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = self.settings.sender
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message, list(recipients))

    def _send(self, message: EmailMessage, recipients: list[str]) -> None:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        with smtp:
            if s.tls == "starttls":
                smtp.starttls(context=context)
            if s.user:
                smtp.login(s.user, s.password)
            smtp.send_message(message, to_addrs=recipients)
