"""One-click actions behind signed links: a registry plus the GET-confirm / POST-perform flow.

A colleague adds an action with :func:`register`::

    register("accept_offer", accept_offer, group="offer")

(its button text is ``actions.button.accept_offer`` in every ``shared/templates/<locale>/texts/actions.yaml``;
the handler returns the sentence shown after success, ``texts.t(ctx.locale, ...)``)
and mails a link from :func:`link` (``ACTIONS_BASE_URL?t=<token>``). The ``actions`` function then:

- ``GET``: verifies the token and shows a small confirmation page with one button (mail scanners and
  link prefetchers only GET, so they never consume a single-use token);
- ``POST``: verifies again, claims the decision on ``(group, subject)`` (first decision wins:
  approve and reject of one application share the group) and the token's nonce (single use), runs
  the handler, and shows the outcome. A later click shows who decided what, and when; a refused
  one writes nothing.

Exclusivity rests on two Firestore ``create()`` claims (``decisions/<group>:<subject>`` and
``action_nonces/<nonce>``), never on transactions. A handler that raises releases both
claims so the person can try again; handlers must therefore be idempotent themselves (create()
their records, send mail through the exactly-once mailer). :class:`ActionRefused` from a handler
also releases the claims and shows its message with 409.

A decision is ``running`` under a lease (``LEASE``, like the cron runs' records). When the instance
dies inside the handler, the lease runs out and the decision is recovered, by exactly one caller
(a ``create()`` claim named after the dead holder's token): a later click on any of the group's
links, or the sweep the poller runs every 30 minutes (:meth:`ActionService.sweep`). Recovery runs
the *recorded* decision's handler again, as its actor chose it: done, or released when it refuses
(docs/applications.md, "Decisions by link").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from shared.platform import env, texts, tokens
from shared.ports import DocStore

NONCES = "action_nonces"
DECISIONS = "decisions"
RUNNING, DONE = "running", "done"
LEASE = dt.timedelta(minutes=5)  # longer than a handler's mails (Gmail: 90 s each); >= assign.STALE_CLAIM


class ActionRefused(Exception):
    """The handler will not do it (e.g. the application is incomplete); the message is shown."""


@dataclass(frozen=True)
class ActionContext:
    claims: tokens.Claims
    actor: str | None  # the chosen actor id (see ``actors``), else None
    actor_name: str | None
    now: dt.datetime
    locale: str = texts.DEFAULT_LOCALE  # the page's language: sentences a handler returns are in it


@dataclass(frozen=True)
class Action:
    name: str
    handler: Callable[[ActionContext], str]  # returns the sentence shown after success
    group: str
    describe: Callable[[tokens.Claims, str], str] | None = None  # what the confirmation page says (claims, locale)
    actors: Callable[[tokens.Claims], Sequence[tuple[str, str]]] | None = None  # (id, name) choices


_REGISTRY: dict[str, Action] = {}


def register(action_name: str, handler: Callable[[ActionContext], str], *, group: str | None = None,
             describe: Callable[[tokens.Claims, str], str] | None = None,
             actors: Callable[[tokens.Claims], Sequence[tuple[str, str]]] | None = None) -> Action:
    """Add (or replace) an action. ``group``: actions that decide the same thing (default: the name).
    Its button says ``actions.button.<action_name>`` of the catalog."""
    action = Action(action_name, handler, group or action_name, describe, actors)
    _REGISTRY[action_name] = action
    return action


def registered(action_name: str) -> Action | None:
    return _REGISTRY.get(action_name)


def names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def button(action_name: str, locale: str) -> str:
    return texts.t(locale, f"actions.button.{action_name}")


def link(key: bytes, subject: str, action: str, now: dt.datetime, ttl: dt.timedelta = tokens.DEFAULT_TTL,
         base_url: str | None = None) -> str:
    """The URL to put in a mail."""
    from shared.platform import links

    base = base_url or links.base(env.ACTIONS_BASE_URL)
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'t': tokens.issue(key, subject, action, now, ttl)})}"


def claim_nonce(store: DocStore, claims: tokens.Claims, now: dt.datetime) -> bool:
    """Make the token single use: True for the first caller only (Firestore create())."""
    return store.create(NONCES, _doc_id(claims.nonce), {"subject": claims.subject, "action": claims.action,
                                                        "used_at": now, "expires_at": claims.expires_at})


def _doc_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def decision_id(group: str, subject: str) -> str:
    return _doc_id(f"{group}:{subject}")


@dataclass(frozen=True)
class Page:
    """What the ``actions`` function shows: status code, a title, sentences, and maybe a form."""

    status: int
    title: str
    lines: tuple[str, ...] = ()
    form: dict[str, Any] | None = None  # {"token", "button", "actors": [(id, name)]}
    extra: dict[str, Any] = field(default_factory=dict)


class ActionService:
    """The flow behind the ``actions`` function; pure apart from the store and the handlers."""

    def __init__(self, store: DocStore, key: bytes, locale: str = "ja", zone: str = "Asia/Tokyo") -> None:
        self.store, self.key, self.zone = store, key, zone
        self.locale = texts.normalise(locale)

    def t(self, key: str, **values: Any) -> str:
        return texts.t(self.locale, f"actions.page.{key}", **values)

    def _check(self, token: str, now: dt.datetime) -> tuple[tokens.Claims, Action] | Page:
        try:
            claims = tokens.verify(self.key, token, now)
        except tokens.TokenError as exc:
            when = texts.fmt_datetime(self.locale, exc.expires_at, self.zone) if exc.expires_at else ""
            line = texts.t(self.locale, f"actions.token.{exc.kind}", when=when)
            return Page(410 if exc.kind == "expired" else 400 if exc.kind == "malformed" else 403, self.t("bad"),
                        (line,), extra={"reason": exc.kind})
        action = _REGISTRY.get(claims.action)
        if action is None:
            return Page(404, self.t("bad"), (self.t("unknown"),), extra={"reason": "wrong_action"})
        return claims, action

    def _decided_page(self, action: Action, claims: tokens.Claims, status: int) -> Page:
        record = self.store.get(DECISIONS, decision_id(action.group, claims.subject)) or {}
        when = record.get("decided_at")
        when_text = texts.fmt_datetime(self.locale, when, self.zone) if isinstance(when, dt.datetime) else "?"
        chosen = _REGISTRY.get(str(record.get("action")))
        what = button(chosen.name, self.locale) if chosen else str(record.get("action", "?"))
        who = record.get("actor_name") or self.t("someone")
        return Page(status, self.t("decided"), (self.t("decided_line", when=when_text, who=who, what=what),),
                    extra={"reason": "decided", "decided_action": record.get("action")})

    def show(self, token: str, now: dt.datetime) -> Page:
        """GET: verify and show the confirmation form (or who decided already). Writes nothing."""
        checked = self._check(token, now)
        if isinstance(checked, Page):
            return checked
        claims, action = checked
        if self.store.get(DECISIONS, decision_id(action.group, claims.subject)) is not None:
            return self._decided_page(action, claims, 200)
        lines = (action.describe(claims, self.locale),) if action.describe else ()
        choices = list(action.actors(claims)) if action.actors else []
        return Page(200, self.t("confirm"), lines, form={"token": token, "button": button(action.name, self.locale),
                                                         "actors": choices, "actor_label": self.t("choose_actor")})

    def perform(self, token: str, actor: str | None, now: dt.datetime) -> Page:
        """POST: first decision wins, single use, then the handler. A refusal writes nothing."""
        checked = self._check(token, now)
        if isinstance(checked, Page):
            return checked
        claims, action = checked
        actor_name = None
        if action.actors:
            names = dict(action.actors(claims))
            if actor not in names:
                return Page(400, self.t("bad"), (self.t("actor_needed"),), extra={"reason": "actor"})
            actor_name = names[actor]
        return self._decide(action, claims, actor, actor_name, now, single_use=True)

    def decide(self, action_name: str, subject: str, actor: str, actor_name: str, now: dt.datetime) -> Page:
        """The decision a link's POST makes, for a person who is signed in elsewhere (the console): the
        same handler behind the same ``decisions/<group>:<subject>`` claim, so the first decision wins
        whoever clicks where. No token, so no nonce to use up: the caller has checked who the person is."""
        action = _REGISTRY.get(action_name)
        if action is None:
            return Page(404, self.t("bad"), (self.t("unknown"),), extra={"reason": "wrong_action"})
        claims = tokens.Claims(subject, action_name, now + dt.timedelta(days=1), f"direct:{uuid.uuid4().hex}")
        return self._decide(action, claims, actor, actor_name, now, single_use=False)

    def _decide(self, action: Action, claims: tokens.Claims, actor: str | None, actor_name: str | None,
                now: dt.datetime, single_use: bool) -> Page:
        did = decision_id(action.group, claims.subject)
        existing = self.store.get(DECISIONS, did)
        if existing is not None:
            if _expired(existing, now):
                recovered = self._recover(did, existing, now)
                if recovered is not None and existing.get("action") == action.name:
                    return recovered
            return self._decided_page(action, claims, 409)
        record = {"group": action.group, "subject": claims.subject, "action": action.name, "actor": actor,
                  "actor_name": actor_name, "decided_at": now, "nonce": claims.nonce, "status": RUNNING,
                  "token": uuid.uuid4().hex, "lease_until": now + LEASE, "expires_at_token": claims.expires_at}
        if not self.store.create(DECISIONS, did, record):
            return self._decided_page(action, claims, 409)
        if single_use and not claim_nonce(self.store, claims, now):  # the decision was released and this token used meanwhile
            self.store.delete(DECISIONS, did)
            return self._decided_page(action, claims, 409)
        return self._run(did, action, claims, actor, actor_name, now)

    def _run(self, did: str, action: Action, claims: tokens.Claims, actor: str | None, actor_name: str | None,
             now: dt.datetime) -> Page:
        try:
            message = action.handler(ActionContext(claims, actor, actor_name, now, self.locale))
        except ActionRefused as exc:
            self._release(did, claims)
            return Page(409, self.t("refused"), (str(exc),), extra={"reason": "refused"})
        except Exception:
            self._release(did, claims)
            raise
        self.store.update(DECISIONS, did, {"status": DONE, "done_at": now})
        return Page(200, self.t("done"), (message,), extra={"reason": "done"})

    def _recover(self, did: str, record: dict[str, Any], now: dt.datetime) -> Page | None:
        """Finish a decision whose holder died inside the handler (its lease ran out): exactly one
        caller takes it over and runs the recorded action's handler again. None: somebody else has it,
        or the recorded action is unknown now."""
        action = _REGISTRY.get(str(record.get("action")))
        holder = str(record.get("token") or record.get("nonce") or "")
        if action is None or not self.store.create(NONCES, _doc_id(f"takeover:{did}:{holder}"),
                                                   {"decision": did, "at": now, "expires_at": now + dt.timedelta(days=30)}):
            return None
        token = uuid.uuid4().hex
        self.store.update(DECISIONS, did, {"token": token, "lease_until": now + LEASE, "recovered_at": now})
        expires = record.get("expires_at_token") or now + dt.timedelta(days=1)
        claims = tokens.Claims(str(record.get("subject")), action.name, expires, str(record.get("nonce") or ""))
        return self._run(did, action, claims, record.get("actor"), record.get("actor_name"), now)

    def sweep(self, now: dt.datetime, limit: int = 20) -> dict[str, int]:
        """Recover every ``running`` decision whose lease ran out (the poller calls this): counts of
        finished / released (the handler refused or failed) / busy (another caller has it)."""
        counts: dict[str, int] = {}
        for record in self.store.query(DECISIONS, [("status", "==", RUNNING)], limit=limit):
            if not _expired(record, now):
                continue
            try:
                page = self._recover(str(record["id"]), record, now)
            except Exception:  # released by _run; the person can click again
                page = Page(500, "", extra={"reason": "failed"})
            outcome = "busy" if page is None else "finished" if page.status == 200 else "released"
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def _release(self, did: str, claims: tokens.Claims) -> None:
        self.store.delete(DECISIONS, did)
        self.store.delete(NONCES, _doc_id(claims.nonce))


def _expired(record: Mapping[str, Any], now: dt.datetime) -> bool:
    """A ``running`` decision past its lease (records from before the lease: ``decided_at`` + LEASE)."""
    if record.get("status") != RUNNING:
        return False
    until = record.get("lease_until") or (record.get("decided_at") or now) + LEASE
    return bool(until <= now)

