"""The community configuration: one YAML file, loaded into typed, frozen objects.

Every error names the field path and what is wrong, e.g.
``series.lunch.rule.weekday: 'Thu ' is not a weekday (mon..sun)``. Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared import env
from shared.config_applications import Applications
from shared.config_bounds import bounded
from shared.config_people import People
from shared.config_provisioning import Provisioning
from shared.config_rhythm import Rhythm

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "community.example.yaml"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES = {name: i for i, name in enumerate(WEEKDAYS)} | {
    full: i
    for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
POLICIES = ("skip", "next_business_day", "previous_business_day", "allow")
Policy = Literal["skip", "next_business_day", "previous_business_day", "allow"]
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Fields a title template may use; checked at load time so a typo fails early.
TITLE_FIELDS = ("date", "series", "month", "day", "weekday", "year")


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` lists (field path, message)."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"invalid community config{f' ({source})' if source else ''}:"
        super().__init__("\n".join([head] + [f"  {path}: {msg}" for path, msg in problems]))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def parse_weekday(value: Any) -> int:
    if isinstance(value, str) and value.lower() in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[value.lower()]
    raise ValueError(f"{value!r} is not a weekday (mon..sun)")


def parse_clock(value: Any) -> dt.time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 20:00 as the sexagesimal number 1200.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    raise ValueError(f"{value!r} is not a time of day (HH:MM, 00:00..23:59)")


def parse_zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Asia/Tokyo)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Asia/Tokyo)") from None
    return value


class MonthlyRule(_Model):
    """The n-th weekday of every month (n = 1..5, or -1 for the last)."""

    type: Literal["monthly"]
    nth: int
    weekday: int

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, v: Any) -> int:
        return parse_weekday(v)

    @field_validator("nth")
    @classmethod
    def _nth(cls, v: int) -> int:
        if v not in (1, 2, 3, 4, 5, -1):
            raise ValueError(f"{v} is not an occurrence in the month (1..5, or -1 for the last)")
        return v


class WeeklyRule(_Model):
    """Every ``interval`` weeks on the given weekdays, counted from the week of ``starting``."""

    type: Literal["weekly"]
    weekdays: tuple[int, ...]
    interval: int = 1
    starting: dt.date | None = None

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekdays(cls, v: Any) -> tuple[int, ...]:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list | tuple) or not v:
            raise ValueError("give at least one weekday, e.g. [wed]")
        return tuple(sorted({parse_weekday(d) for d in v}))

    @model_validator(mode="after")
    def _anchor(self) -> WeeklyRule:
        if self.interval < 1:
            raise ValueError(f"interval: {self.interval} must be 1 or more weeks")
        if self.interval > 1 and self.starting is None:
            raise ValueError("starting: every N weeks needs a first date to count from")
        return self


class SameDayAsRule(_Model):
    """Same day as another series, ending when that series starts (follows its actual date)."""

    type: Literal["same_day_as"]
    series: str


class DatesRule(_Model):
    """Explicit one-off dates."""

    type: Literal["dates"]
    dates: tuple[dt.date, ...]


Rule = Annotated[MonthlyRule | WeeklyRule | SameDayAsRule | DatesRule, Field(discriminator="type")]
RULE_TYPES = ("monthly", "weekly", "same_day_as", "dates")


class Series(_Model):
    kind: str
    title: str
    timezone: str | None = None
    start: dt.time
    duration_minutes: Annotated[int, bounded(5, 24 * 60, "a length in minutes")] | None = None
    open_end: bool = False
    online: bool = True
    rule: Rule
    on_holiday: Policy = "skip"
    on_blackout: Policy = "skip"

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> dt.time:
        return parse_clock(v)

    @field_validator("timezone", mode="before")
    @classmethod
    def _tz(cls, v: Any) -> str | None:
        return None if v is None else parse_zone(v)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if not _IDENT.match(v):
            raise ValueError(f"{v!r} is not a kind name (lowercase letters, digits, _)")
        return v

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        check_template(v, TITLE_FIELDS)
        return v

    @model_validator(mode="after")
    def _length(self) -> Series:
        relative = isinstance(self.rule, SameDayAsRule)
        if relative and (self.open_end or self.duration_minutes is not None):
            raise ValueError("duration_minutes: a same_day_as series ends when its anchor starts; leave length and open_end out")
        if not relative and self.open_end == (self.duration_minutes is not None):
            raise ValueError("duration_minutes: give either duration_minutes or open_end: true (自由解散)")
        return self


class Blackout(_Model):
    """A blackout date or range. ``MM-DD`` values repeat every year (12-29..01-03 wraps the year)."""

    start: str = Field(alias="from")
    end: str | None = Field(default=None, alias="to")
    label: str = "blackout"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _day(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, dt.datetime):  # YAML reads 2027-01-03 10:00:00 as a datetime (a date subclass)
            raise ValueError(f"'{v.isoformat(sep=' ')}' has a time of day; give a date (YYYY-MM-DD) or a yearly day (MM-DD)")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, str):
            try:
                if re.fullmatch(r"\d{2}-\d{2}", v):
                    dt.date(2000, int(v[:2]), int(v[3:]))  # 2000 is a leap year: 02-29 is allowed
                    return v
                return dt.date.fromisoformat(v).isoformat()
            except ValueError:
                pass
        raise ValueError(f"{v!r} is not a date (YYYY-MM-DD) or a yearly day (MM-DD)")

    @model_validator(mode="after")
    def _same_kind(self) -> Blackout:
        if self.end is not None and (len(self.start) == 5) != (len(self.end) == 5):
            raise ValueError("to: use MM-DD on both ends of a yearly range, or YYYY-MM-DD on both")
        if self.end is not None and len(self.start) == 10 and self.end < self.start:
            raise ValueError(f"to: {self.end} is before from: {self.start}")
        return self

    def contains(self, day: dt.date) -> bool:
        end = self.end or self.start
        if len(self.start) == 10:
            return self.start <= day.isoformat() <= end
        md = day.strftime("%m-%d")
        if self.start <= end:
            return self.start <= md <= end
        return md >= self.start or md <= end  # wraps the new year


class Community(_Model):
    name: str
    locale: Literal["ja", "en"] = "ja"
    timezone: str = "Asia/Tokyo"
    holiday_country: str = "JP"

    @field_validator("timezone", mode="before")
    @classmethod
    def _tz(cls, v: Any) -> str:
        return parse_zone(v)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(f"{v!r} is not an ISO 3166 country code (e.g. JP)")
        return v


class Scheduling(_Model):
    horizon_months: Annotated[int, bounded(1, 24, "a horizon in months")] = 3
    open_end_nominal_minutes: Annotated[int, bounded(15, 12 * 60, "a nominal length in minutes")] = 120
    blackouts: tuple[Blackout, ...] = ()


class CronAuth(_Model):
    """How cron functions authenticate their caller.

    ``platform``: the function is private and Google checks the Scheduler's OIDC token before the
    request reaches us (production default; locally nothing is checked). ``oidc``: additionally
    verify the token in the function, with the audience (and optionally the signer) checked.
    """

    mode: Literal["platform", "oidc"] = "platform"
    audience: str | None = None
    service_account: str | None = None

    @model_validator(mode="after")
    def _audience(self) -> CronAuth:
        if self.mode == "oidc" and not self.audience:
            raise ValueError("audience: oidc mode needs the audience (the function's URL, e.g. "
                             "https://REGION-PROJECT.cloudfunctions.net/{function})")
        return self

    def audience_for(self, function: str) -> str | None:
        """The audience a token for ``function`` must carry: ``{function}`` in ``audience`` becomes
        the deployed name (``generate_slots`` -> ``generate-slots``), so one setting serves every
        cron function; an audience without it is taken as it is."""
        if self.audience is None:
            return None
        return self.audience.replace("{function}", function.replace("_", "-"))


class ZoomAccount(_Model):
    """An organizer's Zoom account. ``basic`` (free): 40 minutes; ``pro``: one meeting at a time;
    ``business``: two at a time."""

    user: str  # Zoom user id or e-mail
    licence: Literal["basic", "pro", "business"] = "pro"


class Organizer(_Model):
    name: str
    email: str
    zoom: ZoomAccount | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError("is not an e-mail address")
        return v


class Config(_Model):
    community: Community
    scheduling: Scheduling = Scheduling()
    cron_auth: CronAuth = CronAuth()
    organizers: dict[str, Organizer] = {}
    series: dict[str, Series] = {}
    applications: Applications | None = None  # membership form (shared/config_applications.py)
    people: People = People()  # host availability and the speaker offer loop (shared/config_people.py)
    rhythm: Rhythm = Rhythm()  # digest, reminders, weekly prompt, member event kinds (shared/config_rhythm.py)
    provisioning: Provisioning = Provisioning()  # Zoom meetings and calendar entries (shared/config_provisioning.py)

    @field_validator("series")
    @classmethod
    def _ids(cls, v: dict[str, Series]) -> dict[str, Series]:
        for key in v:
            if not _IDENT.match(key):
                raise ValueError(f"{key!r} is not a series id (lowercase letters, digits, _; used in slot ids)")
        return v

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


def check_template(template: str, fields: tuple[str, ...]) -> None:
    """Raise ValueError when ``template`` uses a field outside ``fields`` or is malformed."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{template!r} is not a valid template ({exc}); write {{{{ and }}}} for literal braces") from None
    unknown = sorted(n.split(".")[0].split("[")[0] for n in names if n.split(".")[0].split("[")[0] not in fields)
    if unknown or "" in names:
        raise ValueError(f"{template!r} uses unknown field(s) {unknown or ['{}']} (allowed: {', '.join(fields)})")


def _cross_checks(cfg: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for sid, s in cfg.series.items():
        if not isinstance(s.rule, SameDayAsRule):
            continue
        path = f"series.{sid}.rule.series"
        anchor = cfg.series.get(s.rule.series)
        if anchor is None:
            problems.append((path, f"{s.rule.series!r} is not a series in this config (known: {', '.join(cfg.series)})"))
            continue
        if isinstance(anchor.rule, SameDayAsRule):
            problems.append((path, f"{s.rule.series!r} is itself relative; anchor to a series with its own dates"))
            continue
        if (s.timezone or cfg.community.timezone) != (anchor.timezone or cfg.community.timezone):
            problems.append((f"series.{sid}.timezone", f"must equal the time zone of its anchor {s.rule.series!r}"))
        if s.start >= anchor.start:
            problems.append((f"series.{sid}.start", f"{s.start:%H:%M} must be before its anchor {s.rule.series!r} starts ({anchor.start:%H:%M})"))
    from shared.config_people import cross_checks as people_checks

    problems.extend(people_checks(cfg))
    from shared.config_rhythm import cross_checks as rhythm_checks

    problems.extend(rhythm_checks(cfg))
    return problems


_TAGGED = set(RULE_TYPES)


def _format_error(err: Mapping[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in err["loc"]]
    # Drop the discriminator tag pydantic inserts after "rule", and the ``function-after`` wrappers.
    loc = [p for i, p in enumerate(loc)
           if not (p in _TAGGED and i > 0 and loc[i - 1] == "rule") and not p.startswith("function-")]
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r} (check the spelling; see the configuration reference in README.md)"
    elif kind == "missing":
        msg = "is required"
    elif kind == "union_tag_invalid":
        got = err.get("ctx", {}).get("tag")
        msg = f"{got!r} is not a rule type ({', '.join(RULE_TYPES)})"
    elif kind == "union_tag_not_found":
        msg = f"needs a 'type' ({', '.join(RULE_TYPES)})"
    elif kind == "value_error":
        msg = str(err.get("ctx", {}).get("error", msg))
        # A model-level validator names its own field as "field: message".
        head, sep, rest = msg.partition(": ")
        if sep and re.fullmatch(r"[a-z_]+", head):
            loc, msg = [*loc, head], rest
    elif kind == "literal_error":
        msg = f"{err.get('input')!r} is not one of {err.get('ctx', {}).get('expected')}"
    else:
        msg = f"{msg} (got {err.get('input')!r})"
    return ".".join(loc) or "(top level)", msg


def parse_config(data: Any, source: str = "") -> Config:
    if not isinstance(data, dict):
        raise ConfigError([("(top level)", "the file must be a YAML mapping with community:, series:, ...")], source)
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_format_error(e) for e in exc.errors()], source) from None
    problems = _cross_checks(cfg)
    if problems:
        raise ConfigError(problems, source)
    return cfg


def config_path() -> Path:
    return Path(os.environ.get(env.COMMUNITY_CONFIG) or DEFAULT_CONFIG_PATH)


def _load_yaml(text: str) -> Any:
    """Parse with libyaml when PyYAML has it (~10x faster: ~10 ms off every cold start); an invalid
    file is parsed again by the pure-Python loader, whose error messages are clearer."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load_config(path: str | Path | None = None) -> Config:
    p = Path(path) if path else config_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([("(file)", f"cannot read {p}: {exc.strerror}")], str(p)) from None
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError([(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")], str(p)) from None
    return parse_config(data, str(p))
