"""Config section ``people:``: host availability (keyed by organizer id) and the speaker offer loop.

Kept apart from ``shared/config/model.py`` so that module stays about the schedule; it must not import
``shared.config`` at import time (that module imports this one). The building blocks (Model, value
types, range checks) come from ``shared/config/base.py``.

Every organizer with a Zoom account is in the host pool with the defaults below (any weekday, any
hour, no monthly cap, weight 1); ``people.hosts.<organizer id>`` narrows that down. ``weight: 0``
takes an organizer out of the rotation without deleting their Zoom account from the config.
"""


import datetime as dt
from typing import Annotated, Any, Self

import msgspec

from shared.config.applications import QuestionRef, form_id_problem
from shared.config.base import Model, Weekdays, bounded, parse_clock, set_normalised


class HourMark(dt.time):
    """``HH:MM``, or ``24:00`` for the end of the day."""

    @classmethod
    def from_config(cls, v: Any) -> Self:
        t = dt.time.max if v in ("24:00", 1440) else parse_clock(v)
        return cls(t.hour, t.minute, t.second, t.microsecond)


class Hours(Model):
    """Local wall-clock hours an organizer can host: the whole event must lie inside."""

    start: HourMark = msgspec.field(name="from")
    end: HourMark = msgspec.field(name="to")

    def check(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"to: {self.end:%H:%M} must be after from: {self.start:%H:%M}")


class DateRange(Model):
    """One blackout date (``from`` only) or an inclusive range."""

    start: dt.date = msgspec.field(name="from")
    end: dt.date | None = msgspec.field(default=None, name="to")

    def check(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"to: {self.end} is before from: {self.start}")

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= (self.end or self.start)


class HostAvailability(Model):
    weekdays: Weekdays = Weekdays(range(7))
    hours: Hours | None = None
    # Plain dates are allowed as a shorthand: blackouts: [2027-01-12, {from: .., to: ..}]
    blackouts: tuple[DateRange | dt.date, ...] = ()
    monthly_max: Annotated[int, bounded(0, 31, "a monthly maximum")] | None = None
    weight: Annotated[float, bounded(0, 100, "a weight", "; 0 = not in the rotation")] = 1.0

    def check(self) -> None:
        if any(not isinstance(b, DateRange) for b in self.blackouts):
            set_normalised(self, "blackouts", tuple(b if isinstance(b, DateRange) else DateRange(start=b) for b in self.blackouts))

    def blacked_out(self, day: dt.date) -> bool:
        return any(b.contains(day) for b in self.blackouts if isinstance(b, DateRange))


Days = Annotated[int, bounded(7, 3 * 366, "a number of days")]


class HostRotation(Model):
    window_days: Days = 365  # load is counted over duties starting this far back (and all later ones)
    horizon_days: Days = 120  # hosts are assigned to online slots starting within this many days


class SpeakerQuestions(Model, kw_only=True):
    """Which question of the speaker form holds what (``title`` or ``{ids: [...], title: ...}``)."""

    name: QuestionRef
    email: QuestionRef | None = None  # None: the e-mail the form collects (respondentEmail)
    topic: QuestionRef
    series: QuestionRef | None = None  # None: the one speaker series there is
    earliest: QuestionRef | None = None  # a date question (YYYY-MM-DD)
    impossible_dates: QuestionRef | None = None  # free text or a list; every date in it counts
    talk_minutes: QuestionRef | None = None  # "30", "３０分", ...


class SpeakerForm(Model):
    """The speaker proposal form: told apart from the membership form by its ``form_id``."""

    form_id: str
    questions: SpeakerQuestions
    # answer text of the series question -> series id (besides the series id and its title, which always match)
    series_answers: dict[str, str] = msgspec.field(default_factory=dict)

    def check(self) -> None:
        if problem := form_id_problem(self.form_id):
            raise ValueError(f"form_id: {problem}")


class SpeakerSettings(Model):
    series: tuple[str, ...] = ()  # series that take speakers; empty: every series of kind speaker_night
    form: SpeakerForm | None = None  # speaker proposals from a Google Form (form_webhook, poll_form_responses)
    lead_time_days: Annotated[int, bounded(0, 365, "a lead time in days")] = 21
    offer_window_days: Annotated[int, bounded(1, 60, "an offer window in days")] = 5
    reminder_after_days: int | None = 3  # None: no reminder
    raise_weeks: Annotated[int, bounded(0, 52, "a number of weeks")] = 4  # a slot this close with nobody confirmed is raised to the organizers
    talk_minutes: Annotated[int, bounded(5, 600, "a talk length in minutes")] = 30  # told in the offer (a speaker's own length wins)
    format: str | None = None  # what happens around the talk, told in the offer; None: config.speakers.format of the locale

    def check(self) -> None:
        r = self.reminder_after_days
        if r is not None and not 1 <= r < self.offer_window_days:
            raise ValueError(f"reminder_after_days: {r} must be 1 or more and less than offer_window_days "
                             f"({self.offer_window_days}); leave it out (null) for no reminder")


class People(Model):
    speakers: SpeakerSettings = msgspec.field(default_factory=SpeakerSettings)
    host_rotation: HostRotation = msgspec.field(default_factory=HostRotation)
    hosts: dict[str, HostAvailability] = msgspec.field(default_factory=dict)

    def host(self, organizer_id: str) -> HostAvailability:
        return self.hosts.get(organizer_id) or HostAvailability()
