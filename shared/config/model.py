"""The root of the community config and its schedule part: community, scheduling, organizers, series."""


import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo

import msgspec

from shared.config.applications import Applications
from shared.config.base import (
    Clock,
    Email,
    Model,
    Weekday,
    Weekdays,
    Zone,
    bounded,
    check_template,
    set_normalised,
)
from shared.config.events import Events
from shared.config.members import Members
from shared.config.newsletter import Newsletter
from shared.config.people import People
from shared.config.provisioning import Provisioning
from shared.config.rhythm import Rhythm, localise

POLICIES = ("skip", "next_business_day", "previous_business_day", "allow")
Policy = Literal["skip", "next_business_day", "previous_business_day", "allow"]
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Fields a title template may use; checked at load time so a typo fails early.
TITLE_FIELDS = ("date", "series", "month", "day", "weekday", "year", "month_name")


class MonthlyRule(Model, tag_field="type", tag="monthly"):
    """The n-th weekday of every month (n = 1..5, or -1 for the last)."""

    type: ClassVar[str] = "monthly"
    nth: int
    weekday: Weekday

    def check(self) -> None:
        if self.nth not in (1, 2, 3, 4, 5, -1):
            raise ValueError(f"nth: {self.nth} is not an occurrence in the month (1..5, or -1 for the last)")


class WeeklyRule(Model, tag_field="type", tag="weekly"):
    """Every ``interval`` weeks on the given weekdays, counted from the week of ``starting``."""

    type: ClassVar[str] = "weekly"
    weekdays: Weekdays
    interval: int = 1
    starting: dt.date | None = None

    def check(self) -> None:
        if self.interval < 1:
            raise ValueError(f"interval: {self.interval} must be 1 or more weeks")
        if self.interval > 1 and self.starting is None:
            raise ValueError("starting: every N weeks needs a first date to count from")


class SameDayAsRule(Model, tag_field="type", tag="same_day_as"):
    """Same day as another series, ending when that series starts (follows its actual date)."""

    type: ClassVar[str] = "same_day_as"
    series: str


class DatesRule(Model, tag_field="type", tag="dates"):
    """Explicit one-off dates."""

    type: ClassVar[str] = "dates"
    dates: tuple[dt.date, ...]


Rule = MonthlyRule | WeeklyRule | SameDayAsRule | DatesRule
RULE_TYPES = ("monthly", "weekly", "same_day_as", "dates")


class Venue(Model):
    """Where an in-person event takes place: shown in calendar entries (LOCATION), the feed and mails."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: str = ""
    map_url: str = ""  # e.g. a Google Maps link; https only

    def check(self) -> None:
        if self.map_url and not re.fullmatch(r"https://[^\s<>\"]+", self.map_url):
            raise ValueError(f"map_url: {self.map_url[:60]!r} is not an https:// link")


class Series(Model, kw_only=True):
    kind: str
    title: str
    timezone: Zone | None = None
    start: Clock
    duration_minutes: Annotated[int, bounded(5, 24 * 60, "a length in minutes")] | None = None
    open_end: bool = False
    online: bool = True
    venue: str | None = None  # a key of venues: where the event takes place (in person, or hybrid)
    rule: Rule
    on_holiday: Policy = "skip"
    on_blackout: Policy = "skip"

    def check(self) -> None:
        if not _IDENT.match(self.kind):
            raise ValueError(f"kind: {self.kind!r} is not a kind name (lowercase letters, digits, _)")
        try:
            check_template(self.title, TITLE_FIELDS)
        except ValueError as exc:
            raise ValueError(f"title: {exc}") from None
        relative = isinstance(self.rule, SameDayAsRule)
        if relative and (self.open_end or self.duration_minutes is not None):
            raise ValueError("duration_minutes: a same_day_as series ends when its anchor starts; leave length and open_end out")
        if not relative and self.open_end == (self.duration_minutes is not None):
            raise ValueError("duration_minutes: give either duration_minutes or open_end: true")


class BlackoutDay(str):
    """``YYYY-MM-DD`` (one date) or ``MM-DD`` (every year); YAML dates are accepted as they come."""

    __slots__ = ()

    @classmethod
    def from_config(cls, v: Any) -> Self:
        if isinstance(v, dt.datetime):  # YAML reads 2027-01-03 10:00:00 as a datetime (a date subclass)
            raise ValueError(f"'{v.isoformat(sep=' ')}' has a time of day; give a date (YYYY-MM-DD) or a yearly day (MM-DD)")
        if isinstance(v, dt.date):
            return cls(v.isoformat())
        if isinstance(v, str):
            try:
                if re.fullmatch(r"\d{2}-\d{2}", v):
                    dt.date(2000, int(v[:2]), int(v[3:]))  # 2000 is a leap year: 02-29 is allowed
                    return cls(v)
                return cls(dt.date.fromisoformat(v).isoformat())
            except ValueError:
                pass
        raise ValueError(f"{v!r} is not a date (YYYY-MM-DD) or a yearly day (MM-DD)")


class Blackout(Model):
    """A blackout date or range. ``MM-DD`` values repeat every year (12-29..01-03 wraps the year)."""

    start: BlackoutDay = msgspec.field(name="from")
    end: BlackoutDay | None = msgspec.field(default=None, name="to")
    label: str | None = None  # shown in the note of a shifted session; None: config.blackout_label of the locale

    def check(self) -> None:
        if self.end is not None and (len(self.start) == 5) != (len(self.end) == 5):
            raise ValueError("to: use MM-DD on both ends of a yearly range, or YYYY-MM-DD on both")
        if self.end is not None and len(self.start) == 10 and self.end < self.start:
            raise ValueError(f"to: {self.end} is before from: {self.start}")

    def contains(self, day: dt.date) -> bool:
        end = self.end or self.start
        if len(self.start) == 10:
            return self.start <= day.isoformat() <= end
        md = day.strftime("%m-%d")
        if self.start <= end:
            return self.start <= md <= end
        return md >= self.start or md <= end  # wraps the new year


class Community(Model):
    name: str
    locale: Literal["ja", "en", "en-GB", "en-US"] = "ja"  # texts in shared/templates/<language>/; en-US: month first
    timezone: Zone = Zone("Asia/Tokyo")
    holiday_country: str = "JP"
    # A region with holidays of its own: the ISO 3166-2 subdivision, SCT or GB-SCT (Scotland), CA or
    # US-CA (California), BY (Bavaria). `autopilot check-config` checks it against the holidays package.
    holiday_region: str | None = None
    # Where replies to every mail go (its Reply-To): e.g. a group address the organizers read. Left
    # out, replies go to every organizer's address (``Config.reply_to``); the sender (MAIL_FROM) may
    # be an account nobody reads.
    reply_to: tuple[Email, ...] = ()

    def check(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.holiday_country):
            raise ValueError(f"holiday_country: {self.holiday_country!r} is not an ISO 3166 country code (e.g. GB, JP, US)")
        if self.holiday_region is not None:
            region = self.holiday_region.strip().upper().removeprefix(f"{self.holiday_country}-")
            if not re.fullmatch(r"[A-Z0-9]{1,3}", region):
                raise ValueError(f"holiday_region: {self.holiday_region!r} is not an ISO 3166-2 subdivision of "
                                 f"{self.holiday_country} (e.g. SCT or {self.holiday_country}-SCT)")
            set_normalised(self, "holiday_region", region)


class Scheduling(Model):
    horizon_months: Annotated[int, bounded(1, 24, "a horizon in months")] = 3
    open_end_nominal_minutes: Annotated[int, bounded(15, 12 * 60, "a nominal length in minutes")] = 120
    blackouts: tuple[Blackout, ...] = ()


class CronAuth(Model):
    """How cron functions authenticate their caller.

    ``platform``: the function is private and Google checks the Scheduler's OIDC token before the
    request reaches us (production default; locally nothing is checked). ``oidc``: additionally
    verify the token in the function, with the audience (and optionally the signer) checked.
    """

    mode: Literal["platform", "oidc"] = "platform"
    audience: str | None = None
    service_account: str | None = None

    def check(self) -> None:
        if self.mode == "oidc" and not self.audience:
            raise ValueError("audience: oidc mode needs the audience (the function's URL, e.g. "
                             "https://REGION-PROJECT.cloudfunctions.net/{function})")

    def audience_for(self, function: str) -> str | None:
        """The audience a token for ``function`` must carry: ``{function}`` in ``audience`` becomes
        the deployed name (``generate_slots`` -> ``generate-slots``), so one setting serves every
        cron function; an audience without it is taken as it is."""
        if self.audience is None:
            return None
        return self.audience.replace("{function}", function.replace("_", "-"))


class ZoomAccount(Model):
    """An organizer's Zoom account. ``basic`` (free): 40 minutes; ``pro``: one meeting at a time;
    ``business``: two at a time."""

    user: str  # Zoom user id or e-mail
    licence: Literal["basic", "pro", "business"] = "pro"


class Organizer(Model):
    name: str
    email: Email
    zoom: ZoomAccount | None = None


class Config(Model):
    community: Community
    scheduling: Scheduling = msgspec.field(default_factory=Scheduling)
    cron_auth: CronAuth = msgspec.field(default_factory=CronAuth)
    organizers: dict[str, Organizer] = msgspec.field(default_factory=dict)
    venues: dict[str, Venue] = msgspec.field(default_factory=dict)
    series: dict[str, Series] = msgspec.field(default_factory=dict)
    applications: Applications | None = None  # membership form (shared/config/applications.py)
    people: People = msgspec.field(default_factory=People)  # host availability and the speaker offer loop (shared/config/people.py)
    rhythm: Rhythm = msgspec.field(default_factory=Rhythm)  # digest, reminders, weekly prompt, member event kinds (shared/config/rhythm.py)
    provisioning: Provisioning = msgspec.field(default_factory=Provisioning)  # Zoom meetings and calendar entries (shared/config/provisioning.py)
    members: Members = msgspec.field(default_factory=Members)  # the member's own settings page (shared/config/members.py)
    newsletter: Newsletter = msgspec.field(default_factory=Newsletter)  # the monthly newsletter (shared/config/newsletter.py)
    events: Events = msgspec.field(default_factory=Events)  # public pages, RSVP, seats, announcements (shared/config/events.py)

    @property
    def reply_to(self) -> tuple[str, ...]:
        """The Reply-To of every mail: ``community.reply_to``, else the organizers' addresses."""
        if self.community.reply_to:
            return tuple(str(a) for a in self.community.reply_to)
        return tuple(f"{o.name} <{o.email}>" for o in self.organizers.values())

    def check(self) -> None:
        for key in self.series:
            if not _IDENT.match(key):
                raise ValueError(f"series: {key!r} is not a series id (lowercase letters, digits, _; used in slot ids)")
        # Texts left out take the community language's defaults (shared/templates/<locale>/texts/config.yaml).
        from shared.platform import texts

        localise(self.rhythm, self.community.locale)
        for b in self.scheduling.blackouts:
            if b.label is None:
                set_normalised(b, "label", texts.t(self.community.locale, "config.blackout_label"))
        if self.people.speakers.format is None:
            set_normalised(self.people.speakers, "format", texts.t(self.community.locale, "config.speakers.format"))

    def series_zone(self, series_id: str) -> ZoneInfo:
        return ZoneInfo(self.series[series_id].timezone or self.community.timezone)

    def series_order(self) -> list[str]:
        """Series ids with every anchor before the series that follow it."""
        order: list[str] = []
        for sid in self.series:
            chain = []
            cur: str | None = sid
            while cur is not None and cur not in order and cur not in chain:
                chain.append(cur)
                rule = self.series[cur].rule
                cur = rule.series if isinstance(rule, SameDayAsRule) else None
            order.extend(reversed(chain))
        return order


def speaker_series(cfg: Config) -> tuple[str, ...]:
    return cfg.people.speakers.series or tuple(sid for sid, s in cfg.series.items() if s.kind == "speaker_night")


def flagship(cfg: Config) -> tuple[str, ...]:
    fs = cfg.rhythm.flagship_series
    return tuple(cfg.series) if fs is None else fs
