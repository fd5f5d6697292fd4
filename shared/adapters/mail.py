"""Mail transports behind :class:`shared.mail.Transport`: outbox (default), Gmail API, SMTP.

Built by ``shared.bootstrap.mailer()`` from ``MAIL_TRANSPORT``; each is wrapped in
:class:`shared.mail.ExactlyOnceMailer`. Heavy clients are imported on first use.
"""

from __future__ import annotations

import base64
import json
import os
import smtplib
from pathlib import Path
from typing import Any

from shared import env
from shared.adapters.outbox import Outbox
from shared.mail import DeliveryRefused, OutgoingMail, build_message, parse_address

GMAIL_SCOPES = (
    "https://www.googleapis.com/auth/gmail.send",
    # The Sent-folder check after a crash needs to search the mailbox (gmail.metadata cannot use q=).
    "https://www.googleapis.com/auth/gmail.readonly",
)


def _safe_name(intent: str) -> str:
    return intent.replace("/", "_").replace("\\", "_")


class OutboxTransport:
    """``mail/<intent>.eml`` under OUTBOX_DIR: what would be sent, byte for byte."""

    def __init__(self, sender: str, outbox: Outbox | None = None) -> None:
        self.sender = sender
        self.outbox = outbox or Outbox()

    def path(self, mail: OutgoingMail) -> Path:
        return self.outbox.root / "mail" / f"{_safe_name(mail.intent)}.eml"

    def deliver(self, mail: OutgoingMail) -> str:
        self.outbox.write("mail", f"{_safe_name(mail.intent)}.eml", bytes(build_message(mail, self.sender)))
        return str(self.path(mail))

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return self.path(mail).exists()


def google_credentials(scopes: tuple[str, ...], subject: str | None = None, endpoint: str | None = None) -> Any:
    """Credentials from GOOGLE_API_CREDENTIALS (service account -> domain-wide delegation to ``subject``,
    or an OAuth authorized-user file); anonymous when only a local test endpoint is configured;
    otherwise the runtime's default credentials."""
    path = os.environ.get(env.GOOGLE_API_CREDENTIALS)
    if path:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        if info.get("type") == "service_account":
            from google.oauth2 import service_account

            creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))  # type: ignore[no-untyped-call]
            return creds.with_subject(subject) if subject else creds
        from google.oauth2.credentials import Credentials

        return Credentials.from_authorized_user_info(info, scopes=list(scopes))  # type: ignore[no-untyped-call]
    if endpoint and endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    import google.auth

    creds, _ = google.auth.default(scopes=list(scopes))
    return creds


class GmailTransport:
    """``users.messages.send`` with the raw RFC 5322 message (base64url), as the delegated sender."""

    def __init__(self, sender: str, endpoint: str | None = None, service: Any = None) -> None:
        self.sender = sender
        self.endpoint = endpoint or os.environ.get(env.GMAIL_API_ENDPOINT) or None
        self._service = service

    @property
    def service(self) -> Any:
        if self._service is None:
            from googleapiclient.discovery import build

            addr = parse_address(self.sender).addr_spec
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            self._service = build("gmail", "v1", credentials=google_credentials(GMAIL_SCOPES, addr, self.endpoint),
                                  static_discovery=True, client_options=options, cache_discovery=False)
        return self._service

    def deliver(self, mail: OutgoingMail) -> str:
        from googleapiclient.errors import HttpError

        raw = base64.urlsafe_b64encode(bytes(build_message(mail, self.sender))).decode("ascii")
        try:
            # No automatic retries here: a retried send after a lost answer would be a second mail.
            result = self.service.users().messages().send(userId="me", body={"raw": raw}).execute()
        except HttpError as exc:
            if 400 <= exc.resp.status < 500:
                raise DeliveryRefused(f"Gmail refused the message (HTTP {exc.resp.status})") from None
            raise
        return str(result.get("id", ""))

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        q = f"rfc822msgid:{mail.message_id.strip('<>')}"
        result = self.service.users().messages().list(userId="me", q=q, includeSpamTrash=True).execute(num_retries=3)
        return bool(result.get("messages"))


class SmtpTransport:
    """SMTP with STARTTLS (e.g. smtp.gmail.com:587 and an App Password)."""

    def __init__(self, sender: str, host: str, port: int = 587, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 30.0) -> None:
        self.sender, self.host, self.port = sender, host, port
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def deliver(self, mail: OutgoingMail) -> str:
        msg = build_message(mail, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPAuthenticationError, ConnectionRefusedError) as exc:
            raise DeliveryRefused(f"SMTP refused the message ({type(exc).__name__})") from None
        return mail.message_id

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return None  # SMTP cannot tell: a vanished attempt becomes "stuck" (at most once)
