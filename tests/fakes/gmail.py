"""A fake Gmail API v1 (users.messages send/list) and OAuth token endpoint on 127.0.0.1.

Requests arrive as google-api-python-client sends them with ``api_endpoint`` pointing here (for
gmail the endpoint replaces the host only): ``POST /gmail/v1/users/me/messages/send`` with
``{"raw": base64url(RFC 5322)}`` -> 200 ``{"id", "threadId", "labelIds": ["SENT"]}``;
``GET /gmail/v1/users/me/messages?q=rfc822msgid:<id>`` -> ``{"messages": [...], "resultSizeEstimate"}``
(``resultSizeEstimate: 0`` and no ``messages`` key when nothing matches, as Gmail answers).
Like Gmail, a Message-ID supplied in the raw message is kept, so the search finds it.
``/token`` and ``/v1/projects/-/serviceAccounts/{sa}:signJwt`` are Google's token endpoint and IAM
Credentials method (tests/fakes/google_identity.py): both credential stories run their real flow here.

Recipients, as ``users.messages.send`` documents: "the recipients in the To, Cc, and Bcc headers" of
the raw message, read here with ``email.policy.default``; Gmail delivers the message without its Bcc
header (RFC 5322 3.6.3), which is what ``Sent.delivered`` holds. A To/Cc/Bcc header that does not
parse as addresses is refused (400), as Gmail refuses an invalid recipient header.

Faults: ``fail(method, path_part, status, times, after_accept=False)``. ``after_accept=True`` stores
the message first and then answers the error (an answer lost after Gmail accepted the mail).
"""

from __future__ import annotations

import base64
import email
import json
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.google_calendar import google_error
from tests.fakes.google_identity import Identity
from tests.fakes.http_server import FakeServer, Fault, JsonHandler, write_service_account


@dataclass
class Sent:
    id: str
    raw: bytes  # the RFC 5322 bytes exactly as decoded from "raw"
    message: EmailMessage
    token: str
    recipients: list[str] = field(default_factory=list)  # addr-specs of To, Cc and Bcc, in that order

    @property
    def delivered(self) -> EmailMessage:
        """The copy the recipients get: the message without its Bcc header."""
        copy = email.message_from_bytes(self.raw, policy=policy.default)
        del copy["Bcc"]
        return copy  # type: ignore[return-value]


def recipients(msg: EmailMessage) -> list[str] | None:
    """The addr-specs in To, Cc and Bcc; None when one of them holds something that is not an address."""
    out: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for header in msg.get_all(name) or []:
            addresses = getattr(header, "addresses", None)
            if addresses is None or header.defects or any(not a.addr_spec or "@" not in a.addr_spec or " " in a.addr_spec
                                                          for a in addresses):
                return None
            out.extend(a.addr_spec for a in addresses)
    return out


class FakeGmail(FakeServer):
    def __init__(self, identity: Identity | None = None) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, str, dict[str, list[str]]]] = []
        # Google's token endpoint and IAM signJwt (tests/fakes/google_identity.py), reached here
        self.identity = identity or Identity(token_url=self.token_uri)
        self.tokens = self.identity.tokens

    @property
    def grants(self) -> list[dict[str, Any]]:
        """Every token request (grant type, and for a JWT its claims: iss, sub, scope)."""
        return self.identity.grants

    def workspace_env(self, folder: Path, account: str = "fn-form-webhook@demo-alumni.iam.gserviceaccount.com") -> dict[str, str]:
        """Google Workspace: the runtime's own service account (a key here only because this is not
        Cloud Functions: google.auth.default() finds it) signs the delegation through signJwt."""
        key = write_service_account(folder / "runtime-sa.json", self.token_uri, account, "3")
        return {"GOOGLE_APPLICATION_CREDENTIALS": str(key), "IAM_CREDENTIALS_ENDPOINT": self.base,
                "GOOGLE_OAUTH_TOKEN_URL": self.token_uri}

    def oauth_env(self, folder: Path) -> dict[str, str]:
        """Consumer Gmail: the OAuth client's refresh token, consented for the gmail and forms scopes."""
        from shared.adapters.google_auth import OAUTH_SCOPES

        path = self.identity.authorized_user_file(folder / "authorized-user.json", scopes=OAUTH_SCOPES)
        return {"GOOGLE_API_CREDENTIALS": str(path), "GOOGLE_OAUTH_TOKEN_URL": self.token_uri}

    @property
    def endpoint(self) -> str:
        return self.base + "/"

    @property
    def token_uri(self) -> str:
        return f"{self.endpoint}token"

    def fail(self, method: str, path_part: str, status: int, times: int = 1, *, after_accept: bool = False,
             reason: str = "", headers: dict[str, str] | None = None) -> None:
        self.faults.append(Fault(method, path_part, status, times, headers or {}, after_accept=after_accept, reason=reason))

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and path_part in p)

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def _error(self, fault: Fault) -> None:
                reason = fault.reason or {429: "rateLimitExceeded", 403: "insufficientPermissions",
                                          400: "invalidArgument"}.get(fault.status, "backendError")
                self._send(fault.status, google_error(fault.status, reason, f"fake {fault.status}"), fault.headers)

            def _do(self, method: str) -> None:
                url = urlparse(self.path)
                path, query = unquote(url.path), parse_qs(url.query)
                raw = self._read()
                with fake.lock:
                    fake.calls.append((method, path, query))
                    fault = fake._take_fault(method, path)
                if fault and not fault.after_accept:
                    return self._error(fault)
                answer = fake.identity.handle(method, path, raw, self._bearer())
                if answer is not None:
                    return self._send(*answer)
                token = self._bearer()
                if token not in fake.tokens:
                    return self._send(401, google_error(401, "authError", "Invalid Credentials"))
                if method == "POST" and path == "/gmail/v1/users/me/messages/send":
                    try:
                        body = json.loads(raw)
                        data = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
                    except (ValueError, KeyError, TypeError):
                        return self._send(400, google_error(400, "invalidArgument", "Invalid raw"))
                    msg = email.message_from_bytes(data, policy=policy.default)
                    rcpts = recipients(msg)  # type: ignore[arg-type]
                    if rcpts is None:
                        return self._send(400, google_error(400, "invalidArgument", "Invalid To header"))
                    if not rcpts:
                        return self._send(400, google_error(400, "invalidArgument", "Recipient address required"))
                    with fake.lock:
                        sent = Sent(f"18c{len(fake.sent):013x}", data, msg, token, rcpts)  # type: ignore[arg-type]
                        fake.sent.append(sent)
                    if fault:
                        return self._error(fault)
                    return self._send(200, {"id": sent.id, "threadId": sent.id, "labelIds": ["SENT"]})
                if method == "GET" and path == "/gmail/v1/users/me/messages":
                    q = (query.get("q") or [""])[0]
                    m = re.fullmatch(r"rfc822msgid:<?([^>\s]+)>?", q)
                    if not m:
                        return self._send(400, google_error(400, "invalidArgument", "only rfc822msgid: here"))
                    with fake.lock:
                        hits = [s for s in fake.sent if str(s.message.get("Message-ID", "")).strip().strip("<>") == m.group(1)]
                    if fault:
                        return self._error(fault)
                    if not hits:
                        return self._send(200, {"resultSizeEstimate": 0})
                    return self._send(200, {"messages": [{"id": s.id, "threadId": s.id} for s in hits],
                                            "resultSizeEstimate": len(hits)})
                return self._send(404, google_error(404, "notFound", "Not Found"))

        return Handler
