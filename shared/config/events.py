"""Config section ``events:``: the public events pages, RSVP, seats and waitlist, invitations,
announcements, headcount and the mails after an event (docs/events.md).

Every key is optional. Without an ``events:`` section nothing can be RSVPed (every kind defaults
to ``rsvp: none``) and the public page still lists the events.
"""


from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from shared.config.base import Clock, Model, Weekday, bounded

Who = Literal["none", "members", "anyone"]
Visibility = Literal["public", "members_only", "hidden"]


class KindEvents(Model):
    """How events of one kind appear and who may RSVP."""

    label: str | None = None  # shown on the page; default: rhythm.event_kinds.<kind>.label, else the kind
    rsvp: Who = "none"  # none | members (approved members) | anyone (public events)
    visibility: Visibility = "public"  # members_only: listed without details; hidden: not listed
    capacity: Annotated[int, bounded(1, 10_000, "a number of seats")] | None = None  # None: unlimited
    ask_notes: bool = False  # ask for notes with the RSVP (e.g. dietary needs); they reach the headcount
    headcount: bool = True  # in-person events: headcount to the organizers before the event
    survey_url: str | None = None  # linked in the thank-you mail
    announce: bool = True  # new events of this kind are announced to members who opted in

    def check(self) -> None:
        if self.survey_url is not None and not self.survey_url.startswith("https://"):
            raise ValueError(f"survey_url: {self.survey_url!r} must be an https:// link")
        if self.rsvp == "anyone" and self.visibility != "public":
            raise ValueError("rsvp: 'anyone' may RSVP only to events the public can see (visibility: public)")


class SeriesEvents(Model):
    capacity: Annotated[int, bounded(1, 10_000, "a number of seats")] | None = None  # the venue's seats


class Promotion(Model):
    """A freed seat goes to the first in the waitlist. Close to the event it is offered instead of
    given: the member has ``accept_hours`` to accept (never past the start), then it passes on."""

    offer_within_hours: Annotated[int, bounded(0, 24 * 30, "a number of hours")] = 48
    accept_hours: Annotated[int, bounded(0, 24 * 7, "a number of hours")] = 12  # 0: never offer, always give


class Announcements(Model):
    """New events to members who opted in (consent ``announcements``), with one-click unsubscribe."""

    mode: Literal["off", "per_event", "weekly"] = "weekly"  # weekly: one roundup mail per member per week
    weekday: Weekday = Weekday(0)  # the roundup's day (Monday)
    time: Clock = Clock(9, 0)
    horizon_days: Annotated[int, bounded(1, 365, "a number of days")] = 60  # events this far ahead are announced
    daily_limit: Annotated[int, bounded(1, 2000, "a number of mails")] = 200  # the rest goes the next day


class Events(Model):
    horizon_days: Annotated[int, bounded(7, 365, "a number of days")] = 90  # how far ahead the public page lists
    image_url: str | None = None  # Open Graph / JSON-LD image (https), e.g. the community's logo
    site_url: str | None = None  # the community's own site (JSON-LD organizer.url); default: the events page
    currency: str | None = None  # ISO 4217 (e.g. JPY): free events are marked as offers at price 0
    public_speakers: bool = False  # show speakers' names on the public page (they agreed to a public talk)
    kinds: dict[str, KindEvents] = msgspec.field(default_factory=dict)
    default: KindEvents = msgspec.field(default_factory=KindEvents)  # kinds not listed
    series: dict[str, SeriesEvents] = msgspec.field(default_factory=dict)
    promotion: Promotion = msgspec.field(default_factory=Promotion)
    announcements: Announcements = msgspec.field(default_factory=Announcements)
    headcount_days: Annotated[int, bounded(1, 30, "a number of days")] = 2  # before an in-person event
    reminder_hours: Annotated[int, bounded(1, 168, "a number of hours")] = 24  # attendee reminder ("the day before")
    thank_you_hours: Annotated[int, bounded(1, 168, "a number of hours")] = 3  # after the end
    followup_days: Annotated[int, bounded(1, 90, "a number of days")] = 30  # a recording link added later still reaches attendees

    def check(self) -> None:
        for name in ("image_url", "site_url"):
            value = getattr(self, name)
            if value is not None and not value.startswith("https://"):
                raise ValueError(f"{name}: {value!r} must be an https:// link")
        if self.currency is not None and not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise ValueError(f"currency: {self.currency!r} is not an ISO 4217 code such as JPY or EUR")

    def kind(self, kind: str) -> KindEvents:
        return self.kinds.get(kind, self.default)


def kind_label(events: Events, event_kinds: Mapping[str, Any], kind: str) -> str:
    """What the page calls a kind: its ``label`` here, else its member-event label, else its id."""
    own = events.kinds.get(kind)
    if own is not None and own.label:
        return own.label
    if kind in event_kinds and getattr(event_kinds[kind], "label", None):
        return str(event_kinds[kind].label)
    return kind
