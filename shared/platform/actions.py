"""One-click actions behind signed links: a registry plus the GET-confirm / POST-perform flow.

A colleague adds an action with :func:`register`::

    register("accept_offer", accept_offer, group="offer")

(its button text is ``actions.button.accept_offer`` in every ``shared/templates/<locale>/texts.yaml``;
the handler returns the sentence shown after success, ``texts.t(ctx.locale, ...)``)
and mails a link from :func:`link` (``ACTIONS_BASE_URL?t=<token>``). The ``actions`` function then:

- ``GET``: verifies the token and shows a small confirmation page with one button (mail scanners and
  link prefetchers only GET, so they never consume a single-use token);
- ``POST``: verifies again, claims the token's nonce (single use) and the decision on
  ``(group, subject)`` (first decision wins: approve and reject of one application share the group),
  runs the handler, and shows the outcome. A later click shows who decided what, and when.

Exclusivity rests on two Firestore ``create()`` claims (``action_nonces/<nonce>`` and
``decisions/<group>:<subject>``), never on transactions. A handler that raises releases both
claims so the person can try again; handlers must therefore be idempotent themselves (create()
their records, send mail through the exactly-once mailer). :class:`ActionRefused` from a handler
also releases the claims and shows its message with 409.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from shared.platform import env, texts, tokens
from shared.ports import DocStore

NONCES = "action_nonces"
DECISIONS = "decisions"


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
    base = base_url or os.environ.get(env.ACTIONS_BASE_URL) or "http://localhost:8080/"
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
        """POST: single use, first decision wins, then the handler."""
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
        if not claim_nonce(self.store, claims, now):
            return self._decided_page(action, claims, 409)
        did = decision_id(action.group, claims.subject)
        record = {"group": action.group, "subject": claims.subject, "action": action.name, "actor": actor,
                  "actor_name": actor_name, "decided_at": now, "nonce": claims.nonce, "status": "running"}
        if not self.store.create(DECISIONS, did, record):
            return self._decided_page(action, claims, 409)
        try:
            message = action.handler(ActionContext(claims, actor, actor_name, now, self.locale))
        except ActionRefused as exc:
            self._release(did, claims)
            return Page(409, self.t("refused"), (str(exc),), extra={"reason": "refused"})
        except Exception:
            self._release(did, claims)
            raise
        self.store.update(DECISIONS, did, {"status": "done"})
        return Page(200, self.t("done"), (message,), extra={"reason": "done"})

    def _release(self, did: str, claims: tokens.Claims) -> None:
        self.store.delete(DECISIONS, did)
        self.store.delete(NONCES, _doc_id(claims.nonce))

