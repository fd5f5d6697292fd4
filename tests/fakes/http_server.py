"""Plumbing shared by the local HTTP fakes (Zoom, Google Calendar, Gmail): a threaded HTTP/1.1 server
on 127.0.0.1:0 used as a context manager, queued faults, JSON answers, Google's service-account
token exchange.

A fake subclasses :class:`FakeServer` and returns from ``_handler()`` a subclass of
:class:`JsonHandler` that implements ``_do(method)``.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


@dataclass
class Fault:
    """An answer queued for the next ``times`` requests whose method matches and path contains ``path_part``.

    ``status`` 0 with a ``delay``: a slow answer, then the normal one. ``after_accept`` (Gmail): the
    effect happens first, then the error is answered. ``reason``: the Google error reason to answer.
    """

    method: str
    path_part: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    after_accept: bool = False
    reason: str = ""


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    content_type = "application/json; charset=UTF-8"
    content_type_when_empty = True  # Zoom sends no Content-Type on its empty 204 answers

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
              content_type: str | None = None) -> None:
        """``body`` as JSON, or as it is when it is bytes (then with ``content_type``)."""
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if raw or self.content_type_when_empty:
            self.send_header("Content-Type", content_type or self.content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _read(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _bearer(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else ""

    def _do(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._do("GET")

    def do_POST(self) -> None:
        self._do("POST")

    def do_PATCH(self) -> None:
        self._do("PATCH")

    def do_DELETE(self) -> None:
        self._do("DELETE")


class FakeServer:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[JsonHandler]:
        raise NotImplementedError

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """The first queued fault for this request, used up once (call with ``self.lock`` held)."""
        fault = next((f for f in self.faults if f.method == method and f.path_part in path and f.times > 0), None)
        if fault:
            fault.times -= 1
        return fault


def jwt_claims(form_body: bytes) -> dict[str, Any] | None:
    """The claims of the JWT ``assertion`` in a service-account token request (not verified)."""
    from urllib.parse import parse_qs

    assertion = (parse_qs(form_body.decode()).get("assertion") or [""])[0]
    try:
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
    except (IndexError, ValueError):
        return None
    return claims


def write_service_account(path: Path, token_uri: str, client_email: str, client_id: str) -> Path:
    """A service-account key generated here, whose token_uri is a fake (the real JWT auth path)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "demo-alumni", "private_key_id": "k1", "private_key": pem,
        "client_email": client_email, "client_id": client_id, "token_uri": token_uri,
    }))
    return path
