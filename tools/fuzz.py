"""Fuzz every HTTP function in-process (hypothesis) against the Firestore emulator.

Each request goes through ``functions_framework.create_app(target, source).test_client()``, the same
Flask app the Functions runtime serves. Requests are generated per function: methods, paths, query
strings, headers (valid and broken ``X-Autopilot-Timestamp``/``-Signature`` signed with the configured
secret, so most bodies get past the signature check and exercise the schema; ``x-zm-signature`` /
``x-zm-request-timestamp`` for ``zoom_webhook``; odd ``X-CloudScheduler-*`` values; ``Authorization``),
and bodies (the right JSON shape with mutated fields, wrong types, sizes around the 64 KiB limit,
non-UTF-8 bytes, deep nesting, full-width Japanese, control characters), plus action and feed tokens.

Measured, per function and in total:
- ``tried``: requests sent; ``by_status``: how they were answered;
- ``server_errors``: answers >= 500 (target 0);
- ``writes_after_refusal``: 4xx answers after which a Firestore document changed: every Commit RPC
  of the process goes through a hook (``CommitRecorder``) that records the writes of each commit
  that succeeded (a create() that lost its race wrote nothing). A document a refused request created
  and deleted again (a claim it released) is unchanged; any other write is a change. This sees every
  collection, also those no code named before, and costs no extra read;
- ``outbox_after_refusal``: 4xx answers after which a file under OUTBOX_DIR appeared or changed.

Used by ``tests/fuzz/test_fuzz.py`` (short, seeded) and ``tools/bench/bench_fuzz.py`` (longer), and
by hand::

    python -m tools.fuzz --examples 200 --seed 1     # starts its own emulator
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tools.emulator import environ

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY = 64 * 1024
FORM_SECRET = "fuzz-form-webhook-secret-0123456789"
ZOOM_SECRET = "fuzz-zoom-webhook-secret-abcdef"
ACTION_KEY = "fuzz-action-link-key-0123456789abcdef"
FEED_TOKEN = "fuzz-feed-token-Xy9"
CRON_FUNCTIONS = ("generate_slots", "provision_events", "assign_speakers", "poll_form_responses",
                  "send_digest", "send_reminders", "weekly_prompt", "send_newsletter", "event_sweep", "cron_dispatch")
CONSOLE_KEY = "fuzz-console-session-key-0123456789abcdef"
CONSOLE_SID = "fuzz-session-id-of-tanaka-0123456789"
WEBHOOKS = ("form_webhook", "propose_event", "zoom_webhook", "actions", "ics_feed", "console", "events")
FUNCTIONS = WEBHOOKS + CRON_FUNCTIONS
# Collections known to exist (the recorder adds every one the code references while fuzzing).
KNOWN_COLLECTIONS = ("slots", "slot_exceptions", "idempotency", "claims", "applications", "application_emails",
                     "mail_intents", "members", "decisions", "action_nonces", "settings", "speakers", "poller_state",
                     "consent_events", "audit", "hosts", "host_duties", "host_swaps", "console_sessions", "console_signin",
                     "console_signin_nonces", "rsvps", "rsvp_events", "rsvp_heads", "rsvp_undelivered", "rsvp_mail_budget",
                     "announce_plans", "announce_tickets", "announce_state")
FRESH_CSRF = "@fresh-csrf"  # a form field the harness replaces by a real token from the page (docs/proof.md)


def environment() -> dict[str, str]:
    """The secrets the fuzzer signs with; set them before the first request (tests: monkeypatch)."""
    return {"FORM_WEBHOOK_SECRET": FORM_SECRET, "ZOOM_WEBHOOK_SECRET": ZOOM_SECRET, "ACTION_LINK_KEY": ACTION_KEY,
            "ICS_FEED_TOKEN": FEED_TOKEN, "MAIL_FROM": "コミュニティ <community@example.com>",
            # console: a session key, Google sign-in switched on, its key endpoint dead (no Google from here)
            "CONSOLE_SESSION_KEY": CONSOLE_KEY, "CONSOLE_OAUTH_CLIENT_ID": "fuzz.apps.googleusercontent.com",
            "OIDC_CERTS_URL": "http://127.0.0.1:9/oauth2/v1/certs",
            # cron_dispatch: a valid plan with nothing to call (its calls are tested in tests/e2e)
            "CRON_PLAN": json.dumps({"time_zone": "Asia/Tokyo", "tick": "*/5 * * * *", "jobs": {}})}


# ------------------------------------------------------------------ the request model


@dataclass
class FuzzRequest:
    method: str = "POST"
    path: str = "/"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    form: dict[str, Any] | None = None  # sent as application/x-www-form-urlencoded instead of body (lists: repeated)

    def describe(self) -> str:
        body = self.body[:120] + (b"..." if len(self.body) > 120 else b"")
        return (f"{self.method} {self.path[:80]} query={dict(list(self.query.items())[:4])} "
                f"headers={ {k: v[:60] for k, v in self.headers.items()} } form={self.form} "
                f"body[{len(self.body)}]={body!r}")


@dataclass
class Finding:
    function: str
    kind: str  # server_error | write_after_refusal | outbox_after_refusal
    status: int
    request: str
    detail: str = ""


@dataclass
class Stats:
    tried: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: int = 0
    refusals: int = 0
    writes_after_refusal: int = 0
    outbox_after_refusal: int = 0
    findings: list[Finding] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)  # "status: first words of the answer" -> count

    def add(self, other: Stats) -> None:
        self.tried += other.tried
        for k, v in other.by_status.items():
            self.by_status[k] = self.by_status.get(k, 0) + v
        self.server_errors += other.server_errors
        self.refusals += other.refusals
        self.writes_after_refusal += other.writes_after_refusal
        self.outbox_after_refusal += other.outbox_after_refusal
        self.findings.extend(other.findings)
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v


# ------------------------------------------------------------------ state snapshots


class CollectionRecorder:
    """Records every Firestore collection path this process references (the emulator cannot list them)."""

    def __init__(self, known: tuple[str, ...] = KNOWN_COLLECTIONS) -> None:
        self.paths: set[tuple[str, ...]] = {(name,) for name in known}

    @contextmanager
    def installed(self) -> Iterator[CollectionRecorder]:
        from google.cloud.firestore_v1.collection import CollectionReference

        original = CollectionReference.__init__
        paths = self.paths

        def init(ref: Any, *path: Any, **kwargs: Any) -> None:
            original(ref, *path, **kwargs)
            paths.add(tuple(str(p) for p in ref._path))

        CollectionReference.__init__ = init  # type: ignore[method-assign]
        try:
            yield self
        finally:
            CollectionReference.__init__ = original  # type: ignore[method-assign]


class CommitRecorder:
    """Every Firestore write this process commits (the GAPIC client's Commit): (document, op)."""

    def __init__(self) -> None:
        self.written: list[tuple[str, str]] = []

    @contextmanager
    def installed(self) -> Iterator[CommitRecorder]:
        from google.cloud.firestore_v1.services.firestore.client import FirestoreClient

        original = FirestoreClient.commit
        written = self.written

        def commit(api: Any, *args: Any, **kwargs: Any) -> Any:
            response = original(api, *args, **kwargs)  # raises when nothing was written (e.g. AlreadyExists)
            request = kwargs.get("request", args[0] if args else None)
            writes = request.get("writes", []) if isinstance(request, dict) else getattr(request, "writes", [])
            for w in writes:
                written.append(_write_of(w))
            return response

        FirestoreClient.commit = commit  # type: ignore[method-assign]
        try:
            yield self
        finally:
            FirestoreClient.commit = original  # type: ignore[method-assign]

    def take(self) -> list[tuple[str, str]]:
        out = list(self.written)
        self.written.clear()
        return out


def _write_of(w: Any) -> tuple[str, str]:
    """(document path, "create" | "update" | "delete") of one Write message (proto-plus or raw)."""
    pb = getattr(w, "_pb", w)
    if pb.delete:
        return pb.delete.rsplit("/documents/", 1)[-1], "delete"
    name = pb.update.name or pb.transform.document or "?"
    create = pb.HasField("current_document") and pb.current_document.HasField("exists") and not pb.current_document.exists
    return name.rsplit("/documents/", 1)[-1], "create" if create else "update"


def changed_documents(writes: list[tuple[str, str]]) -> list[str]:
    """Documents whose state differs after ``writes``: all but those created and deleted again."""
    ops: dict[str, list[str]] = {}
    for path, op in writes:
        ops.setdefault(path, []).append(op)
    return [p for p, seq in ops.items() if not (seq[0] == "create" and seq[-1] == "delete")]


def snapshot(client: Any, paths: set[tuple[str, ...]]) -> dict[str, tuple[Any, str]]:
    """``collection/doc`` -> (update time, content digest) for every document of every path."""
    out: dict[str, tuple[Any, str]] = {}
    for path in sorted(paths):
        ref = client.collection(*path)
        for doc in ref.stream():
            digest = hashlib.sha256(repr(sorted((doc.to_dict() or {}).items())).encode()).hexdigest()[:16]
            out["/".join((*path, doc.id))] = (doc.update_time, digest)
    return out


def outbox_state(outbox: Path) -> dict[str, tuple[int, int]]:
    if not outbox.exists():
        return {}
    return {str(p.relative_to(outbox)): (p.stat().st_size, p.stat().st_mtime_ns) for p in outbox.rglob("*") if p.is_file()}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


# ------------------------------------------------------------------ strategies

_BMP = st.characters(codec="utf-8", exclude_categories=("Cs",))
JAPANESE = st.sampled_from(["山田　太郎", "ｿﾆｰ株式会社", "ソニー株式会社", "全角　スペース", "改行\nあり\r\n", "〒１００－０００１",
                            "①②③", "🎌🍣", "\u3000\u3000", "株式会社\u200bソニー", "ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ"])
CONTROL = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=8)
ODD_TEXT = st.one_of(st.text(_BMP, max_size=40), JAPANESE, CONTROL, st.just(""), st.just(" "),
                     st.text(alphabet="aあ", min_size=300, max_size=600))
# Header values must be latin-1 on the wire; werkzeug refuses CR/LF itself.
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=False), ODD_TEXT)
JSON_ANY = st.recursive(JSON_SCALAR, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(ODD_TEXT, c, max_size=4)),
                        max_leaves=12)
METHODS = st.sampled_from(["POST"] * 14 + ["GET"] * 2 + ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])


def _rfc3339(now: dt.datetime) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(now.strftime("%Y-%m-%dT%H:%M:%SZ")), st.just(now.isoformat()),
                     st.just("2026-02-30T10:00:00Z"), st.just("2026-11-28T09:15:00"), st.just("2026-11-28 09:15:00+09:00"),
                     st.just("9999-12-31T23:59:59.999999999Z"), st.just("0001-01-01T00:00:00+14:00"), ODD_TEXT, JSON_ANY)


@st.composite
def mutate(draw: Any, base: dict[str, Any]) -> Any:
    """A copy of ``base`` with 0-3 fields deleted, retyped, enlarged, added or nested deeply."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        keys = list(data)
        op = draw(st.sampled_from(["drop", "retype", "huge", "extra", "deep", "nested"]))
        key = draw(st.sampled_from(keys)) if keys else "x"
        if op == "drop" and keys:
            data.pop(key)
        elif op == "retype":
            data[key] = draw(JSON_ANY)
        elif op == "huge":
            data[key] = draw(st.sampled_from(["あ", "a", "\u3000", "\x01"])) * draw(st.sampled_from([1000, 20_000, 30_000]))
        elif op == "extra":
            data[draw(ODD_TEXT)] = draw(JSON_ANY)
        elif op == "deep":
            depth = draw(st.sampled_from([50, 500, 5000]))
            data[key] = json.loads("[" * depth + "]" * depth) if depth <= 500 else "DEEP"
        elif op == "nested" and isinstance(data.get(key), dict) and data[key]:
            data[key] = draw(mutate(data[key]))
        elif op == "nested" and isinstance(data.get(key), list) and data[key] and isinstance(data[key][0], dict):
            data[key] = [draw(mutate(data[key][0])), *data[key][1:]]
    if draw(st.integers(0, 20)) == 0:
        return draw(JSON_ANY)  # not an object at all
    return data


@st.composite
def encode(draw: Any, data: Any) -> bytes:
    """JSON bytes, sometimes broken: non-UTF-8, Shift_JIS, truncated, deeply nested, padded near 64 KiB."""
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if "\"DEEP\"" in text:  # deep nesting beyond the recursion limit, spliced in as raw text
        depth = draw(st.sampled_from([5000, 100_000]))
        text = text.replace("\"DEEP\"", "[" * depth + "]" * depth, 1)
    raw = text.encode("utf-8", "surrogatepass")
    kind = draw(st.sampled_from(["plain"] * 10 + ["latin1", "sjis", "utf16", "truncate", "bom", "pad"]))
    if kind == "latin1":
        raw = raw + b"\xff\xfe\x80"
    elif kind == "sjis":
        raw = text.encode("shift_jis", "replace")
    elif kind == "utf16":
        raw = text.encode("utf-16")
    elif kind == "truncate" and raw:
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "pad" and isinstance(data, dict):
        target = draw(st.sampled_from([MAX_BODY - 1, MAX_BODY, MAX_BODY + 1, 2 * MAX_BODY]))
        filler = "p" * max(0, target - len(raw) - 12)
        padded = dict(data, _pad=filler)
        raw = json.dumps(padded).encode()
        raw = raw + b" " * max(0, target - len(raw))
    return raw


def _form_sign(ts: str, body: bytes) -> str:
    return hmac.new(FORM_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


@st.composite
def autopilot_headers(draw: Any, body: bytes) -> dict[str, str]:
    now = int(time.time())
    mode = draw(st.sampled_from(["valid"] * 8 + ["stale", "future", "wrong", "upper", "missing_ts", "missing_sig", "garbage"]))
    ts = str(now + draw(st.integers(-200, 200)))
    if mode == "stale":
        ts = str(now - 301 - draw(st.integers(0, 10**6)))
    elif mode == "future":
        ts = str(now + 301 + draw(st.integers(0, 10**6)))
    sig = _form_sign(ts, body)
    headers = {"X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": sig}
    if mode == "wrong":
        headers["X-Autopilot-Signature"] = _form_sign(ts, body + b" ")
    elif mode == "upper":
        headers["X-Autopilot-Signature"] = sig.upper()
    elif mode == "missing_ts":
        headers.pop("X-Autopilot-Timestamp")
    elif mode == "missing_sig":
        headers.pop("X-Autopilot-Signature")
    elif mode == "garbage":
        headers = {"X-Autopilot-Timestamp": draw(HEADER_TEXT), "X-Autopilot-Signature": draw(HEADER_TEXT)}
    headers["Content-Type"] = draw(st.sampled_from(["application/json"] * 6 + [
        "application/json; charset=utf-8", "application/json; charset=shift_jis", "text/plain", "multipart/form-data",
        "application/x-www-form-urlencoded", ""]))
    return headers


@st.composite
def extra_headers(draw: Any) -> dict[str, str]:
    names = st.sampled_from(["Authorization", "X-Forwarded-For", "X-CloudScheduler", "Accept-Language", "X-Extra", "Cookie"])
    out = draw(st.dictionaries(names, HEADER_TEXT, max_size=2))
    if draw(st.booleans()):
        out["Authorization"] = draw(st.sampled_from(["Bearer ", "Bearer x.y.z", "Basic Zm9vOmJhcg==", "Bearer " + "a" * 5000,
                                                     "bearer eyJhbGciOiJub25lIn0.e30.", "Bearer \xe9\xe8"]))
    return out


@st.composite
def common(draw: Any, body: bytes, headers: dict[str, str]) -> FuzzRequest:
    method = draw(METHODS)
    path = draw(st.sampled_from(["/"] * 12 + ["/x", "/" + quote("日本語"), "/" + "a" * 3000, "/../etc/passwd", "//"]))
    query = draw(st.dictionaries(st.sampled_from(["t", "token", "x", "日本"]), HEADER_TEXT, max_size=2))
    return FuzzRequest(method, path, query, {**draw(extra_headers()), **headers}, body)


def submission(now: dt.datetime, form_ids: list[str], titles: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    answer = st.fixed_dictionaries({
        "questionId": st.text("0123456789abcdef", min_size=1, max_size=8),
        "title": st.sampled_from(titles) if titles else ODD_TEXT,
        "answer": st.one_of(JAPANESE, ODD_TEXT, st.lists(JAPANESE, max_size=3), st.just("ソニー株式会社"), st.just("元社員"),
                            st.just("member@example.com"), st.just("2027-03-09"), st.just("30")),
    })
    return st.fixed_dictionaries({
        "formId": st.sampled_from(form_ids) if form_ids else st.just("form"),
        "responseId": st.one_of(st.text("ABCxyz012_-", min_size=1, max_size=20), st.just("resp-1")),
        "submittedAt": st.just(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "respondentEmail": st.one_of(st.none(), st.just("応募者 <applicant@example.com>"), st.just("a@example.com")),
        "answers": st.lists(answer, max_size=12),
    })


def proposal(now: dt.datetime, kinds: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly a proposal the guidelines accept (so some become slots), sometimes a broken field."""
    day = (now + dt.timedelta(days=45)).date().isoformat()
    return st.fixed_dictionaries({
        "proposal_id": st.one_of(st.none(), st.text("abc123", min_size=1, max_size=10)),
        "title": st.one_of(JAPANESE, st.just("読書会　第１回")),
        "kind": st.sampled_from(kinds * 3 + ["speaker_night", "ハッカソン"]),
        "date": st.sampled_from([day] * 6 + ["2026-02-30", "2026/12/01", "１２月"]),
        "start": st.sampled_from(["19:00"] * 6 + ["25:00", "19:00:00", "１９:００"]),
        "duration_minutes": st.sampled_from([60, 90, 120, 0, 1441]),
        "online": st.booleans(),
        "zoom": st.sampled_from(["pool", "pool", None, "own"]),
        "join_url": st.sampled_from([None, None, "https://zoom.us/j/123", "http://x", "javascript:alert(1)"]),
        "description": JAPANESE,
        "co_organizer": st.sampled_from(["", "他団体　有志"]),
        "proposer": st.fixed_dictionaries({"name": JAPANESE, "email": st.sampled_from(
            ["member@example.com"] * 4 + ["田中 <tanaka@example.com>", "not-an-address", "a@b\r\nBcc: x@y"])}),
    })


@st.composite
def signed(draw: Any, data: st.SearchStrategy[dict[str, Any]]) -> FuzzRequest:
    """A signed webhook request; one in four is the clean shape (so the use cases behind run too)."""
    if draw(st.integers(0, 3)) == 0:
        body = json.dumps(draw(data), ensure_ascii=False).encode()
        ts = str(int(time.time()))
        return FuzzRequest("POST", "/", {}, {"X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": _form_sign(ts, body),
                                             "Content-Type": "application/json"}, body)
    body = draw(encode(draw(mutate(draw(data)))))
    return draw(common(body, draw(autopilot_headers(body))))


@st.composite
def form_webhook_request(draw: Any, now: dt.datetime, form_ids: list[str], titles: list[str]) -> FuzzRequest:
    return draw(signed(submission(now, form_ids, titles)))  # type: ignore[no-any-return]


@st.composite
def propose_event_request(draw: Any, now: dt.datetime, kinds: list[str]) -> FuzzRequest:
    return draw(signed(proposal(now, kinds)))  # type: ignore[no-any-return]


@st.composite
def zoom_request(draw: Any, meeting_ids: list[str]) -> FuzzRequest:
    event = draw(st.sampled_from(["endpoint.url_validation", "meeting.ended", "meeting.deleted", "meeting.participant_joined",
                                  "meeting.participant_left", "meeting.started", "ミーティング"]))
    obj = draw(st.fixed_dictionaries({
        "id": st.one_of(st.sampled_from(meeting_ids or ["85012345678"]), st.integers(), JSON_ANY),
        "uuid": st.one_of(st.just("abc=="), ODD_TEXT),
        "start_time": st.one_of(st.just("2026-12-08T11:00:00Z"), st.just("2026-13-45T99:00:00Z"), JSON_ANY),
        "participant": st.one_of(st.fixed_dictionaries({"user_id": st.text("0123", max_size=4), "participant_uuid": ODD_TEXT,
                                                         "join_time": st.just("2026-12-08T11:01:00Z"),
                                                         "user_name": JAPANESE}), JSON_ANY),
    }))
    payload = {"plainToken": draw(st.one_of(st.just("qgg8vlvZRS6UYooatFL8Aw"), ODD_TEXT, JSON_ANY)), "object": obj}
    data = {"event": event, "event_ts": int(time.time() * 1000), "payload": payload}
    body = draw(encode(draw(mutate(data))))
    now_ms = int(time.time() * 1000)
    mode = draw(st.sampled_from(["valid_s", "valid_ms", "valid_s", "stale", "wrong", "missing", "garbage"]))
    ts = str(now_ms // 1000) if mode in ("valid_s", "wrong") else str(now_ms - 10**7 if mode == "stale" else now_ms)
    sig = "v0=" + hmac.new(ZOOM_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"x-zm-request-timestamp": ts, "x-zm-signature": sig, "Content-Type": "application/json"}
    if mode == "wrong":
        headers["x-zm-signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    elif mode == "missing":
        headers.pop(draw(st.sampled_from(["x-zm-request-timestamp", "x-zm-signature"])))
    elif mode == "garbage":
        headers.update({"x-zm-request-timestamp": draw(HEADER_TEXT), "x-zm-signature": draw(HEADER_TEXT)})
    return draw(common(body, headers))


def _tokens(actions: list[str], subjects: list[str]) -> st.SearchStrategy[str]:
    from shared.platform import tokens

    now = dt.datetime.now(dt.UTC)
    key = ACTION_KEY.encode()

    @st.composite
    def one(draw: Any) -> str:
        action = draw(st.sampled_from([*actions, "no_such_action"]))
        subject = draw(st.one_of(st.sampled_from(subjects or ["s"]), ODD_TEXT.filter(bool)))
        ttl = draw(st.sampled_from([dt.timedelta(days=1)] * 4 + [dt.timedelta(seconds=-10)]))
        good = tokens.issue(key, subject, action, now, ttl)
        kind = draw(st.sampled_from(["good"] * 5 + ["flip", "cut", "other_key", "garbage", "padded", "long"]))
        if kind == "flip":
            i = draw(st.integers(0, len(good) - 1))
            return good[:i] + ("A" if good[i] != "A" else "B") + good[i + 1:]
        if kind == "cut":
            return good[: draw(st.integers(0, len(good)))]
        if kind == "other_key":
            return tokens.issue(b"another-key-0123456789", subject, action, now)
        if kind == "garbage":
            return draw(HEADER_TEXT)
        if kind == "padded":
            v, b, s = good.split(".")
            return f"{v}.{b}=.{s}"
        if kind == "long":
            return good + "A" * 3000
        return good

    return one()


ME_OPS = ("save", "save", "remove_directory", "revoke", "request", "", "drop")
CONSENT_NAMES = ("weekly_prompt", "newsletter", "announcements", "referral_thanks", "referral_shown", "directory")


@st.composite
def member_page_request(draw: Any, subjects: list[str]) -> FuzzRequest:
    """The member's settings page, ``/me`` of the actions function (docs/members.md)."""
    from shared.platform import tokens

    valid = st.builds(lambda v: tokens.issue(ACTION_KEY.encode(), "m1", f"me:{v}", dt.datetime.now(dt.UTC)),
                      st.sampled_from([0, 0, 0, 1]))  # the seeded member (a revoke makes version 1 the good one)
    token = draw(st.one_of(valid, _tokens(["me:0", "me:1", "me:x", "me", "approve_application"], subjects)))
    method = draw(st.sampled_from(["GET", "POST", "POST", "POST", "HEAD", "PUT"]))
    req = FuzzRequest(method, draw(st.sampled_from(["/me", "/me/"])), {}, draw(extra_headers()))
    if method != "POST":
        if draw(st.booleans()):
            req.query["t"] = token
        if draw(st.booleans()):
            req.query["done"] = draw(st.one_of(st.sampled_from(["saved", "removed"]), ODD_TEXT))
        return req
    op = draw(st.sampled_from(ME_OPS))
    form: dict[str, Any] = {"op": op}
    if op != "request" or draw(st.booleans()):
        form["t"] = token
    if op == "request":
        form["email"] = draw(st.one_of(st.sampled_from(["member@example.com", "MEMBER@example.com ", "x@y", ""]), ODD_TEXT))
    if op == "save":
        form["consent"] = draw(st.lists(st.one_of(st.sampled_from(CONSENT_NAMES), ODD_TEXT), max_size=7))
        for name in ("company", "role", "link", "intro"):
            if draw(st.booleans()):
                form[name] = draw(st.one_of(ODD_TEXT, st.just("https://example.jp/x"), st.just("javascript:x"),
                                            st.just("長" * 500)))
    if draw(st.integers(0, 9)) == 0:
        req.body = draw(encode(draw(JSON_ANY)))
    else:
        req.form = form
    return req


@st.composite
def actions_request(draw: Any, actions: list[str], subjects: list[str]) -> FuzzRequest:
    if draw(st.integers(0, 2)) == 0:
        return draw(member_page_request(subjects))
    token = draw(_tokens(actions, subjects))
    method = draw(st.sampled_from(["GET", "POST", "POST", "HEAD", "PUT", "DELETE"]))
    req = FuzzRequest(method, "/", {}, draw(extra_headers()))
    where = draw(st.sampled_from(["query", "form", "both", "none"]))
    if where in ("query", "both"):
        req.query["t"] = token
    if where in ("form", "both") and method == "POST":
        req.form = {"t": token, "actor": draw(st.one_of(st.sampled_from(["tanaka", "suzuki", ""]), ODD_TEXT))}
    elif where == "form":
        req.body = draw(encode(draw(JSON_ANY)))
    return req


def console_paths(slot: str, app: str) -> list[str]:
    return ["/", "/schedule", f"/schedule/{slot}", "/schedule/no_such_slot", "/applications", f"/applications/{app}",
            "/applications/nope", "/speakers", "/speakers/nope", "/hosts", f"/hosts/duty/{slot}", "/hosts/swap/nope",
            "/hosts/unavailable", "/hosts/add", "/hosts/kimura/active", "/hosts/tanaka/active", "/proposals/nope", "/members",
            "/members/export/members.csv", "/members/export/x.csv", "/audit", "/login", "/login/google", "/login/mail",
            "/login/link", "/logout", "/lang/en", "/lang/xx", "/assets/site-000.css", "/x", "/" + quote("日本語"),
            "/schedule/" + "a" * 300, "//", "/../etc/passwd", "/attendees", "/attendees/lunch_fuzz",
            "/attendees/speaker_night_fuzz", "/attendees/lunch_past_fuzz", "/attendees/nope", "/newsletter",
            "/newsletter/2026-12", "/newsletter/1999-01", "/newsletter/x", "/interviews", "/interviews/nope", "/referrals"]


@st.composite
def console_request(draw: Any, slot: str, app: str) -> FuzzRequest:
    """Console pages with a real signed-in session (or a forged, missing one), its CSRF token (or a
    wrong, missing one), and the forms' fields (right, wrong, Japanese, oversized)."""
    from shared.entrypoints.web import security

    path = draw(st.sampled_from(console_paths(slot, app)))
    posts = ("/schedule/", "/applications/", "/speakers", "/hosts/", "/proposals/", "/login/", "/logout", "/attendees/",
             "/newsletter/", "/interviews")
    usual = "POST" if path.startswith(posts) and path not in ("/login/link",) else "GET"
    method = draw(st.sampled_from([usual] * 6 + ["GET", "POST", "HEAD", "PUT", "DELETE"]))
    headers = {k: v for k, v in draw(extra_headers()).items() if k != "Cookie"}
    cookie = draw(st.sampled_from(["valid"] * 6 + ["forged", "none", "garbage"]))
    signed = security.SignedValues(CONSOLE_KEY.encode(), "console:session").dumps({"sid": CONSOLE_SID})
    cookies = {"valid": signed, "forged": security.SignedValues(b"k" * 40, "console:session").dumps({"sid": CONSOLE_SID}),
               "garbage": draw(HEADER_TEXT).replace(";", "")}
    if cookie in cookies:
        headers["Cookie"] = f"__Host-console-s={cookies[cookie]}"
    if draw(st.integers(0, 9)) == 0:
        headers["Origin"] = draw(st.sampled_from(["https://evil.example", "null", "http://localhost"]))
    csrf = draw(st.sampled_from(["valid"] * 6 + ["wrong", "none"]))
    day = draw(st.sampled_from(["2099-01-05", "2099-01-01", "2026-02-30", "1999-01-01", "", "明日"]))
    form = {
        "action": draw(st.sampled_from(["move", "cancel", "restore", "hand_back", "swap", "priority", "withdraw", "capacity",
                                        "check_in", "followup", "x", ""])),
        "capacity": draw(st.sampled_from(["3", "0", "", "-1", "１２", "x", "99999"])),
        "recording_url": draw(st.sampled_from(["https://example.com/r", "http://example.com/r", "javascript:x", "", "a" * 600])),
        "survey_url": draw(st.sampled_from(["https://example.com/s", "https://a b", ""])), "label": draw(ODD_TEXT),
        "present": draw(st.sampled_from(["1", "0", "x"])), "who": draw(st.sampled_from(["x", "", "a" * 200])),
        "state": draw(st.sampled_from(["idea", "asked", "agreed", "drafted", "published", "x"])),
        "angle": draw(ODD_TEXT), "title": draw(ODD_TEXT), "link": draw(st.sampled_from(["https://example.jp/a", "javascript:x", ""])),
        "date": day, "start": draw(st.sampled_from(["", "19:30", "25:00"])), "reason": draw(ODD_TEXT),
        "force": draw(st.sampled_from(["", "1"])), "decision": draw(st.sampled_from(["approve", "reject", "x"])),
        "answer": draw(st.sampled_from(["accept", "decline", "x"])), "unavailable": draw(st.sampled_from(["1", "0"])),
        "take": draw(st.sampled_from([slot, "nope", ""])), "priority": draw(st.sampled_from(["3", "-5", "x", "99999"])),
        "email": draw(st.sampled_from(["organizer1@example.com", "nobody@example.com", "x", "山田@例え.jp"])),
        "id": draw(st.sampled_from(["kimura", "tanaka", "Bad Id", ""])), "name": draw(ODD_TEXT),
        "zoom_user": draw(st.sampled_from(["kimura@example.jp", "x"])), "licence": draw(st.sampled_from(["pro", "gold"])),
        "weight": draw(st.sampled_from(["1", "-1", "x"])), "topic": draw(ODD_TEXT), "series": "speaker_night",
        "t": draw(HEADER_TEXT), "credential": draw(st.sampled_from(["x.y.z", "", "a" * 5000])),
        "g_csrf_token": draw(st.sampled_from(["g1", ""])),
    }
    keep = draw(st.sets(st.sampled_from(sorted(form)), max_size=8))
    form = {k: v for k, v in form.items() if k in keep}
    if csrf == "valid":
        form["csrf"] = security.csrf_token(CONSOLE_KEY.encode(), CONSOLE_SID)
    elif csrf == "wrong":
        form["csrf"] = "x" * 43
    if "g_csrf_token" in form and draw(st.booleans()):
        headers["Cookie"] = headers.get("Cookie", "") + f"; g_csrf_token={form['g_csrf_token']}"
    req = FuzzRequest(method, path, draw(st.dictionaries(st.sampled_from(["q", "after", "all", "t", "next", "done", "month"]),
                                                         HEADER_TEXT, max_size=2)), headers)
    if method == "POST":
        if draw(st.integers(0, 5)) == 0:
            req.body = draw(encode(draw(JSON_ANY)))
            req.headers["Content-Type"] = draw(st.sampled_from(["application/x-www-form-urlencoded", "text/plain",
                                                                 "multipart/form-data"]))
        else:
            req.form = form
    return req


@st.composite
def ics_request(draw: Any) -> FuzzRequest:
    token = draw(st.one_of(st.just(FEED_TOKEN), st.just(FEED_TOKEN + ".ics"), st.just(FEED_TOKEN[:-1]),
                           st.just(FEED_TOKEN.upper()), HEADER_TEXT, st.just("a" * 250)))
    method = draw(st.sampled_from(["GET", "GET", "HEAD", "POST", "PUT"]))
    if draw(st.booleans()):
        return FuzzRequest(method, "/" + quote(token, safe=""), {}, draw(extra_headers()))
    return FuzzRequest(method, draw(st.sampled_from(["/", "/x", "/" + quote(FEED_TOKEN)])), {"token": token}, draw(extra_headers()))


@st.composite
def cron_request(draw: Any) -> FuzzRequest:
    job = draw(st.one_of(st.sampled_from(["daily-job", "毎日", "x" * 501, " ", ""]), HEADER_TEXT))
    when = draw(st.one_of(st.sampled_from([
        "2026-11-28T00:00:00Z", "2026-11-28T00:00:00+09:00", "2026-11-28T00:00:00", "2026-02-30T00:00:00Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-28T00:00:00.123456789Z", "tomorrow", "", "  ",
        "2026-W48-6T00:00:00Z", "20261128T000000Z"]), HEADER_TEXT))
    headers: dict[str, str] = {}
    shape = draw(st.sampled_from(["both", "both", "both", "job_only", "time_only", "none"]))
    if shape in ("both", "job_only"):
        headers["X-CloudScheduler-JobName"] = job
    if shape in ("both", "time_only"):
        headers["X-CloudScheduler-ScheduleTime"] = when
    if shape == "none" and draw(st.integers(0, 3)):  # a manual run does real work: keep them rare
        headers["X-CloudScheduler-JobName"] = job or "x"
    body = draw(st.one_of(st.just(b""), encode(draw(JSON_ANY))))
    req = draw(common(body, headers))
    req.method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH"]))
    return req


EVENT_SLOTS = ("lunch_fuzz", "speaker_night_fuzz", "company_collab_fuzz", "lunch_past_fuzz", "no_such_event")
EVENT_PATHS = ("/", "/feed.ics", "/newsletters", "/newsletters/2026-11", "/newsletters/x", "/sitemap.xml", "/robots.txt",
               "/u", "/r/confirm", "/r/cancel", "/r/accept", "/r/status", "/r/other", "/lang/en", "/lang/xx",
               "/assets/site-0.css", "/e", "/e/", "//e/lunch_fuzz", "/e/lunch_fuzz/../..", "/e/%E3%83%A9%E3%83%B3%E3%83%81",
               "/" + "e/" * 300)


def events_request(subjects: list[str]) -> st.SearchStrategy[FuzzRequest]:
    """The public events function: every route, signed RSVP links (good, expired, forged, for the
    wrong action), the RSVP form with a real CSRF token (``FRESH_CSRF``) or without, odd paths.
    The strategies are built once (hypothesis draws from them thousands of times)."""
    from shared.platform import tokens

    now = dt.datetime.now(dt.UTC)
    key = ACTION_KEY.encode()
    actions = {"/r/confirm": "rsvp_confirm", "/r/cancel": "rsvp_cancel", "/r/accept": "rsvp_accept",
               "/r/status": "rsvp_status", "/u": "unsubscribe_announcements"}
    plain = ("rsvp_status", "unsubscribe_announcements")
    subject = st.sampled_from([*subjects, "m1", subjects[0] + "x", "~", "a~b~c"])
    good = {a: st.builds(lambda s, r, a=a: tokens.issue(key, s if a in plain else f"{s}|{r}", a, now, dt.timedelta(days=3)),
                         subject, st.sampled_from([1, 1, 2, 0])) for a in actions.values()}
    bad = _tokens([*actions.values()], [*subjects, "m1"])
    paths = st.one_of(st.sampled_from(EVENT_PATHS),
                      st.sampled_from(EVENT_SLOTS).map(lambda sid: f"/e/{sid}"),
                      st.sampled_from(EVENT_SLOTS).flatmap(lambda sid: st.sampled_from(
                          [f"/e/{sid}/sent", f"/e/{sid}/event.ics", f"/e/{sid}/x"])))
    field_value = st.one_of(st.sampled_from(["member@example.com", "new.person@example.jp", "a@b", "", "x" * 400 + "@example.com",
                                             "山田　花子", "卵アレルギー\r\n遅れます", "a@example.com\r\nBcc: x@y.z"]), ODD_TEXT)

    @st.composite
    def one(draw: Any) -> FuzzRequest:
        path = draw(paths)
        method = draw(st.sampled_from(["GET", "GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE"]))
        action = actions.get(path, "rsvp_confirm")
        token = draw(st.one_of(good[action], good[action], bad, HEADER_TEXT))
        req = FuzzRequest(method, path, {}, draw(extra_headers()))
        if draw(st.booleans()):
            req.query["t"] = token
        if draw(st.integers(0, 4)) == 0:
            req.query[draw(st.sampled_from(["done", "next", "lang"]))] = draw(st.one_of(st.sampled_from(
                ["confirmed", "waitlisted", "/e/lunch_fuzz", "//evil.example", "en"]), ODD_TEXT))
        if method != "POST":
            return req
        form: dict[str, str] = {}
        if draw(st.integers(0, 3)):
            form["csrf"] = draw(st.sampled_from([FRESH_CSRF, FRESH_CSRF, FRESH_CSRF, "x", ""]))
        if path.startswith("/r/"):
            form["t"] = token
        for name in ("email", "name", "notes"):
            if draw(st.integers(0, 3)):
                form[name] = draw(field_value)
        if draw(st.integers(0, 5)) == 0:
            req.body = draw(encode(draw(JSON_ANY)))
        else:
            req.form = form
        if draw(st.integers(0, 5)) == 0:
            req.headers["Origin"] = draw(st.sampled_from(["https://evil.example", "null", "http://localhost"]))
        return req

    return one()


# ------------------------------------------------------------------ the harness


def _reason(res: Any) -> str:
    """The first words of an answer (JSON ``error``, or text): which check answered."""
    if res.mimetype == "application/json":
        try:
            body = json.loads(res.get_data())
        except ValueError:
            return "?"
        text = str(body.get("error") or "ok") if isinstance(body, dict) else "ok"
    else:
        text = res.mimetype
    return text[:48]


class Harness:
    """Sends fuzz requests to the functions in this process and checks each answer against the state."""

    def __init__(self, client: Any, outbox: Path, recorder: CollectionRecorder, commits: CommitRecorder | None = None) -> None:
        import functions_framework

        self.client, self.outbox, self.recorder = client, outbox, recorder
        self.commits = commits or CommitRecorder()
        self.apps: dict[str, Any] = {}
        self.stats: dict[str, Stats] = {}
        self._factory = functions_framework.create_app

    def app(self, function: str) -> Any:
        if function not in self.apps:
            self.apps[function] = self._factory(function, str(ROOT / "functions" / function / "main.py")).test_client()
        return self.apps[function]

    def send(self, function: str, req: FuzzRequest) -> int:
        stats = self.stats.setdefault(function, Stats())
        files_before = outbox_state(self.outbox)
        self.commits.take()  # what earlier requests (or seeding) wrote is not this request's
        kwargs: dict[str, Any] = {"method": req.method, "path": req.path, "query_string": req.query, "headers": req.headers}
        if req.form is not None and req.form.get("csrf") == FRESH_CSRF:
            # As a browser would: the page with the form first (a GET: it writes nothing), its token then.
            import re

            page = self.app(function).get("/e/lunch_fuzz").get_data(as_text=True)
            found = re.search(r'name="csrf" value="([^"]+)"', page)
            req.form = {**req.form, "csrf": found.group(1) if found else ""}
        if req.form is not None:
            kwargs["data"] = req.form
        elif req.body:
            kwargs["data"] = req.body
        try:
            res = self.app(function).open(**kwargs)
            status = res.status_code
            reason = f"{status}: {_reason(res)}"
            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
        except Exception as exc:  # an exception escaping the app is what the runtime answers with 500
            status = 500
            stats.findings.append(Finding(function, "server_error", 500, req.describe(), f"{type(exc).__name__}: {exc}"[:300]))
        written = self.commits.take()
        stats.tried += 1
        stats.by_status[status] = stats.by_status.get(status, 0) + 1
        if status >= 500:
            stats.server_errors += 1
            if not stats.findings or stats.findings[-1].request != req.describe():
                stats.findings.append(Finding(function, "server_error", status, req.describe()))
        elif 400 <= status < 500:
            stats.refusals += 1
            changed = changed_documents(written)
            if changed:
                stats.writes_after_refusal += 1
                stats.findings.append(Finding(function, "write_after_refusal", status, req.describe(), ", ".join(changed[:5])))
            files = diff(files_before, outbox_state(self.outbox))
            if files:
                stats.outbox_after_refusal += 1
                stats.findings.append(Finding(function, "outbox_after_refusal", status, req.describe(), ", ".join(files[:5])))
        return status

    def reasons(self, function: str, top: int = 12) -> list[tuple[str, int]]:
        return sorted(self.stats[function].reasons.items(), key=lambda kv: -kv[1])[:top]

    def total(self) -> Stats:
        out = Stats()
        for s in self.stats.values():
            out.add(s)
        return out

    def report(self) -> str:
        lines = [f"{'function':22} {'tried':>6} {'5xx':>4} {'4xx':>5} {'writes@4xx':>10} {'outbox@4xx':>10}  statuses"]
        for name, s in [*sorted(self.stats.items()), ("TOTAL", self.total())]:
            lines.append(f"{name:22} {s.tried:6d} {s.server_errors:4d} {s.refusals:5d} {s.writes_after_refusal:10d} "
                         f"{s.outbox_after_refusal:10d}  {dict(sorted(s.by_status.items()))}")
        for f in self.total().findings[:10]:
            lines.append(f"  ! {f.function} {f.kind} {f.status}: {f.detail}\n      {f.request}")
        return "\n".join(lines)


# ------------------------------------------------------------------ seeding and running


@dataclass
class Context:
    """What the strategies draw from: configured form ids and titles, action names, known subjects."""

    now: dt.datetime
    form_ids: list[str]
    titles: list[str]
    actions: list[str]
    subjects: list[str]
    meeting_ids: list[str]
    kinds: list[str]
    rsvps: list[str] = field(default_factory=lambda: ["lunch_fuzz~x"])


def seed_state(client: Any) -> Context:
    """A little real state (members, a slot with a Zoom meeting, an application) so fuzzed requests
    that pass their checks reach real documents; returns what the strategies draw from."""
    from shared import bootstrap
    from shared.entrypoints import action_handlers
    from shared.platform.actions import _REGISTRY

    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    form_ids = [f for f in (cfg.applications.form_id if cfg.applications else None,
                            cfg.people.speakers.form.form_id if cfg.people.speakers.form else None) if f] + ["unknownForm"]
    titles: list[str] = []
    for section in (cfg.applications, cfg.people.speakers.form):
        for q in msgspec.structs.asdict(section.questions).values() if section else []:
            title = getattr(q, "title", q)
            if isinstance(title, str):
                titles.append(title)
    start = (now + dt.timedelta(days=10)).replace(minute=0, second=0)
    client.collection("slots").document("speaker_night_fuzz").set({
        "series_id": "speaker_night", "kind": "speaker_night", "title": "登壇イベント　ファズ", "online": True,
        "timezone": "Asia/Tokyo", "key_date": start.date().isoformat(), "date": start.date().isoformat(), "start": start,
        "end": start + dt.timedelta(hours=2), "open_end": True, "status": "scheduled", "speaker": None, "host": None,
        "revision": 0, "gen_flags": {}, "provision": {"zoom": {"meeting_id": "85012345678", "state": "created"}}})
    from shared.domain.members import consent_records

    client.collection("members").document("m1").set({
        "name": "会員　一郎", "email": "member@example.com", "joined_at": now - dt.timedelta(days=30), "link_version": 0,
        "consents": consent_records({"weekly_prompt": True, "directory": True}, now - dt.timedelta(days=30), "form")})
    client.collection("applications").document("app_fuzz").set({"status": "needs_review", "received_at": now,
                                                                  "fields": {"name": "申請　太郎"}})
    # a signed-in organizer (tanaka of the example config) for the console's requests
    client.collection("console_sessions").document(hashlib.sha256(CONSOLE_SID.encode()).hexdigest()[:40]).set({
        "person_id": "tanaka", "via": "google", "created_at": now, "expires_at": now + dt.timedelta(days=2)})
    action_handlers.load()
    rsvps = seed_events(client, now)
    return Context(now, form_ids, titles or ["お名前"], sorted(_REGISTRY), ["app_fuzz", "speaker_night_fuzz", "m1"],
                   ["85012345678"], sorted(cfg.rhythm.event_kinds) or ["member_event"], rsvps)


def seed_events(client: Any, now: dt.datetime) -> list[str]:
    """Events the events function's requests reach: a lunch in person, a members-only event, a past
    one (the speaker night is above), and RSVPs of the seeded member waiting for their link."""
    from shared.domain.applications import email_key

    base = {"timezone": "Asia/Tokyo", "open_end": False, "status": "scheduled", "speaker": None, "host": None,
            "revision": 0, "gen_flags": {}, "online": False, "venue": {"name": "会場　ファズ", "address": "東京都"}}
    for sid, kind, days in (("lunch_fuzz", "lunch", 12), ("company_collab_fuzz", "company_collab", 20), ("lunch_past_fuzz", "lunch", -3)):
        start = (now + dt.timedelta(days=days)).replace(minute=0, second=0)
        client.collection("slots").document(sid).set({**base, "series_id": kind, "kind": kind, "title": f"{kind}　ファズ",
                                                      "key_date": start.date().isoformat(), "date": start.date().isoformat(),
                                                      "start": start, "end": start + dt.timedelta(hours=1)})
    who = email_key("member@example.com")
    rids = []
    for sid in ("lunch_fuzz", "speaker_night_fuzz", "lunch_past_fuzz"):
        rid = f"{sid}~{who}"
        client.collection("rsvps").document(rid).set({"event": sid, "who": who, "email": "member@example.com",
                                                      "name": "会員　一郎", "notes": "", "locale": "ja", "round": 1,
                                                      "requests": 1, "status": "pending"})
        rids.append(rid)
    return rids


def strategy(function: str, ctx: Context) -> st.SearchStrategy[FuzzRequest]:
    if function == "form_webhook":
        return form_webhook_request(ctx.now, ctx.form_ids, ctx.titles)
    if function == "propose_event":
        return propose_event_request(ctx.now, ctx.kinds)
    if function == "zoom_webhook":
        return zoom_request(ctx.meeting_ids)
    if function == "actions":
        return actions_request(ctx.actions, ctx.subjects)
    if function == "ics_feed":
        return ics_request()
    if function == "console":
        return console_request("speaker_night_fuzz", "app_fuzz")
    if function == "events":
        return events_request(ctx.rsvps)
    if function in CRON_FUNCTIONS:
        return cron_request()
    raise ValueError(f"no strategy for {function}")


def fuzz(harness: Harness, ctx: Context, functions: tuple[str, ...], examples: int | Callable[[str], int],
         seed_value: int) -> Stats:
    """Run ``examples`` generated requests against each function (reproducible for a seed)."""
    for function in functions:
        _runner(harness, function, strategy(function, ctx), examples(function) if callable(examples) else examples,
                seed_value)()
    return harness.total()


def _runner(harness: Harness, function: str, requests: st.SearchStrategy[FuzzRequest], n: int,
            seed_value: int) -> Callable[[], None]:
    @seed(seed_value)
    @settings(max_examples=n, database=None, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))
    @given(requests)
    def run(req: FuzzRequest) -> None:
        harness.send(function, req)

    return run  # type: ignore[no-any-return]


def session(emulator_host: str, workdir: Path, config: Path | None = None) -> Any:
    """Environment for a standalone run: its own project, outbox, config and secrets."""
    return environ({**environment(), "GOOGLE_CLOUD_PROJECT": f"fuzz-{uuid.uuid4().hex[:10]}",
                    "FIRESTORE_EMULATOR_HOST": emulator_host, "OUTBOX_DIR": str(workdir / "outbox"),
                    "COMMUNITY_CONFIG": str(config or ROOT / "config" / "community.example.yaml")})


@contextmanager
def fuzzing(client: Any, outbox: Path) -> Iterator[tuple[Harness, Context]]:
    """In the current environment (project, config, outbox, secrets already set): record collections,
    seed a little state, shorten the wait for a crashed twin, and yield a harness."""
    from shared.entrypoints import cron

    recorder, commits = CollectionRecorder(), CommitRecorder()
    saved_wait = cron.WAIT_FOR_TWIN_SECONDS
    cron.WAIT_FOR_TWIN_SECONDS = 1.0  # a twin of a crashed run would otherwise wait 25 s per example
    try:
        with recorder.installed(), commits.installed():
            ctx = seed_state(client)
            yield Harness(client, outbox, recorder, commits), ctx
    finally:
        cron.WAIT_FOR_TWIN_SECONDS = saved_wait


@contextmanager
def fake_forms() -> Iterator[str]:
    """The Forms API (for poll_form_responses) on a local server speaking its wire format."""
    from shared import bootstrap
    from tests.fakes.google_forms import FakeForms

    cfg = bootstrap.config()
    form_id = cfg.applications.form_id if cfg.applications else "form"
    questions = msgspec.structs.asdict(cfg.applications.questions).values() if cfg.applications else []
    titles = [t for t in (getattr(q, "title", None) for q in questions) if isinstance(t, str)]
    with FakeForms(form_id, {f"3a{i:02x}f1": t for i, t in enumerate(titles)}) as fake:
        yield fake.url


def run_all(emulator_host: str, workdir: Path, examples: int | Callable[[str], int], seed_value: int,
            functions: tuple[str, ...] = FUNCTIONS) -> tuple[Harness, float]:
    """One standalone run over ``functions``; returns the harness (stats, report) and the wall time."""
    from google.cloud import firestore

    from shared import bootstrap

    with session(emulator_host, workdir):
        bootstrap.reset()
        try:
            with fake_forms() as url, environ({"FORMS_API_ENDPOINT": url}):
                client = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
                with fuzzing(client, workdir / "outbox") as (harness, ctx):
                    began = time.perf_counter()
                    fuzz(harness, ctx, functions, examples, seed_value)
                    return harness, time.perf_counter() - began
        finally:
            bootstrap.reset()


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from tools import emulator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="requests per function")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("functions", nargs="*", help=f"default: all of {', '.join(FUNCTIONS)}")
    args = parser.parse_args(argv)
    functions = tuple(args.functions) or FUNCTIONS
    with emulator.running() as emu, tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        harness, seconds = run_all(emu.host, Path(tmp), args.examples, args.seed, functions)
    total = harness.total()
    print(harness.report())
    print(f"requests tried {total.tried}, 5xx {total.server_errors}, writes after refusals {total.writes_after_refusal}, "
          f"outbox files after refusals {total.outbox_after_refusal}, {seconds:.1f} s (seed {args.seed})")
    return 0 if not (total.server_errors or total.writes_after_refusal or total.outbox_after_refusal) else 1


if __name__ == "__main__":
    sys.exit(main())

