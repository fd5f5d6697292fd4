"""A fake Google Calendar API v3 (events) and OAuth token endpoint on 127.0.0.1.

Requests arrive as google-api-python-client sends them with ``api_endpoint`` pointing here:
``/calendars/{calendarId}/events[/{eventId}]?sendUpdates=...``. Behaviour as documented: insert
with a client id -> 200, a known id (also a deleted one) -> 409 ``duplicate``; get -> 200 (deleted
events come back with ``status: cancelled``) or 404; patch -> 200, replaces arrays; delete -> 204,
410 when already deleted. ``/token`` and signJwt: tests/fakes/google_identity.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.google_identity import Identity
from tests.fakes.http_server import FakeServer, Fault, JsonHandler, write_service_account

ID = re.compile(r"[a-v0-9]{5,1024}")


def google_error(status: int, reason: str, message: str) -> dict[str, Any]:
    domain = "usageLimits" if reason in ("rateLimitExceeded", "userRateLimitExceeded") else "global"
    return {"error": {"errors": [{"domain": domain, "reason": reason, "message": message}], "code": status, "message": message}}


class FakeCalendar(FakeServer):
    def __init__(self, identity: Identity | None = None) -> None:
        super().__init__()
        self.events: dict[str, dict[str, Any]] = {}  # (calendar, id) flattened as "cal/id"
        self.calls: list[tuple[str, str, dict[str, list[str]]]] = []
        self.subjects: list[str | None] = []  # the delegated user of each token issued at this /token
        self.identity = identity or Identity(token_url=self.token_uri)  # tests/fakes/google_identity.py
        self.tokens = self.identity.tokens

    @property
    def endpoint(self) -> str:
        return self.base + "/"

    @property
    def token_uri(self) -> str:
        return self.base + "/token"

    def fail(self, method: str, path_part: str, status: int, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None, delay: float = 0.0) -> None:
        self.faults.append(Fault(method, path_part, status, times, headers or {}, body, delay))

    def writes(self) -> int:
        return sum(1 for m, p, _ in self.calls if m in ("POST", "PATCH", "PUT", "DELETE") and p != "/token")

    def count(self, method: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and p != "/token")

    def event(self, event_id: str) -> dict[str, Any] | None:
        for key, ev in self.events.items():
            if key.endswith("/" + event_id):
                return ev
        return None

    def write_service_account(self, folder: Path) -> Path:
        """A service-account key of our own (generated locally) whose token_uri is this fake."""
        return write_service_account(folder / "sa.json", self.token_uri,
                                     "provisioner@demo-alumni.iam.gserviceaccount.com", "1")

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                url = urlparse(self.path)
                path, query = unquote(url.path), parse_qs(url.query)
                raw = self._read()
                with fake.lock:
                    fake.calls.append((method, path, query))
                    fault = fake._take_fault(method, path)
                if fault:
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.status:
                        return self._send(fault.status, fault.body, fault.headers)
                answer = fake.identity.handle(method, path, raw, self._bearer())
                if answer is not None:
                    if path == "/token" and answer[0] == 200:
                        with fake.lock:
                            fake.subjects.append(fake.identity.token_info[answer[1]["access_token"]].get("sub"))
                    return self._send(*answer)
                if self._bearer() not in fake.tokens:
                    return self._send(401, google_error(401, "authError", "Invalid Credentials"))
                m = re.fullmatch(r"/calendars/([^/]+)/events(?:/([^/]+))?", path)
                if not m:
                    return self._send(404, google_error(404, "notFound", "Not Found"))
                cal, eid = m.group(1), m.group(2)
                body = json.loads(raw) if raw else {}
                if method == "POST" and eid is None:
                    eid = str(body.get("id") or "")
                    if not ID.fullmatch(eid):
                        return self._send(400, google_error(400, "invalid", "Invalid resource id value."))
                    with fake.lock:
                        if f"{cal}/{eid}" in fake.events:
                            return self._send(409, google_error(409, "duplicate", "The requested identifier already exists."))
                        ev = {"kind": "calendar#event", "status": "confirmed", **body, "etag": '"1"',
                              "htmlLink": f"https://www.google.com/calendar/event?eid={eid}", "sequence": 0}
                        fake.events[f"{cal}/{eid}"] = ev
                    return self._send(200, ev)
                key = f"{cal}/{eid}"
                with fake.lock:
                    ev = fake.events.get(key)
                    if ev is None:
                        return self._send(404, google_error(404, "notFound", "Not Found"))
                    if method == "GET":
                        return self._send(200, ev)
                    if method == "PATCH":
                        ev.update(body)
                        ev["sequence"] = int(ev.get("sequence", 0)) + 1
                        return self._send(200, ev)
                    if method == "DELETE":
                        if ev.get("status") == "cancelled":
                            return self._send(410, google_error(410, "deleted", "Resource has been deleted"))
                        ev["status"] = "cancelled"
                        self.send_response(204)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                return self._send(405, google_error(405, "notAllowed", "Method not allowed"))

        return Handler
