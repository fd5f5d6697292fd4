"""Texts in the community's language: ``ja`` (default) and ``en``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = {
    "ja": ("月", "火", "水", "木", "金", "土", "日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "retired_note": "開催ルールの変更により、この回はなくなりました。",
        "flag_no_longer_matches": "開催ルールの変更でこの回は対象外になりましたが、担当者が決まっているため残しています。運営で判断してください。",
        "moved_from": "{date} から移動しました",
    },
    "en": {
        "retired_note": "This session no longer exists after a change of the series rule.",
        "flag_no_longer_matches": "The series rule no longer produces this session, but somebody is assigned to it, so it stays. Organizers, please decide.",
        "moved_from": "moved from {date}",
    },
}


def text(locale: str, key: str, **values: Any) -> str:
    template = TEXTS.get(locale, TEXTS["ja"]).get(key) or TEXTS["ja"][key]
    return template.format(**values) if values else template


def render_title(template: str, series_id: str, start: dt.datetime, locale: str) -> str:
    return template.format(
        date=start.date(), series=series_id, year=start.year, month=start.month, day=start.day,
        weekday=WEEKDAY_NAMES.get(locale, WEEKDAY_NAMES["ja"])[start.weekday()],
    )


def local(value: dt.datetime, zone: str) -> dt.datetime:
    return value.astimezone(ZoneInfo(zone))
