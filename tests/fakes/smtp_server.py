"""A real SMTP server on 127.0.0.1 (aiosmtpd), recording every accepted message byte for byte.

No STARTTLS (a local relay); AUTH PLAIN/LOGIN over the plain connection when ``users`` is given
(``auth_require_tls=False``, as only a test server may). ``refuse_rcpt`` answers 550 to RCPT TO.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly what came after DATA (CRLF line ends, dot-unstuffed)
    login: str | None


@dataclass
class SmtpSink:
    users: dict[str, str] = field(default_factory=dict)
    refuse_rcpt: bool = False
    received: list[Received] = field(default_factory=list)
    auth_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content), login))
        return "250 2.0.0 queued"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and self.users.get(auth_data.login.decode()) == auth_data.password.decode())
        if not ok:
            self.auth_failures += 1
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.sink = SmtpSink(users=dict(users or {}))
        self.port = _free_port()
        kwargs: dict[str, Any] = {"decode_data": False}
        if users:
            kwargs.update(authenticator=self.sink.authenticate, auth_required=True, auth_require_tls=False)
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.sink.received

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
