"""Every short text people read, per locale: ``shared/templates/<locale>/texts/<area>.yaml``.

A translator works in one folder per language: the mail and page templates (Jinja, rendered by
:mod:`shared.platform.mail`) and ``texts/``, the message catalog of everything shorter: calendar
lines, action-page sentences, CLI headers and messages, guideline reasons, the defaults of config
values that are texts (docs/i18n.md). Code names a text by its key, whose first part is the file
(``calendar.speaker`` is ``speaker`` in ``texts/calendar.yaml``), and never holds the words::

    t("ja", "calendar.speaker", name="山田　花子")      # -> "登壇者: 山田　花子"
    t("en", "cli.decided.changed", count=2)            # plural: {one: ..., other: ...} picked by count

Locales: a language (``ja``, ``en``) has a folder with every template and every key; a regional
variant (``en-US``) has a folder with only the keys that differ (date order, date formats); a key
it leaves out comes from its language. An unknown locale falls back to the default :func:`normalise`
is given (the community's locale), else to ``ja``, the first community's language. Values are
``str.format`` templates; a mapping ``{one, other}`` is a plural, chosen by the ``count`` value
(English: one for 1; Japanese has no plural forms); a list is a list (weekday names).

Each area file is read once per locale, on first use (libyaml when PyYAML has it): a function reads
only the areas it shows (YAML costs about 1 ms per KB on a cold start; the CLI's texts never reach a
cron function). This module imports nothing of ``shared`` (the config reads its text defaults here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DEFAULT_LOCALE = "ja"
LANGUAGES = ("ja", "en")  # a folder with every template and every key
LOCALES = ("ja", "en", "en-GB", "en-US")  # what community.locale accepts; en-GB is en itself
_ALIASES = {"en-GB": "en"}
PLURAL_FORMS = frozenset({"zero", "one", "other"})


def normalise(locale: Any, default: str = DEFAULT_LOCALE) -> str:
    """A locale this catalog knows: ``en-GB`` -> ``en``, ``en_US`` -> ``en-US``; missing or unknown
    -> ``default``. Whoever has the community config passes its ``community.locale`` as the default
    (a person's stored locale: ``normalise(member.get("locale"), cfg.community.locale)``); ``ja``,
    the first community's language, only where no config is at hand."""
    value = (locale if isinstance(locale, str) else "").strip().replace("_", "-")
    if value in _ALIASES:
        return _ALIASES[value]
    if value in LOCALES:
        return value
    lang = value.split("-")[0].lower()
    if lang in LANGUAGES:
        return lang
    return DEFAULT_LOCALE if default == DEFAULT_LOCALE else normalise(default)


def language(locale: str | None) -> str:
    """The language part of a locale (``en-US`` -> ``en``): the folder of its mail templates."""
    return normalise(locale).split("-")[0]


def _flatten(node: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not (value and set(value) <= PLURAL_FORMS):
            _flatten(value, name + ".", out)
        else:
            out[name] = value


def read_catalog(path: Path, prefix: str = "") -> dict[str, Any]:
    """One area file as ``{dotted key: value}``; empty when the file does not exist."""
    if not path.is_file():
        return {}
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        _flatten(data, prefix, out)
    return out


def areas(folder: str) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in (TEMPLATES / folder / "texts").glob("*.yaml")))


@cache
def _area(locale: str, area: str) -> Mapping[str, Any]:
    """One area of ``locale``: its language's file with the regional variant's keys on top."""
    lang = locale.split("-")[0]
    merged = read_catalog(TEMPLATES / lang / "texts" / f"{area}.yaml", f"{area}.")
    if locale != lang:
        merged.update(read_catalog(TEMPLATES / locale / "texts" / f"{area}.yaml", f"{area}."))
    return merged


def language_catalog(folder: str) -> dict[str, Any]:
    """Every key written in one folder (``ja``, ``en``, ``en-US``), without fallbacks: for tests and tools."""
    out: dict[str, Any] = {}
    for area in areas(folder):
        out.update(read_catalog(TEMPLATES / folder / "texts" / f"{area}.yaml", f"{area}."))
    return out


def catalog(locale: str | None) -> Mapping[str, Any]:
    """Every key of ``locale`` (reads every area: for tests and tools)."""
    loc = normalise(locale)
    out: dict[str, Any] = {}
    for area in areas(language(loc)):
        out.update(_area(loc, area))
    return out


class MissingText(KeyError):
    """A key no catalog has: a programming mistake, caught by tests/unit/test_texts.py."""


def raw(locale: str | None, key: str) -> Any:
    """The catalog value as written (a string, a plural mapping, a list); ``ja`` when the locale lacks it."""
    area = key.partition(".")[0]
    found = _area(normalise(locale), area).get(key)
    if found is None:
        found = _area(DEFAULT_LOCALE, area).get(key)
    if found is None:
        raise MissingText(key)
    return found


def plural_form(locale: str | None, count: int) -> str:
    if language(locale) == "ja":
        return "other"
    return "one" if count == 1 else "other"


def t(locale: str | None, key: str, /, **values: Any) -> str:
    """The text ``key`` in ``locale``, its ``{fields}`` filled from ``values``."""
    value = raw(locale, key)
    if isinstance(value, Mapping):
        count = int(values.get("count", 0))
        value = value.get("zero") if count == 0 and "zero" in value else value.get(plural_form(locale, count), value.get("other"))
    if not isinstance(value, str):
        raise MissingText(f"{key} is not a text")
    return value.format(**values)


def t_list(locale: str | None, key: str) -> tuple[str, ...]:
    value = raw(locale, key)
    if not isinstance(value, list):
        raise MissingText(f"{key} is not a list")
    return tuple(str(v) for v in value)


def has(locale: str | None, key: str) -> bool:
    area = key.partition(".")[0]
    return key in _area(normalise(locale), area) or key in _area(DEFAULT_LOCALE, area)


# -- dates and times as the community writes them ----------------------------------------------


def weekday(locale: str | None, day: dt.date, form: str = "short") -> str:
    return t_list(locale, f"format.weekdays_{form}")[day.weekday()]


def _date_values(locale: str | None, day: dt.date) -> dict[str, Any]:
    return {"year": day.year, "month": day.month, "day": day.day, "weekday": weekday(locale, day),
            "weekday_long": weekday(locale, day, "long"), "month_name": t_list(locale, "format.months")[day.month - 1],
            "month_short": t_list(locale, "format.months_short")[day.month - 1]}


def _time_values(moment: dt.datetime | dt.time) -> dict[str, Any]:
    hour = moment.hour
    return {"h24": f"{hour:02d}", "h12": str(hour % 12 or 12), "minute": f"{moment.minute:02d}",
            "ampm": "am" if hour < 12 else "pm"}


def fmt_date(locale: str | None, day: dt.date, form: str = "date") -> str:
    """``form``: ``date`` (weekday, day, month, year), ``date_short`` (weekday, day, month)."""
    return t(locale, f"format.{form}", **_date_values(locale, day))


def fmt_time(locale: str | None, moment: dt.datetime | dt.time) -> str:
    return t(locale, "format.time", **_time_values(moment))


def fmt_datetime(locale: str | None, moment: dt.datetime, zone: str | dt.tzinfo | None = None, form: str = "datetime") -> str:
    """A moment in ``zone`` (the community's), e.g. ``2027年1月12日(火) 20:00`` / ``Tue 12 Jan 2027, 20:00``."""
    if zone is not None:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return t(locale, f"format.{form}", **_date_values(locale, moment.date()), **_time_values(moment))


def date_order(locale: str | None) -> str:
    """``ymd``, ``dmy`` or ``mdy``: how people of this locale write a date with numbers only."""
    return t(locale, "format.date_order")


def render_title(template: str, series_id: str, start: dt.datetime, locale: str | None) -> str:
    """A series' title template (``series.<id>.title``) for one occurrence; fields in README."""
    return template.format(date=start.date(), series=series_id, year=start.year, month=start.month, day=start.day,
                           weekday=weekday(locale, start.date()),
                           month_name=t_list(locale, "format.months")[start.month - 1])
