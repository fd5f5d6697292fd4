"""The interview pipeline (docs/newsletter.md): ideas for interviews and articles, from idea to published.

``interviews/<id>``: the member, the angle, the state ``idea -> asked -> agreed -> drafted -> published``
(or ``declined``), the link, and every change with its time and who made it. Moving to ``asked`` mails
the member a request with two signed links (agree / not this time, ``interview_agree`` /
``interview_decline`` in the actions registry); their answer is the consent, recorded with its time
(``consent = {value, at, source}``) and moves the piece to ``agreed`` or ``declined``. Nothing goes
past ``agreed`` without that consent. ``published`` needs the link; published pieces are listed on
the events site (``/stories`` and the list page, through :func:`shared.usecases.stories.published`)
and go into the next newsletter (``newsletter_pending``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.platform import log, texts
from shared.platform.mail import Mailer, OutgoingMail, render
from shared.ports import DocStore
from shared.usecases.stories import consented
from shared.usecases.stories import published as published  # the public pages' list (docs/newsletter.md)

INTERVIEWS, MEMBERS = "interviews", "members"
STATES = ("idea", "asked", "agreed", "drafted", "published")
DECLINED = "declined"
AGREE, DECLINE = "interview_agree", "interview_decline"
logger = log.get("interviews")
CONSENT_TTL = dt.timedelta(days=30)  # how long the request mail's consent links work (the mail says until when)


class InterviewError(ValueError):
    """A move the pipeline does not allow; the message says why, ``code`` is stable (the console's words)."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Deps:
    config: Config
    store: DocStore
    mailer: Mailer
    consent_link: Callable[[str, str, dt.datetime], str] | None = None  # (interview id, action, now) -> URL


def add(store: DocStore, member_id: str, angle: str, now: dt.datetime, title: str = "", by: str | None = None) -> str:
    member = store.get(MEMBERS, member_id)
    if member is None:
        raise InterviewError("no member with that address", "unknown_member")
    angle = re.sub(r"\s+", " ", angle).strip()[:300]
    if not angle:
        raise InterviewError("give the angle: what the piece is about", "angle")
    iid = "iv_" + hashlib.sha256(f"{member_id}|{angle}".encode()).hexdigest()[:16]
    record = {"member_id": member_id, "member_name": str(member.get("name") or ""), "angle": angle,
              "title": (title or angle)[:200], "state": "idea", "link": "", "consent": None, "newsletter_pending": False,
              "created_at": now, "history": [{"state": "idea", "at": now, "by": by}]}
    if not store.create(INTERVIEWS, iid, record):
        raise InterviewError("this idea for this member is already in the pipeline", "interview_exists")
    return iid


def move(deps: Deps, iid: str, state: str, now: dt.datetime, by: str | None = None, link: str = "") -> dict[str, Any]:
    """One step along the pipeline; moving to ``asked`` mails the member the consent request (once)."""
    piece = deps.store.get(INTERVIEWS, iid)
    if piece is None:
        raise InterviewError(f"no interview {iid!r}", "unknown_interview")
    if state not in STATES:
        raise InterviewError(f"{state!r} is not a state ({' -> '.join(STATES)})", "bad_state")
    current = str(piece.get("state"))
    if current == DECLINED:
        raise InterviewError("the member declined this one", "interview_declined")
    if STATES.index(state) != STATES.index(current) + 1 and state != current:
        raise InterviewError(f"from {current} the next step is {STATES[STATES.index(current) + 1]}"
                             if current != STATES[-1] else "already published", "next_step")
    if state == "agreed" and not consented(piece):
        raise InterviewError("agreed comes from the member's own answer to the request (their consent link)", "needs_consent")
    changes: dict[str, Any] = {"state": state, "history": [*piece.get("history", []), {"state": state, "at": now, "by": by}]}
    if state == "published":
        if not re.fullmatch(r"https?://\S+", link or str(piece.get("link") or "")):
            raise InterviewError("published needs the link to the piece (https://...)", "link")
        changes["link"] = link or piece.get("link")
        if current != "published":  # published again (a corrected link): not news twice
            changes.update(published_at=now, newsletter_pending=True)
    deps.store.update(INTERVIEWS, iid, changes)
    if state == "asked":
        _ask(deps, iid, piece, now)
    logger.info("interview moved", outcome=state)
    return {**piece, **changes}


def _ask(deps: Deps, iid: str, piece: Mapping[str, Any], now: dt.datetime) -> None:
    member = deps.store.get(MEMBERS, str(piece["member_id"])) or {}
    if not member.get("email"):
        return
    locale = texts.normalise(member.get("locale"), deps.config.community.locale)
    links = {a: deps.consent_link(iid, a, now) if deps.consent_link else "" for a in (AGREE, DECLINE)}
    answer_by = texts.fmt_date(locale, (now + CONSENT_TTL).astimezone(ZoneInfo(deps.config.community.timezone)).date())
    r = render("interview_request", locale, community=deps.config.community.name, name=str(member.get("name") or ""),
               angle=str(piece.get("angle") or ""), agree_url=links[AGREE], decline_url=links[DECLINE], answer_by=answer_by)
    deps.mailer.send(OutgoingMail(to=(str(member["email"]),), subject=r.subject, text=r.text, html=r.html,
                                  intent=f"interview:{iid}:ask", locale=locale))


def answer(store: DocStore, iid: str, agree: bool, now: dt.datetime) -> bool:
    """The member's answer from the request mail: the consent, recorded; False when not asked (any more)."""
    piece = store.get(INTERVIEWS, iid)
    if piece is None or piece.get("state") != "asked":
        return False
    state = "agreed" if agree else DECLINED
    store.update(INTERVIEWS, iid, {"consent": {"value": agree, "at": now, "source": "link"}, "state": state,
                                   "history": [*piece.get("history", []), {"state": state, "at": now, "by": "member"}]})
    logger.info("interview answered", outcome=state)
    return True


def pipeline(store: DocStore, limit: int = 200) -> list[dict[str, Any]]:
    """Every piece, in pipeline order then newest first (the console's and the CLI's list)."""
    pieces = store.query(INTERVIEWS, [], limit=limit)
    order = {s: i for i, s in enumerate((*STATES, DECLINED))}
    return sorted(pieces, key=lambda p: (order.get(str(p.get("state")), 9), -(p.get("created_at") or dt.datetime.min.replace(
        tzinfo=dt.UTC)).timestamp()))
