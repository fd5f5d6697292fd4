"""Members look after their own opt-ins and directory entry (docs/members.md).

The page behind ``<actions URL>/me?t=<token>`` (``shared/entrypoints/member_page.py``) calls these.
A member's link is long-lived and personal: a signed token (``ACTION_LINK_KEY``, the key of every
action link) for the subject ``members/<email key>`` and the action ``me:<link_version>``. It is not
single use (a member comes back to the page), so a forwarded or leaked link is ended by raising
``link_version`` (the "replace my link" button, or ``autopilot members revoke-link``): every
earlier link is then refused and a new one is mailed to the member. Each personal mail carries a
fresh link valid ``members.link_ttl_days``; bulk mails, which cannot carry a personal link (one
message for many), link to ``/me`` where a member asks for theirs by address.

Every consent change is written to the member (``consents.<name> = {value, at, source}``, one
field path each, so two changes never overwrite each other) and appended to ``consent_events``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain import members as dm
from shared.domain.applications import EMAIL, email_key
from shared.platform import env, links, log, texts, tokens
from shared.platform.mail import Mailer, OutgoingMail, render
from shared.ports import DocStore
from shared.usecases.referrals import invite_link

MEMBERS, CONSENT_EVENTS = "members", "consent_events"
ME_ACTION = "me"
PAGE_PATH = "/me"
_MEMBER_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
logger = log.get("members")


@dataclass(frozen=True)
class Deps:
    config: Config
    store: DocStore
    mailer: Mailer
    key: bytes
    base_url: str | None = None  # ACTIONS_BASE_URL: the actions function


class LinkRefused(Exception):
    """A settings link that cannot be used: ``kind`` malformed | tampered | expired | revoked | unknown."""

    def __init__(self, kind: str, when: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.when = when

    @property
    def status(self) -> int:
        return {"malformed": 400, "expired": 410, "unknown": 404}.get(self.kind, 403)


# --- links ------------------------------------------------------------------------------------


def page_url(base_url: str | None, **query: str) -> str:
    """``<actions function>/me`` with ``query``; the local default is http://localhost:8080/me."""
    parts = urlsplit(base_url or links.base(env.ACTIONS_BASE_URL))
    path = parts.path.rstrip("/") + PAGE_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query) if query else "", ""))


def member_token(key: bytes, member_id: str, member: Mapping[str, Any], now: dt.datetime, ttl_days: int) -> str:
    version = int(member.get("link_version") or 0)
    return tokens.issue(key, member_id, f"{ME_ACTION}:{version}", now, dt.timedelta(days=ttl_days))


def member_link(deps: Deps, member_id: str, member: Mapping[str, Any], now: dt.datetime) -> str:
    """The member's own settings page, for a personal mail."""
    return page_url(deps.base_url, t=member_token(deps.key, member_id, member, now, deps.config.members.link_ttl_days))


def general_link(base_url: str | None) -> str:
    """The page where a member asks for their link: what bulk mails carry."""
    return page_url(base_url)


def open_link(deps: Deps, token: str, now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """(member id, member) for a valid link; :class:`LinkRefused` otherwise. Reads one document."""
    try:
        claims = tokens.verify(deps.key, token, now)
    except tokens.TokenError as exc:
        raise LinkRefused(exc.kind, exc.when) from None
    action, _, version = claims.action.partition(":")
    if action != ME_ACTION or not version.isdigit():
        raise LinkRefused("tampered")
    if not _MEMBER_ID.fullmatch(claims.subject):  # ours are email keys; anything else names no document
        raise LinkRefused("unknown")
    member = deps.store.get(MEMBERS, claims.subject)
    if member is None:
        raise LinkRefused("unknown")
    if int(version) != int(member.get("link_version") or 0):
        raise LinkRefused("revoked")
    return claims.subject, member


# --- consents and the directory entry --------------------------------------------------------------


def _event_id(member_id: str, name: str, at: dt.datetime, source: str) -> str:
    return hashlib.sha256(f"{member_id}|{name}|{at.isoformat()}|{source}".encode()).hexdigest()[:40]


def set_consents(store: DocStore, member_id: str, wanted: Mapping[str, bool], source: str, now: dt.datetime,
                 member: Mapping[str, Any] | None = None) -> list[str]:
    """Store the consents that change (time and source each; the others keep theirs). Returns the
    names changed; an unknown member changes nothing. Other features call this too (one-click
    unsubscribe: ``source="unsubscribe"``)."""
    for name in wanted:
        dm.consent_path(name)  # unknown names are a caller's bug: raise before writing
    current = member if member is not None else store.get(MEMBERS, member_id)
    if current is None:
        return []
    changed = [name for name, value in wanted.items() if dm.consent(current, name) != bool(value)
               or not isinstance((current.get("consents") or {}).get(name), Mapping)]
    if not changed:
        return []
    updates: dict[str, Any] = {f"consents.{n}": dm.consent_record(bool(wanted[n]), now, source) for n in changed}
    if "directory" in changed:  # the newsletter's featured entries are drawn from these (docs/newsletter.md)
        updates["directory_pick"] = dm.directory_pick(member_id) if wanted["directory"] else None
    for name in changed:  # an older record's field is emptied: ``consents`` alone speaks from now on
        legacy = dm.LEGACY_FIELDS.get(name)
        if legacy and current.get(legacy) is not None:
            updates[legacy] = None
    if not store.update(MEMBERS, member_id, updates):
        return []
    for name in changed:
        store.create(CONSENT_EVENTS, _event_id(member_id, name, now, source),
                     {"member_id": member_id, "name": name, "value": bool(wanted[name]), "at": now, "source": source})
    logger.info("consents changed", outcome=",".join(sorted(changed)), reason=source)
    return changed


def save_settings(deps: Deps, member_id: str, member: Mapping[str, Any], wanted: Mapping[str, bool],
                  entry: Mapping[str, Any] | None, now: dt.datetime) -> list[str]:
    """The page's save: every consent shown, and the directory entry when the directory consent is
    yes. Raises :class:`shared.domain.members.EntryError` (nothing written) for a bad entry."""
    cleaned = dm.directory_entry(entry or {}, strict=True) if wanted.get("directory") else None
    changed = set_consents(deps.store, member_id, wanted, "self_service", now, member)
    if cleaned is not None:
        old = member.get("directory") if isinstance(member.get("directory"), Mapping) else {}
        if dict(old or {}) != cleaned:
            deps.store.update(MEMBERS, member_id, {"directory": cleaned, "directory_updated_at": now})
            changed.append("directory_entry")
    elif not wanted.get("directory") and member.get("directory"):
        deps.store.update(MEMBERS, member_id, {"directory": None, "directory_updated_at": now})
        changed.append("directory_entry")
    return changed


def remove_entry(deps: Deps, member_id: str, member: Mapping[str, Any], now: dt.datetime) -> list[str]:
    """Out of the directory: the consent becomes no and the entry's texts are deleted."""
    changed = set_consents(deps.store, member_id, {"directory": False}, "self_service", now, member)
    if member.get("directory"):
        deps.store.update(MEMBERS, member_id, {"directory": None, "directory_updated_at": now})
        changed.append("directory_entry")
    return changed


def _locale(deps: Deps, member: Mapping[str, Any]) -> str:
    """The member's language; the community's own locale when it is that language (its regional formats)."""
    own = deps.config.community.locale
    loc = texts.normalise(member.get("locale"), own)
    return own if texts.language(loc) == texts.language(own) else loc


def _send_link(deps: Deps, member_id: str, member: Mapping[str, Any], now: dt.datetime, intent: str) -> bool:
    locale = _locale(deps, member)
    ttl = deps.config.members.link_ttl_days
    r = render("member_link", locale, community=deps.config.community.name, name=str(member.get("name") or ""),
               url=member_link(deps, member_id, member, now),
               expires=texts.fmt_date(locale, (now + dt.timedelta(days=ttl)).astimezone(ZoneInfo(deps.config.community.timezone)).date()))
    return deps.mailer.send(OutgoingMail(to=(str(member["email"]),), subject=r.subject, text=r.text, html=r.html,
                                         intent=intent, locale=locale))


def revoke_link(deps: Deps, member_id: str, member: Mapping[str, Any], now: dt.datetime, mail: bool = True) -> int:
    """End every link issued so far; a new one goes to the member's address. Returns the new version."""
    version = int(member.get("link_version") or 0) + 1
    deps.store.update(MEMBERS, member_id, {"link_version": version, "link_revoked_at": now})
    if mail and member.get("email"):
        _send_link(deps, member_id, {**member, "link_version": version}, now, f"member:{member_id}:link:v{version}")
    logger.info("member link replaced", outcome=f"v{version}")
    return version


def request_link(deps: Deps, address: str, now: dt.datetime) -> bool:
    """Someone typed an address on ``/me``: a member gets their link, at most once a day. The answer
    never says whether the address is a member's (the page shows the same sentence). True: mailed."""
    address = address.strip()
    if not address or len(address) > 320 or not EMAIL.fullmatch(address):
        raise ValueError("not an e-mail address")
    member_id = email_key(address)
    member = deps.store.get(MEMBERS, member_id)
    if member is None or not member.get("email"):
        return False
    day = now.astimezone(ZoneInfo(deps.config.community.timezone)).date().isoformat()
    return _send_link(deps, member_id, member, now, f"member:{member_id}:link-request:{day}")


def page_view(deps: Deps, member_id: str, member: Mapping[str, Any], token: str) -> dict[str, Any]:
    """What the page shows: the member's name, every consent, the directory entry."""
    raw = member.get("directory")
    entry = dm.directory_entry(raw if isinstance(raw, Mapping) else {})
    return {"name": str(member.get("name") or ""), "consents": dm.consents_of(member), "entry": entry,
            "has_entry": dm.has_entry(member), "token": token, "locale": _locale(deps, member),
            "community": deps.config.community.name, "invite_url": invite_link(deps.config, member)}


# --- the organizer side --------------------------------------------------------------------------


def migrate_legacy(store: DocStore, now: dt.datetime, limit: int = 100_000) -> int:
    """Rewrite records that carry ``prompt_opt_in`` / ``directory_opt_in`` into ``consents`` (source
    ``migration``, dated when the member joined); idempotent. Returns the members rewritten."""
    done: set[str] = set()
    for legacy in dm.LEGACY_FIELDS.values():
        for m in store.query(MEMBERS, [(legacy, "in", [True, False])], limit=limit):
            if m["id"] in done:
                continue
            joined = m.get("joined_at")
            at = joined if isinstance(joined, dt.datetime) else now
            updates: dict[str, Any] = {}
            for name, old in dm.LEGACY_FIELDS.items():
                if old in m and not isinstance((m.get("consents") or {}).get(name), Mapping):
                    updates[f"consents.{name}"] = dm.consent_record(m.get(old) is True, at, "migration")
            # a consent given since then wins over the old field; the old fields are emptied either way
            updates.update({old: None for old in dm.LEGACY_FIELDS.values() if old in m})
            store.update(MEMBERS, m["id"], updates)
            done.add(m["id"])
    return len(done)



# --- one-click unsubscribe from a bulk mail (RFC 8058) ------------------------------------------------

# The bulk mails a member can leave with one click, by the consent each one rests on. One mechanism
# for all of them: a signed link per member (``/u`` of the ``events`` function), in the
# ``List-Unsubscribe`` header and visibly in the body (docs/members.md, "Unsubscribe").
UNSUBSCRIBABLE = ("announcements", "weekly_prompt", "newsletter")
UNSUBSCRIBE_TTL = dt.timedelta(days=365)


def unsubscribe_action(consent_name: str) -> str:
    return f"unsubscribe_{consent_name}"


def unsubscribe_headers(key: bytes, events_base_url: str, member_id: str, consent_name: str, now: dt.datetime,
                        mailto: str = "") -> tuple[dict[str, str], str]:
    """``List-Unsubscribe`` (the signed https link, then ``mailto:`` when given) and
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; and the link, for the mail's body.
    A POST to the link withdraws the consent at once (no further step: Gmail asks exactly that of
    bulk senders); a GET shows a button, since link scanners GET."""
    from urllib.parse import quote, urlencode

    if consent_name not in UNSUBSCRIBABLE:
        raise ValueError(f"{consent_name!r} is not a list one can unsubscribe from")
    token = tokens.issue(key, member_id, unsubscribe_action(consent_name), now, UNSUBSCRIBE_TTL)
    url = f"{events_base_url.rstrip('/')}/u?{urlencode({'t': token})}"
    value = f"<{url}>" + (f", <mailto:{mailto}?subject={quote('unsubscribe ' + consent_name)}>" if mailto else "")
    return {"List-Unsubscribe": value, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}, url


def unsubscribe_mailto(cfg: Config) -> str:
    """The ``mailto:`` of ``List-Unsubscribe`` (RFC 2369): the first Reply-To address (the organizers
    act on such a mail by hand: docs/members.md, "Unsubscribe")."""
    from shared.platform.mail import parse_address

    for address in cfg.reply_to:
        try:
            return parse_address(address).addr_spec
        except ValueError:
            continue
    return ""


def unsubscribe_claims(key: bytes, token: str, now: dt.datetime) -> tuple[tokens.Claims, str]:
    """The verified link and the consent it withdraws; :class:`tokens.TokenError` otherwise."""
    claims = tokens.verify(key, token, now)
    for name in UNSUBSCRIBABLE:
        if claims.action == unsubscribe_action(name):
            return claims, name
    raise tokens.TokenError("wrong_action", "the link is for another action")


def unsubscribe(store: DocStore, key: bytes, token: str, now: dt.datetime) -> tuple[bool, str]:
    """Withdraw the consent the link names (source ``unsubscribe``). (False, name) when the member
    is gone; :class:`tokens.TokenError` for a bad link."""
    claims, name = unsubscribe_claims(key, token, now)
    member = store.get(MEMBERS, claims.subject)
    if member is None:
        return False, name
    set_consents(store, claims.subject, {name: False}, "unsubscribe", now, member)
    return True, name
