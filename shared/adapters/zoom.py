"""Zoom: the Meetings port over the REST API (``requests``), its outbox twin, and webhook checks.

Only the standard library is imported at module level: ``zoom_webhook`` imports this module for
the signature check and must stay cold-start light; ``requests`` and ``tenacity`` load on the first
API call. The ``start_url`` of a meeting (it carries the host's token) is dropped on arrival.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from shared.ports import Gone, Meeting, MeetingSpec, PermanentError, RateLimited, TransientError, meeting_marker

if TYPE_CHECKING:
    import requests

    from shared.adapters.outbox import Outbox

DEFAULT_API_BASE = "https://api.zoom.us/v2"
DEFAULT_TOKEN_URL = "https://zoom.us/oauth/token"  # noqa: S105 - a URL, not a secret
TOPIC_MAX = 200  # Zoom's limits on topic and agenda
AGENDA_MAX = 2000
REFRESH_EARLY_SECONDS = 300  # a token lives 1 h; take a new one 5 min before it expires


def has_marker(agenda: str, marker: str) -> bool:
    return meeting_marker(marker) in (agenda or "")


def meeting_body(spec: MeetingSpec) -> dict[str, Any]:
    """The create/update request body, as Zoom expects it (local time + IANA zone)."""
    local = spec.start.astimezone(ZoneInfo(spec.timezone)).replace(tzinfo=None)
    tail = "\n\n" + meeting_marker(spec.marker)
    agenda = spec.agenda[: AGENDA_MAX - len(tail)] + tail
    settings: dict[str, Any] = {
        "waiting_room": spec.waiting_room,
        "join_before_host": spec.join_before_host,
        "approval_type": 2,  # no registration
        "meeting_authentication": False,
    }
    if spec.alternative_hosts:
        settings["alternative_hosts"] = ";".join(spec.alternative_hosts)
        settings["alternative_hosts_email_notification"] = True
    return {
        "topic": spec.topic[:TOPIC_MAX],
        "type": 2,
        "start_time": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "timezone": spec.timezone,
        "duration": spec.duration_minutes,
        "agenda": agenda,
        "settings": settings,
    }


def next_utc_midnight(now: dt.datetime) -> dt.datetime:
    day = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _meeting(data: dict[str, Any]) -> Meeting:
    return Meeting(id=str(data["id"]), join_url=str(data.get("join_url") or ""),
                   agenda=str(data.get("agenda") or ""), start=_parse_time(data.get("start_time")))


class _Retry(Exception):
    """A failure worth another attempt; ``wait`` overrides the backoff (Retry-After)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


class ZoomMeetings:
    """The Meetings port against Zoom's REST API with Server-to-Server OAuth.

    Retries: 5xx, timeouts and short 429s are retried with exponential backoff and jitter (or the
    server's ``Retry-After``), at most ``max_attempts`` times and ``max_wait`` seconds in all. A 429
    that asks for longer, and the per-host daily limit on create/update (reset 00:00 UTC), raise
    :class:`RateLimited`; 1001 / 124 / other 4xx raise :class:`PermanentError`; 3001 raises Gone.
    """

    def __init__(self, account_id: str, client_id: str, client_secret: str, *,
                 api_base: str = DEFAULT_API_BASE, token_url: str = DEFAULT_TOKEN_URL,
                 timeout: float = 10.0, max_attempts: int = 5, max_wait: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None) -> None:
        self._account_id = account_id
        self._auth = (client_id, client_secret)
        self.api_base = api_base.rstrip("/")
        self.token_url = token_url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self._session = session
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def __repr__(self) -> str:  # never show credentials or the token
        return f"ZoomMeetings(api_base={self.api_base!r})"

    # -- HTTP plumbing ---------------------------------------------------------------------------

    def _http(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self.clock() < self._token_expires - REFRESH_EARLY_SECONDS:
                return self._token
            resp = self._send("POST", self.token_url, auth=self._auth,
                              params={"grant_type": "account_credentials", "account_id": self._account_id})
            if resp.status_code != 200:
                raise PermanentError("oauth", f"Zoom refused the Server-to-Server OAuth credentials (HTTP {resp.status_code}); "
                                     "check ZOOM_ACCOUNT_ID / ZOOM_CLIENT_ID / ZOOM_CLIENT_SECRET and the app's scopes")
            data = resp.json()
            self._token = str(data["access_token"])
            self._token_expires = self.clock() + float(data.get("expires_in", 3600))
            self.tokens_fetched += 1
            return self._token

    def _send(self, method: str, url: str, *, safe_to_repeat: bool = True, **kwargs: Any) -> requests.Response:
        """One request with bounded retries of transient failures.

        ``safe_to_repeat=False`` (a meeting create: Zoom takes no idempotency key) retries only what
        certainly did not reach Zoom (connect timeouts/refusals, 429); a read timeout or a 5xx may
        have created the meeting, so it surfaces as TransientError and the caller adopts by marker.
        """
        import requests
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay
        from tenacity.wait import wait_exponential_jitter

        backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retry) and exc.wait is not None:
                return exc.wait
            return float(backoff(state))

        def attempt() -> requests.Response:
            try:
                resp = self._http().request(method, url, timeout=self.timeout, **kwargs)
            except requests.ConnectTimeout:
                raise _Retry("ConnectTimeout") from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                if not safe_to_repeat:
                    raise TransientError(f"Zoom {method}: {type(exc).__name__} (the request may have been applied)") from None
                raise _Retry(type(exc).__name__) from None
            if resp.status_code >= 500:
                if not safe_to_repeat:
                    raise TransientError(f"Zoom {method}: HTTP {resp.status_code} (the request may have been applied)")
                raise _Retry(f"HTTP {resp.status_code}")
            if resp.status_code == 429:
                after = _retry_after(resp.headers.get("Retry-After"), self.clock())
                if after is not None and after <= self.max_wait:
                    raise _Retry("HTTP 429", wait=after)
            return resp

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_wait),
                            wait=wait, retry=retry_if_exception_type(_Retry), sleep=self.sleep, reraise=True)
        try:
            return retrying(attempt)
        except _Retry as exc:
            raise TransientError(f"Zoom {method} kept failing ({exc}) after {self.max_attempts} attempts") from None

    def _call(self, method: str, path: str, *, writes_for: str | None = None, safe_to_repeat: bool = True,
              **kwargs: Any) -> requests.Response:
        """An API call; ``writes_for``: the host user whose daily create/update budget it spends."""
        for renewed in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            resp = self._send(method, self.api_base + path, headers=headers, safe_to_repeat=safe_to_repeat, **kwargs)
            if resp.status_code < 400:
                return resp
            code, message = _error(resp)
            if resp.status_code == 401 and code in ("124", "") and not renewed:
                self._token = None  # revoked or expired early: one fresh token, then give up
                continue
            if resp.status_code == 429:
                now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
                after = _retry_after(resp.headers.get("Retry-After"), self.clock())
                daily = writes_for is not None and (after is None or after > 3600 or "daily" in message.lower()
                                                     or "per day" in message.lower())
                until = next_utc_midnight(now) if daily or after is None else now + dt.timedelta(seconds=after)
                raise RateLimited(until, f"Zoom rate limit ({'daily limit of the host' if daily else 'retry later'})", daily=daily)
            if code == "3001" or (resp.status_code == 404 and code in ("", "404")):
                raise Gone(f"meeting not found ({code or 404})")
            if code == "1001":
                raise PermanentError("1001", "the Zoom user does not exist in this account: check organizers.<id>.zoom.user")
            if code == "124" or resp.status_code == 401:
                raise PermanentError("124", "Zoom refused the access token: check the Server-to-Server OAuth app")
            raise PermanentError(code or str(resp.status_code), f"Zoom refused the request: {message[:200]}")
        raise AssertionError("unreachable")

    # -- the Meetings port -----------------------------------------------------------------------

    def create(self, host_user: str, spec: MeetingSpec) -> Meeting:
        resp = self._call("POST", f"/users/{quote(host_user, safe='')}/meetings", json=meeting_body(spec), writes_for=host_user,
                          safe_to_repeat=False)
        return _meeting(resp.json())

    def update(self, meeting_id: str, spec: MeetingSpec) -> None:
        self._call("PATCH", f"/meetings/{quote(meeting_id, safe='')}", json=meeting_body(spec), writes_for=meeting_id)

    def delete(self, meeting_id: str) -> bool:
        try:
            self._call("DELETE", f"/meetings/{quote(meeting_id, safe='')}", params={"schedule_for_reminder": "false"})
        except Gone:
            return False
        return True

    def list_upcoming(self, host_user: str) -> list[Meeting]:
        out: list[Meeting] = []
        token = ""
        for _ in range(50):  # 50 pages of 300: far beyond one host's upcoming meetings
            params = {"type": "upcoming", "page_size": "300", **({"next_page_token": token} if token else {})}
            data = self._call("GET", f"/users/{quote(host_user, safe='')}/meetings", params=params).json()
            out.extend(_meeting(m) for m in data.get("meetings") or [])
            token = str(data.get("next_page_token") or "")
            if not token:
                break
        return out

    def get(self, meeting_id: str) -> Meeting | None:
        try:
            return _meeting(self._call("GET", f"/meetings/{quote(meeting_id, safe='')}").json())
        except Gone:
            return None


def _error(resp: requests.Response) -> tuple[str, str]:
    try:
        data = resp.json()
    except ValueError:
        return "", resp.reason or ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("code") or ""), str(data.get("message") or "")


class OutboxMeetings:
    """The Meetings port in outbox mode: ``zoom/*.json`` holds each request as it would be sent.

    Meeting ids are derived from the slot key, so a repeated create writes the same file again.
    """

    def __init__(self, outbox: Outbox | None = None) -> None:
        from shared.adapters.outbox import Outbox

        self.outbox = outbox or Outbox()
        self._by_id: dict[str, str] = {}

    def _write(self, name: str, op: str, method: str, path: str, body: dict[str, Any] | None) -> None:
        data = {"method": method, "path": path, "body": body}
        raw = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()
        digest = hashlib.sha256(raw).hexdigest()[:8]
        self.outbox.write("zoom", f"{name}.{op}.{digest}.json", raw)

    def create(self, host_user: str, spec: MeetingSpec) -> Meeting:
        digest = int(hashlib.sha256(f"{spec.marker}|{host_user}".encode()).hexdigest(), 16)
        meeting_id = str(10**10 + digest % (9 * 10**10))  # 11 digits, like Zoom's
        self._by_id[meeting_id] = spec.marker
        self._write(spec.marker, "create", "POST", f"/users/{host_user}/meetings", meeting_body(spec))
        return Meeting(id=meeting_id, join_url=f"https://zoom.us/j/{meeting_id}", agenda=spec.agenda, start=spec.start)

    def update(self, meeting_id: str, spec: MeetingSpec) -> None:
        self._write(spec.marker, "update", "PATCH", f"/meetings/{meeting_id}", meeting_body(spec))

    def delete(self, meeting_id: str) -> bool:
        self._write(self._by_id.get(meeting_id, meeting_id), "delete", "DELETE", f"/meetings/{meeting_id}", None)
        return True

    def list_upcoming(self, host_user: str) -> list[Meeting]:
        return []  # creates are deterministic here: a repeated create is harmless

    def get(self, meeting_id: str) -> Meeting | None:
        return None


# -- Webhooks ------------------------------------------------------------------------------------

MAX_BODY_BYTES = 64 * 1024
REPLAY_WINDOW_SECONDS = 300


class WebhookRefused(Exception):
    """A request that is not a valid, fresh, signed Zoom webhook (answer 401/400/413)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, signature: str | None, timestamp: str | None, now: float) -> dict[str, Any]:
    """Check size, timestamp window (seconds or milliseconds) and signature; return the JSON body."""
    if not secret:
        raise WebhookRefused(500, "ZOOM_WEBHOOK_SECRET is not set")
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused(413, "the body is too large for a Zoom event")
    if not signature or not timestamp:
        raise WebhookRefused(401, "x-zm-signature and x-zm-request-timestamp are required")
    ts = timestamp.strip()
    if not ts.isdigit() or len(ts) > 16:
        raise WebhookRefused(401, "x-zm-request-timestamp is not a number")
    seconds = int(ts) / 1000 if int(ts) > 10**11 else int(ts)  # milliseconds vs seconds
    if abs(now - seconds) > REPLAY_WINDOW_SECONDS:
        raise WebhookRefused(401, "the request is outside the replay window")
    if not hmac.compare_digest(sign(secret, ts, body).encode(), signature.strip().encode()):
        raise WebhookRefused(401, "the signature does not match")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested deeper than json can parse
        raise WebhookRefused(400, "the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise WebhookRefused(400, "the body has no 'event'")
    return data


def url_validation(secret: str, data: dict[str, Any]) -> dict[str, str]:
    payload = data.get("payload")
    plain = payload.get("plainToken") if isinstance(payload, dict) else None  # any JSON may arrive signed
    if not isinstance(plain, str) or not plain or len(plain) > 256:
        raise WebhookRefused(400, "payload.plainToken is missing")
    return {"plainToken": plain, "encryptedToken": hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()}


def basic_auth(client_id: str, client_secret: str) -> str:
    """The Authorization header value Zoom's token endpoint expects (used by the fake too)."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
