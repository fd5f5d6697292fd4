"""Dates as people write them, in the community's way: ``2027年3月9日``, ``3/9``, full-width digits
(ja); ``30 April 2027``, ``28/05/2027`` (day first: en, en-GB); ``May 28, 2027``, ``05/28/2027``
(month first: en-US). Pure: the date order comes from the caller (``format.date_order`` of the catalog).

Numbers only are read in the locale's order; when that order gives no date but the other does
(``05/28/2027`` in a day-first community), the one that exists is taken. A date without a year is
the next such day on or after ``today``. Month names go through dateutil's parser. Whatever cannot
be read is returned as written, so the person can be told exactly what was understood and what not.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_WD = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
# Every way of writing one date that this module reads, longest first; the rest of the text is "not understood".
_DATE = re.compile(
    r"(?P<ymd>\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)"
    r"|(?P<ja>(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日?)"
    rf"|(?P<dm>{_WD}\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?)"
    rf"|(?P<md>{_WD}{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)"
    r"|(?P<num>\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*(?:\d{4}|\d{2}))?)",
    re.IGNORECASE)
_JA_WEEKDAY = re.compile(r"\s*[(（]\s*[月火水木金土日](?:曜日?)?\s*[)）]")
_SEPARATORS = re.compile(r"(?:[\s;；、,，・/]|\band\b|と)+", re.IGNORECASE)


@dataclass(frozen=True)
class ReadDates:
    dates: tuple[dt.date, ...]  # sorted, without repeats
    not_understood: tuple[str, ...]  # the parts that are no date, as written


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _next(month: int, day: int, today: dt.date) -> dt.date | None:
    """The next ``month``/``day`` on or after ``today`` (a 29 February waits for its leap year)."""
    for year in range(today.year, today.year + 5):
        found = _make(year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _numbers(match: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", match)]


def _interpret(kind: str, text: str, order: str, today: dt.date) -> dt.date | None:
    if kind == "ymd":
        y, m, d = _numbers(text)
        return _make(y, m, d)
    if kind == "ja":
        n = _numbers(text)
        return _make(n[0], n[1], n[2]) if len(n) == 3 else _next(n[0], n[1], today)
    if kind == "num":
        n = _numbers(text)
        year = (n[2] + 2000 if n[2] < 100 else n[2]) if len(n) == 3 else None
        first = (n[1], n[0]) if order == "dmy" else (n[0], n[1])  # (month, day); ja writes 3/9 as month/day
        for month, day in (first, first[::-1]):  # the other order only when the locale's gives no date
            found = _make(year, month, day) if year else _next(month, day, today)
            if found is not None:
                return found
        return None
    return _by_name(text, today)


def _by_name(text: str, today: dt.date) -> dt.date | None:
    """``30 April 2027``, ``April 30``, ``Tue 3rd Sept``: dateutil reads it; no year means the next one."""
    from dateutil import parser

    has_year = re.search(r"\d{4}", text) is not None
    try:
        got = parser.parse(re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE),
                           default=dt.datetime(today.year if has_year else 2000, 1, 1))  # 2000: 29 Feb exists
    except (ValueError, OverflowError):
        return None
    return got.date() if has_year else _next(got.month, got.day, today)


# Answers that say "no such date": nothing to read, nothing to report back.
NOTHING = frozenset({"なし", "特になし", "とくになし", "ありません", "特にありません", "無し", "-", "ー", "none", "no", "n/a", "na",
                     "nothing", "no dates", "none at the moment"})


def read_dates(text: str, order: str, today: dt.date) -> ReadDates:
    """Every date in a free-text answer (``order``: ymd, dmy or mdy), and every part that is none.

    Words next to a date on the same line (``2027-06-08 は出張``, ``12 May (conference)``) are a note
    about it, not a date that went unread; a part with digits that reads as no date, or a line with
    no date at all, is reported."""
    s = _JA_WEEKDAY.sub(" ", unicodedata.normalize("NFKC", text))
    if s.strip().strip("。.!").lower() in NOTHING:
        return ReadDates((), ())
    found: set[dt.date] = set()
    unread: list[str] = []
    for line in re.split(r"[\n;；]", s):
        read_here = False
        rest: list[str] = []
        last = 0
        for m in _DATE.finditer(line):
            rest.append(line[last:m.start()])
            last = m.end()
            day = _interpret(str(m.lastgroup), m.group(0).strip(), order, today)
            if day is None:
                unread.append(m.group(0).strip())
            else:
                found.add(day)
                read_here = True
        rest.append(line[last:])
        for part in re.split(r"[、,，]", "".join(rest)):
            words = _SEPARATORS.sub(" ", part).strip()
            if words and (not read_here or re.search(r"\d", words)) and words.lower() not in NOTHING:
                unread.append(part.strip())
    return ReadDates(tuple(sorted(found)), tuple(unread))
