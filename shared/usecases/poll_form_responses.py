"""The safety net: read the form's responses from the Forms API and submit every one not yet seen.

Apps Script does not redeliver a failed submission, so this cron job re-reads responses since its
watermark (minus a look-back, for clock skew and responses in flight) and sends each through the
same ``submit`` use case as the webhook: a response the webhook already stored is a no-op there
(same application id, no second mail). The watermark advances only after the whole run succeeded.

One response that cannot be handled (anything but a schema error, which is skipped) never holds the
others back: it is set aside in ``form_set_aside/<formId>~<responseId>`` (the reason, and the
response itself so it can be tried again; the logs get ids only, never answers), the run goes on
and the watermark moves. Every later run tries the open ones again first, up to
``SET_ASIDE_ATTEMPTS`` times; the organizer digest lists the open and given-up ones.
The speaker proposal form (``people.speakers.form``) is polled the same way, with its own
watermark (``poller_state/<its formId>``), through the webhook's ``submit_speaker``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.domain.applications import Submission, SubmissionError, parse_submission
from shared.domain.text import clean_json
from shared.platform import log
from shared.usecases.applications import Deps, submit

if TYPE_CHECKING:
    from shared.usecases.assign import Deps as AssignDeps

STATE = "poller_state"
SET_ASIDE = "form_set_aside"
SET_ASIDE_ATTEMPTS = 6  # runs (every 30 min) before a person must look; the digest lists it either way
OPEN, RESOLVED, GIVEN_UP = "open", "resolved", "given_up"
FIRST_RUN_LOOKBACK = dt.timedelta(days=1)
logger = log.get("poll_form_responses")


class FormResponses(Protocol):
    """The Forms API, as far as the poller needs it (adapter: shared/adapters/google_forms.py)."""

    def question_titles(self, form_id: str) -> dict[str, str]:
        """questionId -> title, from forms.get."""

    def responses_since(self, form_id: str, since: dt.datetime) -> Iterator[Mapping[str, Any]]:
        """Every FormResponse (wire format) with timestamp >= since, across all pages."""


def to_submission(form_id: str, resp: Mapping[str, Any], titles: Mapping[str, str]) -> Submission:
    answers = []
    for qid, ans in (resp.get("answers") or {}).items():
        values = [str(a.get("value", "")) for a in ((ans.get("textAnswers") or {}).get("answers") or [])]
        answers.append({"questionId": qid, "title": titles.get(qid, qid),
                        "answer": values[0] if len(values) == 1 else values})
    return parse_submission({
        "formId": form_id, "responseId": resp.get("responseId"),
        "submittedAt": resp.get("lastSubmittedTime") or resp.get("createTime"),
        "respondentEmail": resp.get("respondentEmail"), "answers": answers,
    })


def poll(deps: Deps, source: FormResponses, now: dt.datetime) -> dict[str, Any]:
    """The membership form."""
    app_cfg = deps.config.applications
    if app_cfg is None:
        return {"count": 0, "outcome": "no applications section in the config"}

    def handle(sub: Submission) -> str:
        return submit(deps, sub, now, source="poller")["applicationId"]

    return poll_form(deps.store, source, app_cfg.form_id, app_cfg.poll_lookback_minutes, handle, now)


def poll_speakers(deps: AssignDeps, source: FormResponses, now: dt.datetime) -> dict[str, Any]:
    """The speaker proposal form (``people.speakers.form``), through the same ``submit_speaker`` as the
    webhook: a response the webhook already queued is one speaker and one acknowledgement."""
    from shared.usecases.assign import ProposalError
    from shared.usecases.speaker_form import submit_speaker

    form = deps.cfg.people.speakers.form
    if form is None:
        return {"count": 0, "outcome": "no people.speakers.form section in the config"}
    lookback = deps.cfg.applications.poll_lookback_minutes if deps.cfg.applications else 10

    def handle(sub: Submission) -> str:
        try:
            return submit_speaker(deps, sub, now, source="poller")["speakerId"]
        except ProposalError as exc:  # an unmappable response: skipped like a malformed one, never retried forever
            raise SubmissionError(str(exc)) from None

    return poll_form(deps.store, source, form.form_id, lookback, handle, now)


class StateStore(Protocol):
    def get(self, col: str, doc_id: str) -> dict[str, Any] | None: ...

    def set(self, col: str, doc_id: str, data: Mapping[str, Any]) -> None: ...

    def update(self, col: str, doc_id: str, changes: Mapping[str, Any]) -> bool: ...

    def query(self, col: str, where: Sequence[tuple[str, str, Any]] = (), order_by: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]: ...


def _reason(exc: BaseException) -> str:
    """What the digest shows: the error's type and the start of its message (no traceback)."""
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _set_aside(store: StateStore, form_id: str, resp: Mapping[str, Any], exc: Exception, now: dt.datetime) -> None:
    rid = str(resp.get("responseId") or "")
    doc_id = f"{form_id}~{rid}"
    earlier = store.get(SET_ASIDE, doc_id) or {}
    attempts = int(earlier.get("attempts") or 0)
    if earlier.get("last_at") != now and earlier.get("status") != GIVEN_UP:
        attempts += 1  # once per run (the look-back may show it again), and never past giving up
    store.set(SET_ASIDE, doc_id, {
        "form_id": form_id, "response_id": rid, "reason": _reason(exc), "attempts": attempts,
        "status": GIVEN_UP if attempts >= SET_ASIDE_ATTEMPTS else OPEN,
        "first_at": earlier.get("first_at") or now, "last_at": now,
        "response": clean_json(dict(resp))[0],  # answers at rest in Firestore, like the application would hold
    })
    logger.error("response set aside", form_id=form_id, response_id=rid, attempt=attempts, error_type=type(exc).__name__)


def poll_form(store: StateStore, source: FormResponses, form_id: str, lookback_minutes: int,
              handle: Callable[[Submission], str], now: dt.datetime) -> dict[str, Any]:
    """Re-read one form's responses since its watermark and hand each to ``handle`` (idempotent);
    first, the responses set aside by earlier runs."""
    state = store.get(STATE, form_id) or {}
    watermark: dt.datetime = state.get("watermark") or now - FIRST_RUN_LOOKBACK
    since = watermark - dt.timedelta(minutes=lookback_minutes)
    titles = source.question_titles(form_id)
    seen = skipped = aside = recovered = 0
    newest = watermark

    def one(resp: Mapping[str, Any]) -> bool:
        """True when handled; a schema error is skipped (counted), any other error sets it aside."""
        nonlocal skipped, aside
        try:
            sub = to_submission(form_id, resp, titles)
        except SubmissionError as exc:
            skipped += 1
            logger.warning("response skipped", reason=str(exc).split(":")[0], form_id=form_id)
            return False
        try:
            handled = handle(sub)
        except SubmissionError as exc:
            skipped += 1
            logger.warning("response skipped", reason=str(exc).split(":")[0], form_id=form_id)
            return False
        except Exception as exc:
            _set_aside(store, form_id, resp, exc, now)
            aside += 1
            return False
        logger.debug("response handled", application_id=handled, response_id=sub.responseId)
        return True

    for rec in store.query(SET_ASIDE, [("form_id", "==", form_id), ("status", "==", OPEN)], limit=50):
        if one(rec.get("response") or {}):
            store.update(SET_ASIDE, rec["id"], {"status": RESOLVED, "resolved_at": now})
            recovered += 1
    for resp in source.responses_since(form_id, since):
        if one(resp):
            seen += 1
        stamp = resp.get("lastSubmittedTime") or resp.get("createTime")
        when = _when(stamp)
        if when is not None:  # handled or set aside: either way the watermark may pass it
            newest = max(newest, min(when, now))
    store.set(STATE, form_id, {"watermark": newest, "updated_at": now, "last_count": seen})
    logger.info("form polled", form_id=form_id, count=seen, flagged=skipped + aside)
    return {"count": seen, "skipped": skipped, "set_aside": aside, "recovered": recovered,
            "watermark": newest.isoformat()}


def _when(stamp: Any) -> dt.datetime | None:
    from shared.domain.applications import Rfc3339

    try:
        return Rfc3339.from_config(stamp)
    except ValueError:
        return None
