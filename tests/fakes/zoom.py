"""A fake Zoom on 127.0.0.1: the Server-to-Server OAuth token endpoint and the meetings API.

Wire format as Zoom documents it: ``POST /oauth/token`` (Basic auth, grant_type=account_credentials)
-> ``{"access_token", "token_type": "bearer", "expires_in": 3600}``; ``POST /v2/users/{user}/meetings``
-> 201 with an int64 ``id``, ``join_url`` (with ``pwd``), ``start_url``; ``PATCH``/``DELETE
/v2/meetings/{id}`` -> 204; ``GET /v2/users/{user}/meetings?type=upcoming`` -> paged list (no agenda,
unless ``list_agenda``); ``GET /v2/users/{userId}`` (id or e-mail) -> ``{"id", "email", "type"}`` with
``type`` 1 Basic or 2 Licensed (scope ``user:read:admin``), 404 code 1001 for a user not on the account;
the token's ``scope`` lists the app's scopes, space-separated; errors as ``{"code": 1001|3001|124, "message": ...}``.

Faults: ``fail(method, path_part, status, times, headers, body, delay)`` queues answers for matching
requests; ``daily_limit`` makes create/update answer the per-host daily 429.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.http_server import FakeServer, Fault, JsonHandler

ACCOUNT_ID = "acct-テスト"
CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret"


def _utc(body: dict[str, Any]) -> dict[str, Any]:
    """Zoom answers start_time in UTC ("...Z") whatever zone the request used."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    if body.get("start_time") and not str(body["start_time"]).endswith("Z"):
        local = dt.datetime.fromisoformat(body["start_time"]).replace(tzinfo=ZoneInfo(body.get("timezone") or "UTC"))
        body = {**body, "start_time": local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return body


class FakeZoom(FakeServer):
    def __init__(self, users: tuple[str, ...] = (), list_agenda: bool = False, page_size: int = 2) -> None:
        super().__init__()
        self.users = set(users)
        self.list_agenda = list_agenda
        self.page_size = page_size
        self.meetings: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.daily_limit: set[str] = set()  # host users over their 100 create/update per day
        # GET /v2/users/{userId}: the user's ``type`` (1 Basic, 2 Licensed); users not listed are licensed
        self.user_types: dict[str, int] = {}
        self.scopes = "meeting:write:admin meeting:read:admin user:read:admin"  # the token's ``scope``

    # -- addresses --

    @property
    def api_base(self) -> str:
        return self.base + "/v2"

    @property
    def token_url(self) -> str:
        return self.base + "/oauth/token"

    def env(self) -> dict[str, str]:
        return {"ZOOM_ACCOUNT_ID": ACCOUNT_ID, "ZOOM_CLIENT_ID": CLIENT_ID, "ZOOM_CLIENT_SECRET": CLIENT_SECRET,
                "ZOOM_API_BASE_URL": self.api_base, "ZOOM_OAUTH_TOKEN_URL": self.token_url}

    # -- inspection --

    def fail(self, method: str, path_part: str, status: int, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None, delay: float = 0.0) -> None:
        self.faults.append(Fault(method, path_part, status, times, headers or {}, body, delay))

    def count(self, method: str, pattern: str = "") -> int:
        return sum(1 for m, p in self.calls if m == method and re.search(pattern, p))

    def writes(self) -> int:
        return sum(1 for m, p in self.calls if m in ("POST", "PATCH", "DELETE") and "/oauth/" not in p)

    def live(self) -> list[dict[str, Any]]:
        return [m for mid, m in self.meetings.items() if mid not in self.deleted]

    def by_marker(self, marker: str) -> list[dict[str, Any]]:
        return [m for m in self.live() if f"[autopilot:{marker}]" in m.get("agenda", "")]

    def delete_by_person(self, meeting_id: str) -> None:
        self.deleted.add(meeting_id)

    # -- the server --

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            content_type = "application/json"
            content_type_when_empty = False

            def _body(self) -> Any:
                raw = self._read()
                return json.loads(raw) if raw else None

            def _fault(self, method: str, path: str) -> bool:
                with fake.lock:
                    f = fake._take_fault(method, path)
                if f is None:
                    return False
                if f.delay:
                    time.sleep(f.delay)
                if f.status == 0:
                    return False  # a slow answer, then the normal one
                self._send(f.status, f.body, f.headers)
                return True

            def _do(self, method: str) -> None:
                url = urlparse(self.path)
                path, query = unquote(url.path), parse_qs(url.query)
                body = self._body() if method in ("POST", "PATCH") else None
                with fake.lock:
                    fake.calls.append((method, path))
                if self._fault(method, path):
                    return
                if path == "/oauth/token":
                    return self._token(query)
                if self._bearer() not in fake.tokens:
                    return self._send(401, {"code": 124, "message": "Invalid access token."})
                m = re.fullmatch(r"/v2/users/([^/]+)/meetings", path)
                if m:
                    user = m.group(1)
                    if user not in fake.users:
                        return self._send(404, {"code": 1001, "message": f"User does not exist: {user}."})
                    if method == "POST":
                        return self._create(user, body)
                    if method == "GET":
                        return self._list(user, query)
                m = re.fullmatch(r"/v2/users/([^/]+)", path)
                if m and method == "GET":
                    user = m.group(1)
                    if user not in fake.users:
                        return self._send(404, {"code": 1001, "message": f"User does not exist: {user}."})
                    return self._send(200, {"id": f"id-{user.split('@')[0]}", "email": user, "status": "active",
                                            "type": fake.user_types.get(user, 2)})
                m = re.fullmatch(r"/v2/meetings/(\d+)", path)
                if m:
                    mid = m.group(1)
                    meeting = fake.meetings.get(mid)
                    if meeting is None or mid in fake.deleted:
                        return self._send(404, {"code": 3001, "message": f"Meeting does not exist: {mid}."})
                    if method == "GET":
                        return self._send(200, meeting)
                    if method == "PATCH":
                        if meeting["host_email"] in fake.daily_limit:
                            return self._daily()
                        settings = {**meeting.get("settings", {}), **(body or {}).pop("settings", {})}
                        meeting.update(_utc(body or {}))
                        meeting["settings"] = settings
                        return self._send(204)
                    if method == "DELETE":
                        fake.deleted.add(mid)
                        return self._send(204)
                self._send(404, {"code": 404, "message": "Not found"})

            def _token(self, query: dict[str, list[str]]) -> None:
                expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != expected or query.get("grant_type") != ["account_credentials"] \
                        or query.get("account_id") != [ACCOUNT_ID]:
                    return self._send(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
                token = f"tok-{random.getrandbits(64):x}"
                with fake.lock:
                    fake.tokens.add(token)
                self._send(200, {"access_token": token, "token_type": "bearer", "expires_in": 3599,
                                 "scope": fake.scopes, "api_url": "https://api.zoom.us"})

            def _daily(self) -> None:
                self._send(429, {"code": 429, "message": "You have reached the maximum per day limit of 100 create/update "
                                                         "meeting requests for this user."})

            def _create(self, user: str, body: Any) -> None:
                if user in fake.daily_limit:
                    return self._daily()
                if not isinstance(body, dict) or body.get("type") != 2 or not body.get("start_time"):
                    return self._send(400, {"code": 300, "message": "Validation Failed."})
                mid = str(random.randrange(10**10, 10**11))
                meeting = {**_utc(body), "id": int(mid), "uuid": base64.b64encode(random.randbytes(16)).decode(),
                           "host_id": "h" + user[:6], "host_email": user, "status": "waiting",
                           "join_url": f"https://zoom.us/j/{mid}?pwd=secretpwd", "start_url": f"https://zoom.us/s/{mid}?zak=hosttoken",
                           "password": "secretpwd", "created_at": "2026-11-28T00:00:00Z"}
                with fake.lock:
                    fake.meetings[mid] = meeting
                self._send(201, meeting)

            def _list(self, user: str, query: dict[str, list[str]]) -> None:
                items = [m for mid, m in sorted(fake.meetings.items()) if mid not in fake.deleted and m["host_email"] == user]
                start = int((query.get("next_page_token") or ["0"])[0] or 0)
                page = items[start:start + fake.page_size]
                keys = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "created_at", "join_url")
                out = [{k: m.get(k) for k in keys} | ({"agenda": m.get("agenda")} if fake.list_agenda else {}) for m in page]
                nxt = str(start + fake.page_size) if start + fake.page_size < len(items) else ""
                self._send(200, {"page_size": fake.page_size, "total_records": len(items), "next_page_token": nxt, "meetings": out})

        return Handler
