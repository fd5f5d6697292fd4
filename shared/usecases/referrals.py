"""Referrals: invite links that credit the member who brought a colleague (docs/members.md).

- Every approved member gets a referral code (``members.referral_code``, ``referral_codes/<code>``)
  and an invite link, the membership form with the code pre-filled; it is in the welcome mail and on
  the member's settings page.
- An application records who referred it (``applications.referral``): the code (a code that is
  forged or belongs to nobody credits nobody, and the application goes on), else the "who introduced
  you" answer: an address that is a member's credits them; a name is only offered to the organizers
  as a hint (members whose name matches).
- On approval the referral is recorded once (``referrals/<new member id>``, with the month) and the
  referrer gets a thank-you when they agreed to such mails (consent ``referral_thanks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain import referrals as dr
from shared.domain.applications import EMAIL, email_key
from shared.domain.members import consent
from shared.platform import log, texts
from shared.platform.mail import Mailer, OutgoingMail, render
from shared.ports import DocStore

MEMBERS, CODES, REFERRALS = "members", "referral_codes", "referrals"
MAX_HINTS = 5
logger = log.get("referrals")


def month_of(moment: dt.datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def issue_code(store: DocStore, key: bytes, member_id: str, now: dt.datetime) -> str:
    """The member's code, registered once (a second call finds the same code)."""
    code = dr.referral_code(key, member_id)
    store.create(CODES, code, {"member_id": member_id, "created_at": now})
    return code


def invite_link(cfg: Config, member: Mapping[str, Any]) -> str | None:
    """The member's personal invite link, or None (no code yet, or no referral question configured)."""
    entry = cfg.members.referrals.entry()
    code = member.get("referral_code")
    if not (cfg.members.referrals.enabled and entry and code and cfg.applications):
        return None
    return dr.invite_url(cfg.applications.form_url, entry, str(code))


def resolve(store: DocStore, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Who referred an application, from its answers; ``by`` is None when nobody is credited."""
    out: dict[str, Any] = {"by": None, "by_name": None, "how": None, "code": None, "code_known": None, "hints": [],
                           "answer": str(fields.get("referrer") or "")[:200]}
    raw_code = str(fields.get("referral_code") or "").strip()
    if raw_code:
        code = dr.normalise_code(raw_code)
        out["code"] = code or raw_code[:40]
        holder = store.get(CODES, code) if code else None
        member_id = str(holder.get("member_id")) if holder else None
        referrer = store.get(MEMBERS, member_id) if member_id else None
        if member_id and referrer is not None:
            out.update(by=member_id, by_name=str(referrer.get("name") or ""), how="code", code_known=True)
            return out
        out["code_known"] = False  # forged, mistyped or of a member who left: nobody is credited
        logger.info("referral code not known", reason="unknown_code")
    answer = out["answer"]
    if not answer:
        return out
    found = EMAIL.search(answer)
    if found:
        member_id = email_key(found.group(0))
        referrer = store.get(MEMBERS, member_id)
        if referrer is not None:
            out.update(by=member_id, by_name=str(referrer.get("name") or ""), how="address")
            return out
    key = dr.name_key(EMAIL.sub("", answer))
    if key:
        out["hints"] = [{"id": m["id"], "name": str(m.get("name") or "")}
                        for m in store.query(MEMBERS, [("name_key", "==", key)], limit=MAX_HINTS)]
    return out


def record_approval(cfg: Config, store: DocStore, mailer: Mailer, new_id: str, member: Mapping[str, Any],
                    application: Mapping[str, Any], now: dt.datetime,
                    settings_link: Any = None) -> str | None:
    """Record who brought the new member (once) and thank the referrer if they agreed to it.
    Returns the referrer's id or None. ``settings_link(member_id, member)``: the referrer's own page."""
    ref = application.get("referral") or {}
    by = ref.get("by")
    if not by or by == new_id:
        return None
    referrer = store.get(MEMBERS, str(by))
    if referrer is None:
        return None
    month = month_of(now, cfg.community.timezone)
    store.create(REFERRALS, new_id, {"referrer": by, "member": new_id, "how": ref.get("how"), "at": now, "month": month})
    store.update(MEMBERS, new_id, {"referred_by": by})
    if consent(referrer, "referral_thanks") and referrer.get("email"):
        locale = texts.normalise(referrer.get("locale"), cfg.community.locale)
        r = render("referral_thanks", locale, community=cfg.community.name, name=str(referrer.get("name") or ""),
                   newcomer=str(member.get("name") or ""), invite_url=invite_link(cfg, referrer) or "",
                   settings_url=settings_link(str(by), referrer) if settings_link else "")
        mailer.send(OutgoingMail(to=(str(referrer["email"]),), subject=r.subject, text=r.text, html=r.html,
                                 intent=f"referral:{new_id}:thanks", locale=locale))
    logger.info("referral recorded", reason=str(ref.get("how")))
    return str(by)


def month_summary(cfg: Config, store: DocStore, month: str, cap: int, with_ids: bool = False) -> dict[str, Any]:
    """Referrals in ``month`` (a count aggregation) and, for referrers who agreed to be shown
    (consent ``referral_shown``), who brought whom: at most ``cap`` listed, the rest counted
    (``with_ids``: each pair also names its documents, ``referrer_id`` and ``member_id``, for the console)."""
    total = store.count(REFERRALS, [("month", "==", month)])
    shown: list[dict[str, str]] = []
    if total:
        for r in store.query(REFERRALS, [("month", "==", month)], limit=cap):
            referrer = store.get(MEMBERS, str(r.get("referrer")))
            if not consent(referrer, "referral_shown"):
                continue
            newcomer = store.get(MEMBERS, str(r.get("member"))) or {}
            pair = {"referrer": str((referrer or {}).get("name") or ""), "member": str(newcomer.get("name") or "")}
            if with_ids:
                pair.update(referrer_id=str(r.get("referrer")), member_id=str(r.get("member")))
            shown.append(pair)
    return {"month": month, "count": total, "shown": shown}


def months(now: dt.datetime, zone: str, n: int) -> list[str]:
    """This month and the ``n - 1`` before it, newest first (``YYYY-MM``)."""
    local = now.astimezone(ZoneInfo(zone))
    year, month, out = local.year, local.month, []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out

