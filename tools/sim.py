"""A month of the community, simulated end to end (docs/proof.md): ``make bench`` measures it, the chaos run
replays it with faults (tools/chaos.py, tests/chaos).

Every cron job and webhook is delivered the way production delivers it: an HTTP request to the
function's ``functions_framework`` app (``functions/<name>/main.py``) with Cloud Scheduler headers or
a signed body, on the Firestore emulator, with the real adapters talking HTTP to the local fake Zoom,
Calendar, Gmail and Slack servers of ``tests/fakes``. The wall clock is moved to each delivery's
time (``time-machine``), so leases, tokens and webhook signatures see the simulated time; gRPC alone
keeps the real clock (``grpc_on_real_clock``: its deadlines are absolute instants read by gRPC's C core).

The month: ``members`` members (batch-seeded), the example config's series (slots generated daily),
speakers proposed on day 1 who accept their offers, hosts rotated, Zoom + Calendar provisioned,
300 applications through ``form_webhook``, reminders, weekly digests and prompts. What is counted:
Firestore reads/writes/deletes (the adapters' OpCounter), external calls by kind, mails, invocations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain.members import consent_records
from tools.emulator import environ

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "community.example.yaml"
JST = ZoneInfo("Asia/Tokyo")
UTC = dt.UTC
START = dt.date(2027, 2, 1)  # a fixed month (28 days from a Monday), so every run simulates the same one
DAYS = 28
APPLICATIONS = 300
SPEAKERS = 4
FORM_SECRET = "sim-form-webhook-secret-0123456789"
LINK_KEY = "sim-action-link-key-0123456789abcdef"
FORM_ID = "1Xb2exampleMembershipForm0123456789AbCdEfGh"
HOSTS = ("organizer1@example.com", "organizer2@example.com")
BACKLOG = "backlog:"  # intents of the spent-intent backlog the chaos run seeds (kept out of the month's ledger)

# (function, local hour, minute, on which days: None = daily, else a weekday 0=Mon): infra/functions.tf.
# provision_events runs hourly in production; the month delivers it 4 times a day and the cost model
# adds the other 20 as idle runs measured at the end (see ``idle_runs``).
CRON: tuple[tuple[str, int, int, int | None], ...] = (
    ("generate_slots", 4, 15, None),
    ("provision_events", 5, 40, None),
    ("send_digest", 8, 0, 0),
    ("assign_speakers", 9, 0, None),
    ("weekly_prompt", 9, 0, None),  # daily: the prompt's daily_limit spreads one week's batches over days
    ("send_reminders", 10, 0, None),
    ("provision_events", 11, 40, None),
    ("provision_events", 17, 40, None),
    ("provision_events", 23, 40, None),
)
# Production invocations per 30-day month (infra/functions.tf schedules), for the cost model.
PRODUCTION_CRON_PER_MONTH = {"generate_slots": 30, "provision_events": 720, "assign_speakers": 30,
                             "poll_form_responses": 1440, "send_digest": 4.3, "send_reminders": 30, "weekly_prompt": 30}


def application_answers(i: int, broken: bool = False) -> dict[str, str]:
    """Title -> answer of applicant ``i``; ``broken``: an emoji cut in half in the name (a lone surrogate)."""
    return {"お名前": f"会員　{i}号" + (" \ud83d" if broken else ""), "メールアドレス": f"applicant{i}@example.jp",
            "在籍していた(している)会社名": "ソニー株式会社" if i % 3 else "ｿﾆｰ銀行㈱",
            "在籍区分(元社員/現社員)": "元社員" if i % 2 else "現社員", "在籍期間": "2000年〜2010年",
            "所属部署": "設計\n第一課"}


QUESTION_IDS = {title: f"q{j}" for j, title in enumerate(application_answers(0))}


def response_id(i: int, round_: int = 0) -> str:
    """The form's id of applicant ``i``'s response; ``round_`` > 0: the applicant sending the form again."""
    return f"ACYDBNsim{i:05d}" + (f"r{round_}" if round_ else "")


def application_body(i: int, round_: int = 0, broken: bool = False) -> bytes:
    """One membership form submission as the Apps Script posts it (Japanese answers, line breaks)."""
    data = {"formId": FORM_ID, "responseId": response_id(i, round_), "submittedAt": "2027-02-01T03:00:00Z",
            "respondentEmail": None, "answers": [{"questionId": QUESTION_IDS[t], "title": t, "answer": a}
                                                 for t, a in application_answers(i, broken).items()]}
    # JSON escapes where needed: a lone surrogate travels as "\ud83d", as the Apps Script sends it
    return json.dumps(data, ensure_ascii=broken).encode()


def signed_headers(body: bytes, secret: str = FORM_SECRET) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/json", "X-Autopilot-Timestamp": ts,
            "X-Autopilot-Signature": hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()}


@dataclass
class Delivery:
    """One request of the month: a Scheduler run or a webhook, at a simulated instant."""

    when: dt.datetime
    function: str
    kind: str  # "cron" | "application"
    index: int = 0
    round: int = 0  # an application sent again (a new response of the same applicant)
    broken: bool = False  # its name carries a lone surrogate

    def key(self) -> str:
        return f"{self.function}@{self.when.isoformat()}#{self.index}"


def plan(days: int = DAYS, applications: int = APPLICATIONS, start: dt.date = START) -> list[Delivery]:
    """Every delivery of the month in time order (deterministic)."""
    out: list[Delivery] = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for name, hour, minute, weekday in CRON:
            if weekday is None or day.weekday() == weekday:
                out.append(Delivery(dt.datetime.combine(day, dt.time(hour, minute), JST).astimezone(UTC), name, "cron"))
    per_day = -(-applications // days)
    for i in range(applications):
        day = start + dt.timedelta(days=i // per_day)
        when = dt.datetime.combine(day, dt.time(12, 0), JST) + dt.timedelta(minutes=7 * (i % per_day))
        out.append(Delivery(when.astimezone(UTC), "form_webhook", "application", i))
    return sorted(out, key=lambda x: (x.when, x.function, x.index))


@dataclass
class Stats:
    wall_seconds: float = 0.0
    firestore: Counter[str] = field(default_factory=Counter)  # reads, writes, deletes
    invocations: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)  # in-function seconds by function
    statuses: Counter[int] = field(default_factory=Counter)
    external: Counter[str] = field(default_factory=Counter)  # external calls by kind
    external_writes: int = 0
    mails: int = 0
    mail_recipients: int = 0
    daily: dict[str, Counter[str]] = field(default_factory=dict)  # Firestore ops by simulated day (JST)

    def daily_max(self, kind: str) -> int:
        return max((c[kind] for c in self.daily.values()), default=0)

    def as_dict(self) -> dict[str, Any]:
        return {"wall_seconds": round(self.wall_seconds, 2), "firestore": dict(self.firestore),
                "invocations": dict(self.invocations), "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "statuses": {str(k): v for k, v in self.statuses.items()}, "external": dict(self.external),
                "external_writes": self.external_writes, "mails": self.mails, "mail_recipients": self.mail_recipients}


class Clock:
    """Moves the process's clock (time-machine) to a simulated instant; ``shift`` adds a recovery offset."""

    def __init__(self) -> None:
        self.shift = dt.timedelta(0)
        self._traveller: Any = None

    def at(self, when: dt.datetime) -> None:
        import time_machine

        if self._traveller is not None:
            self._traveller.stop()
        self._traveller = time_machine.travel(when + self.shift, tick=True)
        self._traveller.start()

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None


@contextmanager
def grpc_on_real_clock() -> Iterator[None]:
    """Keep gRPC's Python layer on the real wall clock while time-machine moves ``time.time()``.

    grpc turns a call's timeout into an absolute deadline with ``time.time() + timeout``
    (grpc/_channel.py ``_deadline``) and its C core, which time-machine cannot move, sends
    ``deadline - real now`` as the ``grpc-timeout`` header. Under a clock moved 75 days ahead,
    Firestore's 300 s RunQuery timeout went out as ``grpc-timeout: 6448779620ms``; the emulator
    (grpc-js) truncates that to a 32-bit int (``| 0``), negative for a clock 24.9-49.7 days ahead
    and again from 74.6 days: the call expires on arrival and its stream hung, so a month simulated
    65 days ahead of the real date stalled on its 11th day (2027-02-11). Only the
    ``time`` name inside grpc's own modules is swapped: everything else (our code, google-auth, the
    fakes) still sees the simulated time.
    """
    import time as real_time
    import types

    import grpc._channel
    import grpc._common
    import grpc._utilities
    import time_machine

    hatch = time_machine.escape_hatch
    clock = types.SimpleNamespace(**{k: getattr(real_time, k) for k in dir(real_time) if not k.startswith("_")})
    clock.time = lambda: hatch.time.time() if hatch.is_travelling() else real_time.time()
    clock.time_ns = lambda: hatch.time.time_ns() if hatch.is_travelling() else real_time.time_ns()
    modules = (grpc._channel, grpc._common, grpc._utilities)
    saved = [getattr(m, "time") for m in modules]  # noqa: B009  (fails loudly if grpc renames it)
    for m in modules:
        setattr(m, "time", clock)  # noqa: B010
    try:
        yield
    finally:
        for m, original in zip(modules, saved, strict=True):
            setattr(m, "time", original)  # noqa: B010


class World:
    """The fakes, the environment and one emulator project; ``run_month`` drives the functions.

    ``wrap``: optional hook ``wrap(kind, adapter) -> adapter`` applied to the Zoom, Calendar, mail
    transport, Slack and document-store adapters that bootstrap builds (the chaos run's fault injector).
    ``forms``: a Forms API fake holding every response (the poller's source); ``function_env`` gives
    a delivery only the settings infra/functions.tf gives its function, on "Cloud Functions".
    """

    def __init__(self, emulator_host: str, workdir: Path, members: int, wrap: Callable[[str, Any], Any] | None = None,
                 config_text: str | None = None) -> None:
        self.emulator_host = emulator_host
        self.workdir = workdir
        self.members = members
        self.wrap = wrap
        self.project = f"sim-{uuid.uuid4().hex[:10]}"
        self.config_text = config_text
        self.stack = ExitStack()
        self.clock = Clock()
        self.apps: dict[str, Any] = {}
        self.zoom: Any = None
        self.cal: Any = None
        self.gmail: Any = None
        self.slack: Any = None
        self.forms: Any = None
        self.values: dict[str, str] = {}

    # ---------------------------------------------------------------- setup
    def __enter__(self) -> World:
        from tests.fakes.gmail import FakeGmail
        from tests.fakes.google_calendar import FakeCalendar
        from tests.fakes.google_forms import FakeForms
        from tests.fakes.slack import running_slack
        from tests.fakes.zoom import FakeZoom

        self.zoom = self.stack.enter_context(FakeZoom(users=HOSTS))
        self.cal = self.stack.enter_context(FakeCalendar())
        self.gmail = self.stack.enter_context(FakeGmail())
        self.slack = self.stack.enter_context(running_slack())
        self.forms = self.stack.enter_context(FakeForms(FORM_ID, {q: t for t, q in QUESTION_IDS.items()}))
        self.forms.page_size = 200
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "community.yaml"
        text = self.config_text or CONFIG.read_text(encoding="utf-8")
        config.write_text(text.replace("delivery: auto ", "delivery: live "), encoding="utf-8")
        values = {
            "GOOGLE_CLOUD_PROJECT": self.project, "FIRESTORE_EMULATOR_HOST": self.emulator_host,
            "COMMUNITY_CONFIG": str(config), "OUTBOX_DIR": str(self.workdir / "outbox"), "LOG_LEVEL": "ERROR",
            "FORM_WEBHOOK_SECRET": FORM_SECRET, "ACTION_LINK_KEY": LINK_KEY, "ACTIONS_BASE_URL": "https://actions.example",
            "EVENTS_BASE_URL": "https://events.example",
            "MAIL_TRANSPORT": "gmail", "GMAIL_API_ENDPOINT": self.gmail.endpoint,
            **self.gmail.oauth_env(self.workdir),  # consumer Gmail: a refresh token, at the fake's token endpoint
            "MAIL_FROM": "コミュニティ <community@example.com>", "SLACK_WEBHOOK_URL": self.slack.url,
            "CALENDAR_API_ENDPOINT": self.cal.endpoint, "FORMS_API_ENDPOINT": self.forms.url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.cal.write_service_account(self.workdir)),
            **self.zoom.env(),
        }
        self.values = values
        self.stack.enter_context(environ(values))
        self.stack.enter_context(grpc_on_real_clock())
        self.stack.callback(self.clock.stop)
        self._install_wrappers()
        from shared import bootstrap

        bootstrap.reset()
        speaker_form = bootstrap.config().people.speakers.form
        if speaker_form is not None:  # polled too: the fake knows it (no responses)
            self.forms.empty_forms.add(speaker_form.form_id)
        self.stack.callback(bootstrap.reset)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def _install_wrappers(self) -> None:
        """Route bootstrap's adapters through ``wrap`` (restored on exit)."""
        if self.wrap is None:
            return
        from shared import bootstrap

        wrap = self.wrap
        originals = {name: getattr(bootstrap, name) for name in ("meetings", "calendar", "chat", "mailer", "doc_store",
                                                                 "assign_docs", "rhythm_store")}

        def cached(name: str, build: Callable[[], Any]) -> Any:
            from functools import cache

            @cache
            def adapter() -> Any:
                built = getattr(build, "__wrapped__", build)()  # a fresh adapter, not the original's cached one
                if name == "mailer":
                    built.transport = wrap("mail", built.transport)
                    return built
                return wrap("doc_store" if name in ("assign_docs", "rhythm_store") else name, built)

            return adapter

        for name, original in originals.items():
            setattr(bootstrap, name, cached(name, original))

        def restore() -> None:
            for name, original in originals.items():
                setattr(bootstrap, name, original)

        self.stack.callback(restore)

    def seed(self) -> float:
        """Members (batch writes of 500) and the month's speakers; returns seconds. Not counted as the month's ops."""
        from google.cloud import firestore

        started = time.perf_counter()
        db = firestore.Client(project=self.project)
        joined = dt.datetime.combine(START, dt.time(0), UTC)
        for first in range(0, self.members, 500):
            batch = db.batch()
            for i in range(first, min(first + 500, self.members)):
                batch.set(db.collection("members").document(f"m{i:05d}"), {
                    "name": f"会員　{i}", "email": f"member{i}@example.com", "status": "approved",
                    "consents": consent_records({"weekly_prompt": True, "directory": i % 20 == 0}, joined, "form"),
                    "joined_at": joined - dt.timedelta(days=i % 400)})
            batch.commit()
        return time.perf_counter() - started

    def propose_speakers(self, now: dt.datetime) -> None:
        from shared import bootstrap
        from shared.usecases import assign

        deps = bootstrap.assign_deps()
        for i in range(SPEAKERS):
            assign.propose_speaker(deps, assign.SpeakerProposal(
                name=f"登壇　{i}子", email=f"speaker{i}@example.jp", topic=f"アルムナイと\n新規事業 {i}",
                series_id="speaker_night", source_id=f"sim-speaker-{i}"), now)

    def answer_offers(self, now: dt.datetime) -> int:
        """Speakers accept the live offers sent to them (the click on the signed link, use case level)."""
        from shared import bootstrap
        from shared.usecases import assign

        deps = bootstrap.assign_deps()
        answered = 0
        for offer in deps.store.where("offers", "state", "==", "live"):
            assign.speaker_answer(deps, offer["offer_id"], True, now)
            answered += 1
        return answered

    # ------------------------------------------------------------- delivery
    @contextmanager
    def function_env(self, function: str) -> Iterator[None]:
        """The environment ``function`` has on Cloud Functions: ``K_SERVICE``, and of the month's
        settings only those its entry in infra/functions.tf (plus the common ones) gives it; test
        endpoints (env.LOCAL_ONLY) and the sandbox's OUTBOX_DIR stay. Adapters are rebuilt on entry
        and on exit (bootstrap builds them from the environment, once per instance)."""
        import os

        from shared import bootstrap
        from tools import infra_check

        entry = infra_check.catalogue(ROOT).get(function) or {}
        given = {*entry.get("env", ()), *entry.get("secrets", ()), *entry.get("secret_files", ()),
                 *infra_check.common_env_names(ROOT), *infra_check.env_constants(ROOT)[1], "OUTBOX_DIR"}
        saved = {k: os.environ.get(k) for k in (*self.values, "K_SERVICE")}
        for name in self.values:
            if name not in given:
                os.environ.pop(name, None)
        os.environ["K_SERVICE"] = function.replace("_", "-")
        bootstrap.reset()
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            bootstrap.reset()

    def add_response(self, d: Delivery) -> None:
        """The response behind an application delivery, as the Forms API will list it to the poller."""
        answers = application_answers(d.index, d.broken)
        self.forms.add(response_id(d.index, d.round), d.when, {QUESTION_IDS[t]: a for t, a in answers.items()})

    def app(self, function: str) -> Any:
        if function not in self.apps:
            import functions_framework

            self.apps[function] = functions_framework.create_app(function, str(ROOT / "functions" / function / "main.py"))
        return self.apps[function].test_client()

    def deliver(self, d: Delivery, stats: Stats, shift: dt.timedelta = dt.timedelta(0), job_suffix: str = "") -> int:
        """One HTTP request to the function at ``d.when + shift``; returns the HTTP status."""
        self.clock.at(d.when + shift)
        client = self.app(d.function)
        if d.kind == "cron":
            headers = {"X-CloudScheduler-JobName": f"{d.function}-job{job_suffix}",
                       "X-CloudScheduler-ScheduleTime": (d.when + shift).strftime("%Y-%m-%dT%H:%M:%SZ")}
            body = b""
        else:
            body = application_body(d.index, d.round, d.broken)
            headers = signed_headers(body)
        started = time.perf_counter()
        res = client.post("/", data=body, headers=headers)
        stats.seconds[d.function] += time.perf_counter() - started
        stats.invocations[d.function] += 1
        stats.statuses[res.status_code] += 1
        return int(res.status_code)

    def ops(self) -> dict[str, int]:
        from shared import bootstrap

        return dict(bootstrap.ops().as_dict())

    def external(self) -> tuple[Counter[str], int, int, int]:
        """(calls by kind, write calls, mails sent, recipients) so far, from the fakes."""
        calls: Counter[str] = Counter()
        for method, path in list(self.zoom.calls):
            calls["zoom token" if "/oauth/" in path else f"zoom {method}"] += 1
        for method, path, _ in list(self.cal.calls):
            calls["calendar token" if path == "/token" else f"calendar {method}"] += 1
        for method, path, _ in list(self.gmail.calls):
            calls["gmail token" if path.endswith("token") else f"gmail {method}"] += 1
        calls["slack POST"] = len(self.slack.posts)
        mails = len(self.gmail.sent)
        recipients = sum(len(s.message.get_all("To", []) or []) + len(s.message.get_all("Bcc", []) or [])
                         for s in self.gmail.sent)
        writes = self.zoom.writes() + self.cal.writes() + mails + len(self.slack.posts)
        return calls, writes, mails, recipients

    # ---------------------------------------------------------------- month
    def run_month(self, deliveries: list[Delivery], second: bool = False,
                  on_delivery: Callable[[World, Delivery, Stats], None] | None = None,
                  answer: Callable[[World, dt.datetime, Stats], None] | None = None) -> Stats:
        """Deliver the month. ``second``: the same month again, as new Scheduler runs (one minute later)
        and every application re-delivered: nothing new may reach anybody. ``on_delivery`` replaces
        the plain delivery (the chaos run's duplicates, concurrency and crashes); ``answer`` replaces
        the speakers' answers to their offers (the chaos run clicks the links)."""
        from shared import bootstrap

        stats = Stats()
        before_ops = self.ops()
        calls0, writes0, mails0, rcpt0 = self.external()
        started = time.perf_counter()
        shift = dt.timedelta(minutes=1) if second else dt.timedelta(0)
        if not second:
            self.clock.at(deliveries[0].when - dt.timedelta(hours=1))
            self.propose_speakers(deliveries[0].when - dt.timedelta(hours=1))
        last_day = None
        day_ops: tuple[str, dict[str, int]] | None = None
        for d in deliveries:
            today = d.when.astimezone(JST).date().isoformat()
            if bootstrap.ops.cache_info().currsize and (day_ops is None or day_ops[0] != today):
                if day_ops is not None:
                    self._close_day(stats, day_ops)
                day_ops = (today, self.ops())
            if on_delivery is not None:
                on_delivery(self, d, stats)
            else:
                self.deliver(d, stats, shift, "-again" if second else "")
            if d.function == "assign_speakers" and d.when.date() != last_day:
                last_day = d.when.date()
                self.clock.at(d.when + shift + dt.timedelta(hours=2))
                try:
                    if answer is not None:
                        answer(self, d.when + dt.timedelta(hours=2), stats)
                    else:
                        self.answer_offers(d.when + dt.timedelta(hours=2))
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:
                    if on_delivery is None:
                        raise
                    bootstrap.reset()  # the click's request failed (chaos): the speaker clicks again tomorrow
        if day_ops is not None and bootstrap.ops.cache_info().currsize:
            self._close_day(stats, day_ops)
        stats.wall_seconds = time.perf_counter() - started
        after_ops = self.ops() if bootstrap.ops.cache_info().currsize else before_ops
        stats.firestore.update({k: after_ops.get(k, 0) - before_ops.get(k, 0) for k in ("reads", "writes", "deletes")})
        calls, writes, mails, rcpt = self.external()
        stats.external = calls - calls0
        stats.external_writes, stats.mails, stats.mail_recipients = writes - writes0, mails - mails0, rcpt - rcpt0
        return stats

    def _close_day(self, stats: Stats, day_ops: tuple[str, dict[str, int]]) -> None:
        now = self.ops()
        stats.daily[day_ops[0]] = Counter({k: now.get(k, 0) - day_ops[1].get(k, 0) for k in ("reads", "writes", "deletes")})

    def idle_runs(self, function: str, when: dt.datetime, n: int = 3) -> dict[str, float]:
        """Ops and seconds of ``n`` further runs with nothing to do (the hourly runs between the month's)."""
        stats = Stats()
        before = self.ops()
        for i in range(n):
            self.deliver(Delivery(when + dt.timedelta(minutes=10 * (i + 1)), function, "cron"), stats, job_suffix="-idle")
        after = self.ops()
        return {**{k: (after.get(k, 0) - before.get(k, 0)) / n for k in ("reads", "writes", "deletes")},
                "seconds": stats.seconds[function] / n}

    # ------------------------------------------------------------ invariants
    def invariants(self) -> dict[str, Any]:
        """What must hold after recovery, counted from the fakes and Firestore."""
        from google.cloud import firestore

        from shared.domain.ids import calendar_event_id

        db = firestore.Client(project=self.project)
        slots = {d.id: d.to_dict() for d in db.collection("slots").stream()}
        online = [sid for sid, s in slots.items() if s.get("online") and s.get("status") == "scheduled" and s.get("host")
                  and (s.get("kind") != "speaker_night" or (s.get("speaker") or {}).get("status") == "confirmed")]
        meetings = {sid: len(self.zoom.by_marker(sid)) for sid in online}
        # live meetings no wanted event accounts for: an orphan of an unrecorded create, a second one
        wanted = set(online)
        left_behind = sum(1 for m in self.zoom.live()
                          if (marker := re.search(r"\[autopilot:([^\]]+)\]", m.get("agenda") or ""))
                          and marker.group(1) not in wanted) + sum(max(0, n - 1) for n in meetings.values())
        entries = {sid: 1 if self.cal.event(calendar_event_id(sid)) is not None else 0 for sid in slots
                   if slots[sid].get("status") == "scheduled"}
        extra_entries = len(self.cal.events) - sum(entries.values())
        intents: Counter[str] = Counter()
        for sent in self.gmail.sent:
            found = re.search(rb"^message-id:[ \t]*(\S+)", sent.raw, re.IGNORECASE | re.MULTILINE)
            intents[found.group(1).decode() if found else f"(none) {sent.id}"] += 1
        apps = {d.id: d.to_dict() or {} for d in db.collection("applications").stream()}
        applications = set(apps)
        final = {"needs_review", "incomplete", "approved", "rejected"}
        by_address: dict[str, set[str]] = {}
        for a in apps.values():
            by_address.setdefault(str((a.get("fields") or {}).get("email") or ""), set()).add(str(a.get("status")))
        from shared.platform.mail import message_id

        ledger: Counter[str] = Counter()
        sent_not_in_gmail = 0
        for d in db.collection("mail_intents").stream():
            rec = d.to_dict() or {}
            if str(rec.get("intent") or "").startswith(BACKLOG):
                continue  # the spent intents seeded before the month (chaos), not the month's mail
            ledger[str(rec.get("status"))] += 1
            if rec.get("status") == "sent" and message_id(str(rec.get("intent"))) not in intents:
                sent_not_in_gmail += 1
        set_aside = [d.to_dict() or {} for d in db.collection("form_set_aside").stream()]
        running = sum(1 for d in db.collection("decisions").stream() if (d.to_dict() or {}).get("status") == "running")
        return {"slots": len(slots), "online_events": len(online), "meetings": meetings, "entries": entries,
                "extra_entries": extra_entries, "mail_intents": intents, "applications": applications,
                "mail_ledger": ledger, "sent_not_in_gmail": sent_not_in_gmail, "meetings_left_behind": left_behind,
                "statuses_by_address": {k: sorted(v) for k, v in by_address.items()},
                "applicants_without_a_live_application": sorted(k for k, v in by_address.items() if not v & final),
                "set_aside": [(str(r.get("response_id")), str(r.get("status"))) for r in set_aside
                              if r.get("status") in ("open", "given_up")],
                "decisions_running": running}


def simulate(emulator_host: str, workdir: Path, members: int, days: int = DAYS,
             applications: int = APPLICATIONS) -> dict[str, Any]:
    """The month twice (the second time: target 0 external writes and 0 mails), plus idle-run costs."""
    import logging

    logging.getLogger("autopilot").setLevel(logging.ERROR)
    deliveries = plan(days, applications)
    with World(emulator_host, workdir, members) as world:
        seed_s = world.seed()
        first = world.run_month(deliveries)
        second = world.run_month(deliveries, second=True)
        idle = world.idle_runs("provision_events", deliveries[-1].when + dt.timedelta(hours=2))
        inv = world.invariants()
    return {"members": members, "days": days, "applications": applications, "seed_seconds": seed_s,
            "first": first, "second": second, "idle_provision": idle, "invariants": inv}
