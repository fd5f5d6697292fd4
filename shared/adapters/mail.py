"""Mail transports behind :class:`shared.platform.mail.Transport`: outbox (default), Gmail API, SMTP.

Built by ``shared.bootstrap.mailer()`` from ``MAIL_TRANSPORT``; each is wrapped in
:class:`shared.platform.mail.ExactlyOnceMailer`. Heavy clients are imported on first use.
"""

from __future__ import annotations

import base64
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.adapters import google_auth
from shared.adapters.google_errors import error_reasons
from shared.adapters.outbox import Outbox
from shared.platform import env
from shared.platform.mail import DeliveryRefused, OutgoingMail, build_message, parse_address

GMAIL_SCOPES = google_auth.SCOPES["gmail"]


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


def _local_anonymous(endpoint: str | None) -> bool:
    """A local test endpoint with no credential story configured: no token at all."""
    return bool(endpoint and endpoint.startswith(("http://127.", "http://localhost", "http://[::1]"))
                and not os.environ.get(env.GOOGLE_API_CREDENTIALS) and not os.environ.get(env.IAM_CREDENTIALS_ENDPOINT))


def google_credentials(api: google_auth.Api, subject: str, endpoint: str | None = None) -> Any:
    """Credentials for ``api`` acting as ``subject`` (shared/adapters/google_auth.py: the refresh token
    for consumer Gmail, domain-wide delegation through signJwt for Workspace); anonymous for a local
    test endpoint when neither is configured."""
    if _local_anonymous(endpoint):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    return google_auth.for_user(api, subject)


RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class GmailUnavailable(Exception):
    """Gmail kept answering 5xx (or not at all) and we could not tell whether the message went out.

    Not a :class:`DeliveryRefused`: the intent stays ``sending``, and the next caller after the lease
    asks the Sent folder (``rfc822msgid:``) before sending again."""


class GmailTransport:
    """``users.messages.send`` with the raw RFC 5322 message (base64url), as the delegated sender.

    Retries, all inside one call and within ``budget`` seconds (counting the worst case of the next
    request and search at ``timeout`` each), well inside the mailer's 2-minute lease, so nobody takes
    the intent over while this call may still send it:
    - 429, and 403 ``rateLimitExceeded``/``userRateLimitExceeded``: the message was refused, so it is
      sent again after an exponential backoff with jitter (``Retry-After`` honoured);
    - 5xx, a timeout or a dropped connection: the message may have gone out, so after the backoff the
      Sent folder is searched for its Message-ID first and it is sent again only when absent;
    - any other 4xx (403 delegation/permission, 400): :class:`DeliveryRefused` at once (permanent;
      the intent becomes ``failed`` and the organizer digest lists it).
    """

    def __init__(self, sender: str, endpoint: str | None = None, service: Any = None, *, timeout: float = 20.0,
                 attempts: int = 5, base_delay: float = 1.0, max_delay: float = 16.0, budget: float = 90.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sender = sender
        self.endpoint = endpoint or os.environ.get(env.GMAIL_API_ENDPOINT) or None
        self._service = service
        self.timeout, self.attempts, self.base_delay, self.max_delay = timeout, attempts, base_delay, max_delay
        self.budget, self.sleep = budget, sleep  # budget < ExactlyOnceMailer's lease (120 s)
        self.search_attempts = 2  # inside deliver(); was_sent() (after a crash) uses ``attempts``
        self.retries = 0

    @property
    def service(self) -> Any:
        if self._service is None:
            import google_auth_httplib2  # type: ignore[import-untyped]
            import httplib2  # type: ignore[import-untyped]
            from googleapiclient.discovery import build

            addr = parse_address(self.sender).addr_spec
            creds = google_credentials("gmail", addr, self.endpoint)
            # An explicit Http carries the timeout (build(credentials=...) would wait 60 s or more).
            http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=self.timeout))
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            self._service = build("gmail", "v1", http=http, static_discovery=True, client_options=options,
                                  cache_discovery=False)
        return self._service

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit() and float(retry_after) <= self.max_delay:
            return float(retry_after)
        return min(self.max_delay, self.base_delay * 2.0 ** attempt) * (0.5 + random.random() / 2)

    def _classify(self, exc: BaseException) -> tuple[str, str | None]:
        """"refused" (did not go, retry), "unknown" (may have gone), or raise DeliveryRefused (permanent)."""
        from googleapiclient.errors import HttpError

        if isinstance(exc, HttpError):
            status, reasons = int(exc.resp.status), error_reasons(exc)
            after = exc.resp.get("retry-after")
            if status == 429 or (status == 403 and reasons & RATE_REASONS):
                return "refused", after
            if status >= 500:
                return "unknown", after
            detail = ", ".join(sorted(reasons)) or "no reason given"
            raise DeliveryRefused(f"Gmail refused the message (HTTP {status}: {detail})") from None
        return "unknown", None

    def deliver(self, mail: OutgoingMail) -> str:
        import httplib2
        from googleapiclient.errors import HttpError

        raw = base64.urlsafe_b64encode(bytes(build_message(mail, self.sender))).decode("ascii")
        started = time.monotonic()
        for attempt in range(self.attempts):
            try:
                # execute() without num_retries: a blind retry after a lost answer would be a second mail.
                result = self.service.users().messages().send(userId="me", body={"raw": raw}).execute()
                return str(result.get("id", ""))
            except (HttpError, OSError, httplib2.HttpLib2Error) as exc:
                kind, after = self._classify(exc)
            wait = self._wait(attempt, after)
            worst_next = wait + self.timeout * (1 + (self.search_attempts if kind == "unknown" else 0))
            if attempt == self.attempts - 1 or time.monotonic() - started + worst_next > self.budget:
                if kind == "refused":
                    raise DeliveryRefused(f"Gmail kept refusing the message (rate limit, {attempt + 1} attempts)")
                raise GmailUnavailable(f"Gmail did not answer after {attempt + 1} attempts")
            self.retries += 1
            self.sleep(wait)
            if kind == "unknown":
                found = self._find(mail, self.search_attempts)
                if found:
                    return found  # the earlier attempt went out after all: never send it twice
        raise AssertionError("unreachable")

    def _find(self, mail: OutgoingMail, attempts: int | None = None) -> str | None:
        """The id of the message with this intent's Message-ID in the sender's mailbox, if any."""
        import httplib2
        from googleapiclient.errors import HttpError

        q = f"rfc822msgid:{mail.message_id.strip('<>')}"
        attempts = attempts or self.attempts
        for attempt in range(attempts):
            try:
                result = self.service.users().messages().list(userId="me", q=q, includeSpamTrash=True).execute()
                found = result.get("messages") or []
                return (str(found[0].get("id") or "") or "found") if found else None
            except HttpError as exc:
                status = int(exc.resp.status)
                if not (status == 429 or status >= 500 or (status == 403 and error_reasons(exc) & RATE_REASONS)):
                    raise
                after = exc.resp.get("retry-after")
            except (OSError, httplib2.HttpLib2Error):
                after = None
            if attempt == attempts - 1:
                raise GmailUnavailable("the Sent-folder search kept failing")
            self.retries += 1
            self.sleep(self._wait(attempt, after))
        raise AssertionError("unreachable")

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return self._find(mail) is not None


class SmtpTransport:
    """SMTP with STARTTLS (e.g. smtp.gmail.com:587 and an App Password); ``starttls=False`` only for a
    relay on a trusted network (``SMTP_STARTTLS=false``, e.g. a local test server).

    The bytes sent are those the outbox would write (CRLF line ends) without the Bcc header, with the
    envelope taken from the parsed addresses (To and Bcc), never re-parsed from the (encoded) headers. Anything that fails before
    the DATA command, or a 4xx/5xx answer to MAIL/RCPT/DATA, is a :class:`DeliveryRefused` (the
    message did not go). A connection lost *during* DATA is not: it may have gone, so it propagates,
    the intent stays ``sending`` and later becomes ``stuck``, never resent.
    """

    def __init__(self, sender: str, host: str, port: int = 587, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 30.0) -> None:
        self.sender, self.host, self.port = sender, host, port
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def deliver(self, mail: OutgoingMail) -> str:
        import smtplib

        msg = build_message(mail, self.sender, bcc_header=False)  # blind recipients: the envelope only
        data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
        envelope_from = parse_address(self.sender).addr_spec
        recipients = list(mail.recipients)  # one RCPT TO per To and Bcc address
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:  # refused, unreachable, a greeting that never came: nothing was sent
            raise DeliveryRefused(f"SMTP server unreachable ({type(exc).__name__})") from None
        try:
            try:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
            except (smtplib.SMTPException, OSError) as exc:
                raise DeliveryRefused(f"SMTP session refused ({type(exc).__name__})") from None
            try:
                smtp.sendmail(envelope_from, recipients, data)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                raise DeliveryRefused(f"SMTP refused the message ({type(exc).__name__})") from None
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return mail.message_id

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return None  # SMTP cannot tell: a vanished attempt becomes "stuck" (at most once)
