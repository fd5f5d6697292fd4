"""Speaker proposals from the second Google Form (same signed webhook contract as applications).

``form_webhook`` and ``poll_form_responses`` route a :class:`~shared.domain.applications.Submission` here
when its ``formId`` is ``people.speakers.form.form_id``. The answers are mapped with the question
mapping of the config to a :class:`~shared.usecases.assign.SpeakerProposal` whose ``source_id`` is
``<formId>:<responseId>``: every delivery of one response (Apps Script retry, the poller, a person
re-sending) lands on one speaker document (``create()``), and the acknowledgement mail has a stable
intent, so it goes out once. Every delivery re-ensures the mail (a crash between the two is healed).

Dates are read as people of the community write them (``shared/domain/dates.py``: ``2027年3月9日``,
``3/9``, ``30 April 2027``, ``28/05/2027``; month first in en-US); what cannot be read as a date is
kept as written and the acknowledgement says which dates were understood and which words were not,
so the speaker can answer. A response that cannot be mapped (a required answer blank, a series
nobody knows) raises :class:`~shared.usecases.assign.ProposalError` naming ``answers.<field>``;
nothing is written, and the webhook answers 400.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from shared.config import Config
from shared.config.applications import QuestionRef
from shared.config.model import speaker_series
from shared.config.people import SpeakerForm
from shared.domain import dates
from shared.domain.applications import Submission, SubmittedAnswer, normalise_text
from shared.platform import log, texts
from shared.platform.mail import OutgoingMail, render
from shared.usecases.assign import Deps, ProposalError, SpeakerProposal, propose_speaker

logger = log.get("speaker_form")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def speaker_form(cfg: Config) -> SpeakerForm | None:
    return cfg.people.speakers.form


def _find(ref: QuestionRef | None, answers: Sequence[SubmittedAnswer]) -> str:
    if ref is None:
        return ""
    found = next((a for a in answers if a.questionId in ref.ids), None)
    if found is None and ref.title:
        want = normalise_text(ref.title)
        found = next((a for a in answers if normalise_text(a.title) == want), None)
    if found is None:
        return ""
    value = found.answer
    return "\n".join(v.strip() for v in value if v.strip()) if isinstance(value, list) else value.strip()


def parse_dates(cfg: Config, text: str, today: dt.date) -> dates.ReadDates:
    """Every date in a free-text answer, read in the community's date order."""
    return dates.read_dates(text, texts.date_order(cfg.community.locale), today)


def _series(cfg: Config, form: SpeakerForm, answer: str) -> str:
    allowed = speaker_series(cfg)
    if not answer:
        if len(allowed) == 1:
            return allowed[0]
        raise ProposalError("answers.series", f"is required (one of {', '.join(allowed)})")
    want = normalise_text(answer)
    for text, sid in form.series_answers.items():
        if normalise_text(text) == want:
            return sid
    for sid in allowed:
        title = re.sub(r"\{[^}]*\}", "", cfg.series[sid].title)
        if want in (normalise_text(sid), normalise_text(title)):
            return sid
    raise ProposalError("answers.series", f"{answer[:80]!r} is not a series that takes speakers "
                                          f"(map it in people.speakers.form.series_answers)")


def to_proposal(cfg: Config, sub: Submission, now: dt.datetime | None = None) -> SpeakerProposal:
    """Map a form response to a proposal; :class:`ProposalError` names ``answers.<field>``."""
    from zoneinfo import ZoneInfo

    today = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(cfg.community.timezone)).date()
    form = speaker_form(cfg)
    if form is None:
        raise RuntimeError("the community config has no people.speakers.form section")
    q = form.questions
    values = {name: _find(getattr(q, name), sub.answers)
              for name in ("name", "email", "topic", "series", "earliest", "impossible_dates", "talk_minutes")}
    email = values["email"] or (sub.respondentEmail or "").strip()
    for name, value in (("name", values["name"]), ("email", email), ("topic", values["topic"])):
        if not value:
            raise ProposalError(f"answers.{name}", "is required")
    earliest = parse_dates(cfg, values["earliest"], today) if values["earliest"] else dates.ReadDates((), ())
    impossible = parse_dates(cfg, values["impossible_dates"], today)
    minutes = None
    if values["talk_minutes"]:
        digits = re.search(r"\d+", unicodedata.normalize("NFKC", values["talk_minutes"]))
        if digits is None:
            raise ProposalError("answers.talk_minutes", "is not a number of minutes")
        minutes = int(digits.group(0))
    text = " ".join(values[n] for n in ("name", "topic"))
    community = cfg.community.locale
    # The speaker's language: the community's, unless they wrote in the other one.
    locale = "ja" if _JAPANESE.search(text) else (community if texts.language(community) == "en" else "en")
    return SpeakerProposal(
        name=values["name"], email=email, topic=values["topic"], series_id=_series(cfg, form, values["series"]),
        earliest=earliest.dates[0] if earliest.dates else None, impossible_dates=impossible.dates,
        unread_dates=earliest.not_understood + impossible.not_understood,
        talk_minutes=minutes, locale=locale, source_id=f"{sub.formId}:{sub.responseId}")


def submit_speaker(deps: Deps, sub: Submission, now: dt.datetime, source: str = "webhook") -> dict[str, str]:
    """Queue the speaker once and make sure the acknowledgement went out; the same answer every time."""
    proposal = to_proposal(deps.cfg, sub, now)
    try:
        speaker_id, created = propose_speaker(deps, proposal, now)
    except ProposalError as exc:
        field = exc.field if exc.field.startswith("answers.") else f"answers.{exc.field.replace('series_id', 'series')}"
        raise ProposalError(field, str(exc).split(": ", 1)[-1]) from None
    doc = deps.store.get("speakers", speaker_id) or {}
    if created:
        deps.store.update("speakers", speaker_id, {"source": source})
    acknowledge(deps, speaker_id, doc)
    logger.info("speaker form handled", speaker_id=speaker_id, form_id=sub.formId, response_id=sub.responseId,
                outcome="created" if created else "duplicate")
    return {"speakerId": speaker_id, "status": "received"}


def acknowledge(deps: Deps, speaker_id: str, doc: dict[str, Any]) -> None:
    """"We received your proposal": once per speaker (intent ``speaker:received:<id>``)."""
    if not doc.get("email"):
        return
    cfg = deps.cfg
    series = cfg.series.get(str(doc.get("series_id")))
    loc = texts.normalise(doc.get("locale"), cfg.community.locale)
    r = render("speaker_received", loc, community=cfg.community.name,
               name=doc.get("name", ""), topic=doc.get("topic", ""),
               series=re.sub(r"\s*\{[^}]*\}\s*", " ", series.title).strip() if series else "",
               earliest=texts.fmt_date(loc, dt.date.fromisoformat(doc["earliest"])) if doc.get("earliest") else "",
               impossible_dates=[texts.fmt_date(loc, dt.date.fromisoformat(d)) for d in doc.get("impossible_dates") or ()],
               not_understood=list(doc.get("dates_not_understood") or ()),
               lead_days=cfg.people.speakers.lead_time_days)
    deps.mailer.send(OutgoingMail(to=(str(doc["email"]),), subject=r.subject, text=r.text, html=r.html,
                                  intent=f"speaker:received:{speaker_id}", locale=loc))
