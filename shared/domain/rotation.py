"""Pure host rotation: who hosts an online event, and why the others were passed over.

Fairness: the least *weighted load* (duties counted from ``window`` before the event onwards,
divided by the host's weight), ties to whoever hosted least recently, then the organizer id.
Greedy in event order, this is a weighted round robin: with equal weights the counts of any two
hosts differ by at most one; with weights each share stays within one event of its ideal.

Zoom licence (docs/speakers.md): ``basic`` (free) meetings end at 40 minutes, so such a
host takes only events of 40 minutes or less and never an open-end one; ``pro`` hosts one meeting
at a time, ``business`` two. An open-end event occupies its account until its nominal end.

No I/O here. Capacity under concurrent runs is enforced by the use case with one ``create()``
claim per (host, 15-minute bucket, seat): :func:`capacity_units` names them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from zoneinfo import ZoneInfo

from shared.config.people import HostAvailability

CAPACITY = {"basic": 1, "pro": 1, "business": 2}
BASIC_MAX = dt.timedelta(minutes=40)
BUCKET = dt.timedelta(minutes=15)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# Reasons a host is passed over (stable codes; the CLI translates them).
R_WEIGHT_ZERO = "not_in_rotation"
R_WEEKDAY = "weekday"
R_HOURS = "hours"
R_BLACKOUT = "blackout"
R_MONTHLY_MAX = "monthly_max"
R_BASIC_LENGTH = "basic_licence_40min"
R_LICENCE_BUSY = "licence_busy"
R_HANDED_BACK = "handed_back"
R_UNAVAILABLE = "marked_unavailable"  # the host marked the date in the console
R_OUTRANKED = "higher_load_or_more_recent"  # older records; new ones name the tie-break that decided:
R_HIGHER_LOAD = "higher_load"  # more events per weight in the fairness window than the chosen host
R_MORE_RECENT = "hosted_more_recently"  # the same load, but hosted more recently than the chosen host
R_ID_ORDER = "same_load_and_last_date"  # the same load and the same last duty: the organizer id's order decided


@dataclass(frozen=True)
class Host:
    id: str
    licence: str  # basic | pro | business
    availability: HostAvailability = field(default_factory=HostAvailability)
    unavailable: frozenset[dt.date] = frozenset()  # dates the host marked (docs/console.md)


@dataclass(frozen=True)
class Event:
    slot_id: str
    start: dt.datetime  # aware
    end: dt.datetime  # aware; the nominal end for an open-end event
    open_end: bool = False


@dataclass(frozen=True)
class Duty:
    host_id: str
    slot_id: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Verdict:
    host_id: str
    reason: str | None  # None: eligible
    load: Fraction
    count: int
    last: dt.datetime | None

    def as_dict(self) -> dict[str, object]:
        return {"host_id": self.host_id, "reason": self.reason, "load": float(self.load), "count": self.count,
                "last": self.last.isoformat() if self.last else None}


@dataclass(frozen=True)
class Ranking:
    ranked: tuple[str, ...]  # eligible hosts, best first
    verdicts: tuple[Verdict, ...]  # every host, in ranking order then the ineligible ones

    @property
    def best(self) -> str | None:
        return self.ranked[0] if self.ranked else None

    def explanation(self, chosen: str | None) -> list[dict[str, object]]:
        """Who was considered and why each one not chosen was passed over: the rule that actually
        decided between them and the chosen host (lower load first, then who hosted least recently,
        then the organizer id)."""
        winner = next((v for v in self.verdicts if v.host_id == chosen), None)
        out = []
        for v in self.verdicts:
            reason = v.reason
            if reason is None and v.host_id != chosen:
                reason = _tie_break(v, winner)
            out.append({**v.as_dict(), "reason": reason, "chosen": v.host_id == chosen})
        return out


def _tie_break(loser: Verdict, winner: Verdict | None) -> str:
    if winner is None:
        return R_OUTRANKED
    if loser.load != winner.load:
        return R_HIGHER_LOAD
    if (loser.last or _EPOCH) != (winner.last or _EPOCH):
        return R_MORE_RECENT
    return R_ID_ORDER


def max_concurrency(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> int:
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    cur = peak = 0
    for _, delta in points:
        cur += delta
        peak = max(peak, cur)
    return peak


def ineligible_reason(host: Host, event: Event, zone: ZoneInfo, duties: Sequence[Duty],
                      handed_back: Iterable[str] = ()) -> str | None:
    """Why ``host`` cannot take ``event`` (None: they can). ``duties``: this host's duties."""
    av = host.availability
    if av.weight <= 0:
        return R_WEIGHT_ZERO
    if host.id in set(handed_back):
        return R_HANDED_BACK
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    if start.weekday() not in av.weekdays:
        return R_WEEKDAY
    if av.hours is not None:
        end_clock = dt.time.max if end.date() > start.date() else end.time()
        if start.time() < av.hours.start or end_clock > av.hours.end:
            return R_HOURS
    if av.blacked_out(start.date()) or av.blacked_out(end.date()):
        return R_BLACKOUT
    if start.date() in host.unavailable or end.date() in host.unavailable:
        return R_UNAVAILABLE
    if av.monthly_max is not None:
        month = sum(1 for d in duties if d.slot_id != event.slot_id
                    and (d.start.astimezone(zone).year, d.start.astimezone(zone).month) == (start.year, start.month))
        if month >= av.monthly_max:
            return R_MONTHLY_MAX
    if host.licence == "basic" and (event.open_end or event.end - event.start > BASIC_MAX):
        return R_BASIC_LENGTH
    overlapping = [(max(d.start, event.start), min(d.end, event.end)) for d in duties
                   if d.slot_id != event.slot_id and d.start < event.end and event.start < d.end]
    if overlapping and max_concurrency(overlapping) + 1 > CAPACITY[host.licence]:
        return R_LICENCE_BUSY
    return None


def rank_hosts(event: Event, hosts: Sequence[Host], duties: Sequence[Duty], zone: ZoneInfo,
               window: dt.timedelta, handed_back: Iterable[str] = ()) -> Ranking:
    """Rank every eligible host for ``event``; ``duties``: every known duty of every host."""
    handed = tuple(handed_back)
    by_host: dict[str, list[Duty]] = {h.id: [] for h in hosts}
    for d in duties:
        if d.host_id in by_host:
            by_host[d.host_id].append(d)
    since = event.start - window
    eligible: list[tuple[tuple[Fraction, dt.datetime, str], Verdict]] = []
    passed: list[Verdict] = []
    for h in hosts:
        mine = [d for d in by_host[h.id] if d.slot_id != event.slot_id]
        count = sum(1 for d in mine if d.start >= since)
        before = [d.start for d in mine if d.start < event.start]
        last = max(before) if before else None
        weight = Fraction(str(h.availability.weight))
        load = Fraction(count) / weight if weight else Fraction(10**9)
        reason = ineligible_reason(h, event, zone, mine, handed)
        verdict = Verdict(h.id, reason, load, count, last)
        if reason is None:
            eligible.append(((load, last or _EPOCH, h.id), verdict))
        else:
            passed.append(verdict)
    eligible.sort(key=lambda pair: pair[0])
    return Ranking(tuple(v.host_id for _, v in eligible), tuple(v for _, v in eligible) + tuple(passed))


def capacity_units(host: Host, start: dt.datetime, end: dt.datetime) -> list[list[str]]:
    """Claim names for one duty: per 15-minute bucket it touches, the seats a claim may take
    (one seat per meeting the licence allows). Taking any one seat in every bucket reserves the duty;
    at most ``CAPACITY`` claims can exist per bucket, so two runs can never both take the last seat."""
    first = int((start - _EPOCH) // BUCKET)
    last = -int(-(end - _EPOCH) // BUCKET)  # ceiling
    seats = CAPACITY[host.licence]
    return [[f"cap~{host.id}~{b}~{k}" for k in range(seats)] for b in range(first, max(last, first + 1))]


def month_units(host: Host, start: dt.datetime, zone: ZoneInfo) -> list[str]:
    """Claim names bounding a host's monthly maximum under concurrent runs."""
    cap = host.availability.monthly_max
    if cap is None:
        return []
    local = start.astimezone(zone)
    return [f"month~{host.id}~{local:%Y-%m}~{k}" for k in range(cap)]
