"""Texts in the community's language: ``ja`` (default) and ``en``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = {
    "ja": ("月", "火", "水", "木", "金", "土", "日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "speaker_tba": "登壇者は決まり次第お知らせします。日程の確保をお願いします。",
        "save_the_date": "日程を確保してください。詳細は決まり次第この予定に追記されます。",
        "open_end": "終了時刻は目安です(自由解散)。",
        "online": "オンライン開催(参加リンクは決まり次第ここに載ります)",
        "offline": "会場開催",
        "cancelled": "この回は中止になりました。",
        "retired_note": "開催ルールの変更により、この回はなくなりました。",
        "flag_no_longer_matches": "開催ルールの変更でこの回は対象外になりましたが、担当者が決まっているため残しています。運営で判断してください。",
        "moved_from": "{date} から移動しました",
    },
    "en": {
        "speaker_tba": "Speaker to be announced. Please keep the date free.",
        "save_the_date": "Please keep the date free. Details will be added to this entry.",
        "open_end": "The end time is nominal (open end).",
        "online": "Online (the join link appears here once it exists)",
        "offline": "In person",
        "cancelled": "This session is cancelled.",
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


def save_the_date(locale: str, slot: Mapping[str, Any]) -> str:
    lines = []
    if slot.get("status") != "scheduled":
        lines.append(text(locale, "cancelled"))
    if slot.get("kind") == "speaker_night" and not slot.get("speaker"):
        lines.append(text(locale, "speaker_tba"))
    else:
        lines.append(text(locale, "save_the_date"))
    lines.append(text(locale, "online" if slot.get("online") else "offline"))
    if slot.get("open_end"):
        lines.append(text(locale, "open_end"))
    if slot.get("note"):
        lines.append(str(slot["note"]))
    return "\n".join(lines)


def local(value: dt.datetime, zone: str) -> dt.datetime:
    return value.astimezone(ZoneInfo(zone))
