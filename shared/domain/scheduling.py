"""Pure scheduling: (series rules, date range, business calendar, exceptions) -> occurrences.

No I/O here. An occurrence is identified by its series and its *key date*: the date the rule
produced before any holiday/blackout shift (for a same-day-as series, its anchor's key date). The
identity therefore survives shifts and organizer moves, which keeps calendar and Zoom ids stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from shared.config.model import (
    Blackout,
    Config,
    DatesRule,
    MonthlyRule,
    SameDayAsRule,
    Series,
    WeeklyRule,
)

UTC = dt.UTC
MAX_SHIFT_DAYS = 31  # a shift that finds no business day within a month skips the date instead


class Note(str):
    """Why an occurrence is not where its rule put it: ``key`` names the sentence (``notes.<key>`` of
    the message catalog, filled in with ``values`` in the community's language by the use case); the
    string itself is a short English form for logs and tests (an organizer's own reason, when given:
    it is shown as written)."""

    key: str
    values: Mapping[str, object]

    def __new__(cls, key: str, text: str, **values: object) -> Note:
        note = super().__new__(cls, text)
        note.key, note.values = key, values
        return note

    def __reduce__(self) -> tuple[object, ...]:  # copies keep key and values
        return _note, (self.key, str(self), dict(self.values))


def _note(key: str, text: str, values: dict[str, object]) -> Note:
    return Note(key, text, **values)


class BusinessCalendar:
    """Weekends, public holidays (from a maintained library) and the community's blackouts."""

    def __init__(self, holiday_name: Callable[[dt.date], str | None], blackouts: Iterable[Blackout] = ()) -> None:
        self._holiday_name = holiday_name
        self._blackouts = tuple(blackouts)

    def holiday(self, day: dt.date) -> str | None:
        return self._holiday_name(day)

    def blackout(self, day: dt.date) -> str | None:
        for b in self._blackouts:
            if b.contains(day):
                return b.label
        return None

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None and self.blackout(day) is None


def holiday_lookup(country: str, region: str | None = None, locale: str = "ja") -> Callable[[dt.date], str | None]:
    """Public holidays of a country, or of one of its regions (ISO 3166-2 subdivision: ``SCT`` of
    ``GB``, ``CA`` of ``US``, ``BY`` of ``DE``), named in the community's language where the
    library has it. Japan in Japanese uses jpholiday (3 ms import, cold-start friendly); everything
    else the ``holidays`` package, imported only when asked for."""
    if country == "JP" and region is None and locale.startswith("ja"):
        import jpholiday

        return lambda d: jpholiday.is_holiday_name(d)
    import holidays

    kind = holidays.country_holidays(country, subdiv=region)
    language = holiday_language(tuple(getattr(kind, "supported_languages", ())), locale, country)
    cache: dict[int, Mapping[dt.date, str]] = {}

    def lookup(d: dt.date) -> str | None:
        if d.year not in cache:
            cache[d.year] = holidays.country_holidays(country, subdiv=region, years=d.year, language=language)
        return cache[d.year].get(d)

    return lookup


def holiday_language(supported: tuple[str, ...], locale: str, country: str) -> str | None:
    """The ``holidays`` language closest to ``locale`` (``en-US`` -> ``en_US``, ``en`` in GB ->
    ``en_GB``); None (the country's own) when the package has no such translation."""
    lang, _, area = locale.partition("-")
    for want in (f"{lang}_{area}" if area else "", f"{lang}_{country}", lang, f"{lang}_US", f"{lang}_GB"):
        if want and want in supported:
            return want
    return next((s for s in supported if s.split("_")[0] == lang), None)


def holiday_problems(country: str, region: str | None) -> list[tuple[str, str]]:
    """What the ``holidays`` package says about ``community.holiday_country`` / ``holiday_region``
    (field path, message); empty when it knows both. Imports the package: for ``check-config``."""
    import holidays

    known = holidays.list_supported_countries()
    if country not in known:
        return [("community.holiday_country", f"{country!r} has no public holidays in the holidays package "
                 f"(known: {', '.join(sorted(k for k in known if len(k) == 2)[:12])}, ...)")]
    if region is None:
        return []
    regions = [r for r in known[country] if r.isupper() or r.isdigit()]
    if region in known[country]:
        return []
    if not regions:
        return [("community.holiday_region", f"{country} has no regional holidays in the holidays package; leave it out")]
    names = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    by_code = {code: name for name, code in names.items()}
    listed = ", ".join(f"{r} ({by_code[r]})" if r in by_code else r for r in regions[:40])
    return [("community.holiday_region", f"{region!r} is not a region of {country} in the holidays package "
             f"(known: {listed}{', ...' if len(regions) > 40 else ''})")]


def business_calendar(cfg: Config) -> BusinessCalendar:
    c = cfg.community
    return BusinessCalendar(holiday_lookup(c.holiday_country, c.holiday_region, c.locale), cfg.scheduling.blackouts)


@dataclass(frozen=True)
class SlotException:
    """An organizer's decision about one occurrence; it outlives every regeneration."""

    action: str  # "cancel" | "move"
    date: dt.date | None = None  # move: the new local date
    start: dt.time | None = None  # move: a new start time (default: the series' time)
    reason: str = ""


@dataclass(frozen=True)
class Occurrence:
    series_id: str
    key_date: dt.date
    date: dt.date
    start: dt.datetime  # aware, in the series' zone
    end: dt.datetime  # aware; the nominal end when open_end
    open_end: bool
    status: str = "scheduled"  # or "cancelled"
    note: str = ""
    shifted_from: dt.date | None = None
    anchor_id: str | None = None

    @property
    def slot_id(self) -> str:
        return slot_id(self.series_id, self.key_date)


def slot_id(series_id: str, key_date: dt.date) -> str:
    return f"{series_id}_{key_date.isoformat()}"


def at(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Wall-clock ``clock`` on ``day`` in ``zone``; a time in a DST gap moves to the real instant after."""
    naive = dt.datetime.combine(day, clock, tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


def plus(moment: dt.datetime, length: dt.timedelta) -> dt.datetime:
    """``length`` of real time after ``moment`` (aware datetime arithmetic in one zone is wall-clock
    arithmetic: 01:30 + 1 h on a fall-back night would otherwise last two hours)."""
    return (moment.astimezone(UTC) + length).astimezone(moment.tzinfo)


def _elapsed(begin: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return end.astimezone(UTC) - begin.astimezone(UTC)


def rule_dates(series: Series, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates the rule produces in [start, end], before holidays and blackouts."""
    rule = series.rule
    if isinstance(rule, DatesRule):
        return sorted({d for d in rule.dates if start <= d <= end})
    if isinstance(rule, MonthlyRule):
        first = start.replace(day=1)
        it = rrule(MONTHLY, dtstart=dt.datetime.combine(first, dt.time()), until=dt.datetime.combine(end, dt.time()),
                   byweekday=weekday(rule.weekday, rule.nth))
    elif isinstance(rule, WeeklyRule):
        origin = rule.starting or start
        # Count weeks from the Monday of the origin's week, so "every 2 weeks" never drifts.
        monday = origin - dt.timedelta(days=origin.weekday())
        it = rrule(WEEKLY, dtstart=dt.datetime.combine(monday, dt.time()), until=dt.datetime.combine(end, dt.time()),
                   interval=rule.interval, byweekday=rule.weekdays, wkst=0)
    else:
        raise TypeError(f"{type(rule).__name__} has no dates of its own")
    lower = max(start, rule.starting) if isinstance(rule, WeeklyRule) and rule.starting else start
    return [d.date() for d in it if d.date() >= lower]


def apply_policy(day: dt.date, series: Series, cal: BusinessCalendar) -> tuple[dt.date | None, str]:
    """Where an occurrence falls after the series' holiday/blackout policy, and why it moved.

    A blackout's policy comes first; when the series allows blackouts, a holiday on that day still
    follows ``on_holiday`` (1/1 is both 元日 and inside the 12/29-1/3 blackout). A shift lands on
    the nearest weekday that is neither a holiday nor a blackout."""
    blackout = cal.blackout(day)
    reason: str
    if blackout is not None and series.on_blackout != "allow":
        policy, reason = series.on_blackout, Note("blackout", f"blackout: {blackout}", label=blackout)
    else:
        holiday = cal.holiday(day)
        if holiday is None or series.on_holiday == "allow":
            return day, ""
        policy, reason = series.on_holiday, Note("holiday", f"holiday: {holiday}", name=holiday)
    if policy == "skip":
        return None, reason
    step = dt.timedelta(days=1 if policy == "next_business_day" else -1)
    moved = day
    for _ in range(MAX_SHIFT_DAYS):
        moved += step
        if cal.is_business_day(moved):
            return moved, reason
    return None, reason


def expand(
    cfg: Config,
    start: dt.date,
    end: dt.date,
    cal: BusinessCalendar,
    exceptions: Mapping[str, SlotException] | None = None,
) -> list[Occurrence]:
    """Every occurrence whose key date lies in [start, end], skipped ones left out."""
    exceptions = exceptions or {}
    nominal = dt.timedelta(minutes=cfg.scheduling.open_end_nominal_minutes)
    by_series: dict[str, dict[dt.date, Occurrence]] = {}
    out: list[Occurrence] = []
    for sid in cfg.series_order():
        series = cfg.series[sid]
        zone = cfg.series_zone(sid)
        made: dict[dt.date, Occurrence] = {}
        if isinstance(series.rule, SameDayAsRule):
            for key, anchor in by_series.get(series.rule.series, {}).items():
                occ = _relative(sid, series, zone, key, anchor, cfg.series[series.rule.series].start)
                made[key] = _apply_exception(occ, exceptions.get(occ.slot_id), series, zone, nominal)
        else:
            # Two keys can land on one day (Mon+Tue weekly, Mon a holiday, next_business_day). One
            # occurrence per day: the key that falls there by itself wins, else the earliest key. The
            # rivals are looked at beyond the window, so the winner (and the slot id) does not depend
            # on the day generate_slots runs.
            margin = dt.timedelta(days=2 * MAX_SHIFT_DAYS + 1)
            resolved = {key: apply_policy(key, series, cal) for key in rule_dates(series, start - margin, end + margin)}
            winner: dict[dt.date, dt.date] = {}
            for key, (day, _) in resolved.items():  # keys ascending
                if day is not None and (day not in winner or (key == day and winner[day] != day)):
                    winner[day] = key
            for key, (day, reason) in resolved.items():
                if day is None or not start <= key <= end or winner[day] != key:
                    continue  # skipped, outside the window, or merged into another occurrence of the series
                begin = at(day, series.start, zone)
                length = nominal if series.open_end else dt.timedelta(minutes=series.duration_minutes or 0)
                occ = Occurrence(sid, key, day, begin, plus(begin, length), series.open_end,
                                 note=reason if day != key else "", shifted_from=key if day != key else None)
                made[key] = _apply_exception(occ, exceptions.get(occ.slot_id), series, zone, nominal)
        by_series[sid] = made
        out.extend(made.values())
    return sorted(out, key=lambda o: (o.start, o.series_id))


def _relative(sid: str, series: Series, zone: ZoneInfo, key: dt.date, anchor: Occurrence, usual: dt.time) -> Occurrence:
    """Ends when the anchor starts. Cancelled with it; also cancelled when an organizer moved the
    anchor to start no later than this one (it then keeps the span up to the anchor's usual start,
    so that even a cancelled entry ends after it starts)."""
    begin = at(anchor.date, series.start, zone)
    end = anchor.start.astimezone(zone)
    if anchor.status == "cancelled":
        return Occurrence(sid, key, anchor.date, begin, end if _elapsed(begin, end) > dt.timedelta(0) else
                          _usual_end(begin, series.start, usual, zone), False, "cancelled",
                          Note("anchor_cancelled", f"{anchor.series_id} is cancelled", anchor=anchor.series_id),
                          anchor_id=anchor.slot_id)
    if _elapsed(begin, end) <= dt.timedelta(0):
        skipped = _elapsed(begin, at(anchor.date, usual, zone)) <= dt.timedelta(0)
        note = (Note("clocks_forward", f"{series.start:%H:%M}-{usual:%H:%M} does not exist on {anchor.date} (the clocks go forward)",
                     start=series.start, end=usual, date=anchor.date) if skipped
                else Note("anchor_earlier", f"{anchor.series_id} now starts at {end:%H:%M}, before this one",
                          anchor=anchor.series_id, start=end.time()))
        return Occurrence(sid, key, anchor.date, begin, _usual_end(begin, series.start, usual, zone), False, "cancelled",
                          note, anchor_id=anchor.slot_id)
    return Occurrence(sid, key, anchor.date, begin, end, False, shifted_from=anchor.shifted_from,
                      note=anchor.note, anchor_id=anchor.slot_id)


def _usual_end(begin: dt.datetime, start: dt.time, usual: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The anchor's usual start on ``begin``'s day, for an entry that no longer has an anchor to end
    at. When both wall times fall in one DST gap (01:00 and 02:00 in London on the spring-forward
    night are the same instant), the entry keeps its usual length on the wall clock instead, so it
    still ends after it starts."""
    end = at(begin.date(), usual, zone)
    if _elapsed(begin, end) > dt.timedelta(0):
        return end
    day = begin.date()
    return plus(begin, dt.datetime.combine(day, usual) - dt.datetime.combine(day, start))


def _apply_exception(occ: Occurrence, exc: SlotException | None, series: Series, zone: ZoneInfo,
                     nominal: dt.timedelta) -> Occurrence:
    if exc is None:
        return occ
    if exc.action == "cancel":
        return _replace(occ, status="cancelled", note=Note("cancelled", exc.reason or "cancelled by an organizer", reason=exc.reason))
    if exc.action == "move" and exc.date is not None:
        begin = at(exc.date, exc.start or series.start, zone)
        return _replace(occ, date=exc.date, start=begin, end=plus(begin, _elapsed(occ.start, occ.end)),
                        shifted_from=occ.key_date, note=Note("moved", exc.reason or "moved by an organizer", reason=exc.reason))
    return occ


def _replace(occ: Occurrence, **changes: object) -> Occurrence:
    return replace(occ, **changes)  # type: ignore[arg-type]
