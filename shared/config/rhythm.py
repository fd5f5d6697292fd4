"""Config section ``rhythm:``: the organizer digest, reminders, the weekly prompt, member event kinds.

Kept apart from ``shared/config/model.py`` (which imports this module); the building blocks come from
``shared/config/base.py``. Every default mirrors the first community: digest on Monday 08:00, reminders
7 days and 1 day before, the weekly prompt on Wednesday, member events two weeks ahead. A text left
out (``None`` here) takes the community locale's default from ``shared/templates/<locale>/texts/config.yaml``
when the config is loaded (:func:`localise`).
"""


import re
from typing import Annotated

import msgspec

from shared.config.base import Clock, Model, Weekday, bounded, set_normalised

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PROPOSAL_FIELDS = ("title", "description", "location", "zoom", "co_organizer")


class Digest(Model):
    weekday: Weekday = Weekday(0)  # Monday
    time: Clock = Clock(8, 0)
    horizon_weeks: Annotated[int, bounded(1, 26, "a horizon in weeks")] = 6  # slots without speaker/host and upcoming events this far ahead
    max_items: Annotated[int, bounded(1, 200, "a number of items")] = 30  # per list in the mail; the rest is counted, not read
    speaker_kinds: tuple[str, ...] = ("speaker_night",)  # kinds whose slots need a speaker


class Reminders(Model):
    offsets_days: tuple[int, ...] = (7, 1)
    prepare_speaker: str | None = None  # None: config.reminders.prepare_speaker of the community's locale
    prepare_host: str | None = None

    def check(self) -> None:
        v = self.offsets_days
        if not v or any(not 1 <= d <= 60 for d in v) or len(set(v)) != len(v):
            raise ValueError(f"offsets_days: {list(v)} must be distinct numbers of days before the event (1..60), e.g. [7, 1]")
        set_normalised(self, "offsets_days", tuple(sorted(v, reverse=True)))


class Prompt(Model):
    weekday: Weekday = Weekday(2)  # Wednesday
    time: Clock = Clock(9, 0)
    hashtag: str | None = None  # None: the locale's (config.prompt.hashtag); "" for none
    texts: tuple[str, ...] | None = None  # rotate week by week; None: the locale's (config.prompt.texts)
    slack: bool = True  # post to SLACK_WEBHOOK_URL (outbox when unset)
    mail: bool = True  # mail members who opted in (prompt_opt_in)
    # Bcc recipients per mail; the To line holds only the community address
    batch_size: Annotated[int, bounded(1, 100, "a batch size", " recipients per mail")] = 50
    daily_limit: int = 400  # recipients per day over all batches (Gmail counts each recipient)

    def check(self) -> None:
        if self.texts is not None and (not self.texts or any(not t.strip() for t in self.texts)):
            raise ValueError("texts: give at least one non-empty text; they rotate week by week")
        if self.daily_limit < self.batch_size:
            raise ValueError(f"daily_limit: {self.daily_limit} is smaller than one batch ({self.batch_size})")


class EventKind(Model):
    """Guidelines for one kind of member-proposed event."""

    label: str | None = None  # None: config.kinds.<kind> of the community's locale, else the kind's name
    lead_days: Annotated[int, bounded(0, 365, "a lead time in days")] = 14  # proposed at least this many days ahead
    min_minutes: int = 30
    max_minutes: int = 180
    earliest: Clock = Clock(7, 0)  # local start time window
    latest: Clock = Clock(22, 0)  # local end time limit
    online: bool = True  # online allowed
    offline: bool = True  # in person allowed
    required: tuple[str, ...] = ("title", "description")
    confirmation: bool = False  # an organizer confirms before it is scheduled

    def check(self) -> None:
        unknown = [f for f in self.required if f not in PROPOSAL_FIELDS]
        if unknown:
            raise ValueError(f"required: {unknown} are not proposal fields ({', '.join(PROPOSAL_FIELDS)})")
        if not 5 <= self.min_minutes <= self.max_minutes <= 24 * 60:
            raise ValueError(f"max_minutes: need 5 <= min_minutes ({self.min_minutes}) <= max_minutes ({self.max_minutes}) <= 1440")
        if not (self.online or self.offline):
            raise ValueError("online: allow online or offline (or both)")


def _default_kinds() -> dict[str, EventKind]:
    return {
        "member_event": EventKind(),
        "new_staff_event": EventKind(lead_days=10),
        "alumni_collab": EventKind(lead_days=21),
        "company_collab": EventKind(lead_days=30, confirmation=True),
        "notable_talk": EventKind(lead_days=30, confirmation=True),
    }


class Rhythm(Model):
    digest: Digest = msgspec.field(default_factory=Digest)
    reminders: Reminders = msgspec.field(default_factory=Reminders)
    prompt: Prompt = msgspec.field(default_factory=Prompt)
    event_kinds: dict[str, EventKind] = msgspec.field(default_factory=_default_kinds)
    flagship_series: tuple[str, ...] | None = None  # member events may not overlap these; None: every series
    feed_days: int = 120  # how far ahead the ICS feed reaches (and 7 days back)

    def check(self) -> None:
        for key in self.event_kinds:
            if not _KIND.match(key):
                raise ValueError(f"event_kinds: {key!r} is not a kind name (lowercase letters, digits, _)")


def localise(rhythm: Rhythm, locale: str) -> None:
    """Fill the texts left out with the locale's defaults (called once, when the config is loaded)."""
    from shared.platform import texts

    r, p = rhythm.reminders, rhythm.prompt
    for name in ("prepare_speaker", "prepare_host"):
        if getattr(r, name) is None:
            set_normalised(r, name, texts.t(locale, f"config.reminders.{name}"))
    if p.hashtag is None:
        set_normalised(p, "hashtag", texts.t(locale, "config.prompt.hashtag"))
    if p.texts is None:
        set_normalised(p, "texts", texts.t_list(locale, "config.prompt.texts"))
    for key, kind in rhythm.event_kinds.items():
        if kind.label is None:
            set_normalised(kind, "label", kind_label(locale, key))


def kind_label(locale: str, kind: str) -> str:
    """How the community calls a kind of event: ``config.kinds.<kind>``, else the kind's own name."""
    from shared.platform import texts

    return texts.t(locale, f"config.kinds.{kind}") if texts.has(locale, f"config.kinds.{kind}") else kind
