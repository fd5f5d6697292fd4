"""Live smoke test against the real vendors: `make smoke` (`python -m tools.smoke`).

Creates and deletes one Zoom test meeting, one calendar entry, and sends one mail to the organizers,
through the same adapters the functions use, then reports what worked. Each part runs only when its
credentials are set; with none set it prints what to set and exits 0 (so CI stays offline).

  Zoom      ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, SMOKE_ZOOM_USER (a host's e-mail)
  Calendar  SMOKE_CALENDAR_ID, and GOOGLE_APPLICATION_CREDENTIALS (a key file that may write to it)
  Mail      MAIL_TRANSPORT=gmail|smtp with its settings (MAIL_FROM, GOOGLE_API_CREDENTIALS or SMTP_*),
            SMOKE_MAIL_TO (an organizers' address)

Nothing here logs a token, a join URL or an address.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass

PARTS: dict[str, tuple[str, ...]] = {
    "zoom": ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "SMOKE_ZOOM_USER"),
    "calendar": ("SMOKE_CALENDAR_ID", "GOOGLE_APPLICATION_CREDENTIALS"),
    "mail": ("MAIL_TRANSPORT", "SMOKE_MAIL_TO"),
}


@dataclass
class Result:
    part: str
    status: str  # ok | failed | skipped | not available
    detail: str = ""


class NotAvailable(Exception):
    """An adapter this step needs is not in this checkout (yet)."""


def _missing(names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not os.environ.get(n)]


def _start() -> dt.datetime:
    # tomorrow 23:00 UTC (08:00 JST the day after): far from real events, inside Zoom's scheduling window
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=23, minute=0, second=0, microsecond=0)


def smoke_zoom(run: str) -> str:
    try:
        from shared.adapters.zoom import ZoomMeetings
        from shared.ports import MeetingSpec
    except ImportError as exc:
        raise NotAvailable(f"Zoom adapter: {exc}") from None
    zoom = ZoomMeetings(os.environ["ZOOM_ACCOUNT_ID"], os.environ["ZOOM_CLIENT_ID"], os.environ["ZOOM_CLIENT_SECRET"])
    spec = MeetingSpec(marker=f"smoke-{run}", topic="Alumni Autopilot smoke test (delete me)",
                       agenda=f"smoke-{run}", start=_start(), duration_minutes=15, timezone="Asia/Tokyo")
    meeting = zoom.create(os.environ["SMOKE_ZOOM_USER"], spec)
    try:
        if zoom.get(meeting.id) is None:
            raise RuntimeError("the meeting was created but cannot be read back")
    finally:
        deleted = zoom.delete(meeting.id)
    return "created, read back and deleted one meeting" if deleted else "created; delete answered 'not found'"


def smoke_calendar(run: str) -> str:
    try:
        from shared.adapters.google_calendar import GoogleCalendar
        from shared.domain.ids import calendar_event_id
        from shared.ports import CalendarEvent
    except ImportError as exc:
        raise NotAvailable(f"Calendar adapter: {exc}") from None
    cal = GoogleCalendar(os.environ["SMOKE_CALENDAR_ID"])
    start = _start()
    event = CalendarEvent(event_id=calendar_event_id(f"smoke-{run}"), title="Alumni Autopilot smoke test (delete me)",
                          start=start, end=start + dt.timedelta(minutes=15), timezone="Asia/Tokyo",
                          description="created by make smoke", location="", status="confirmed")
    cal.insert(event, "none")
    try:
        if cal.get(event.event_id) is None:
            raise RuntimeError("the event was inserted but cannot be read back")
    finally:
        cal.delete(event.event_id, "none")
    return "inserted, read back and deleted one event (no invitations sent)"


def smoke_mail(run: str) -> str:
    try:
        from shared import bootstrap
        from shared.platform.mail import OutgoingMail
    except ImportError as exc:
        raise NotAvailable(f"mail: {exc}") from None
    if os.environ["MAIL_TRANSPORT"].strip().lower() == "outbox":
        raise NotAvailable("MAIL_TRANSPORT=outbox sends nothing: use gmail or smtp")
    transport = bootstrap.mailer().transport  # the real transport, without the Firestore bookkeeping
    transport.deliver(OutgoingMail(to=(os.environ["SMOKE_MAIL_TO"],), subject="Alumni Autopilot: 配信テスト (smoke test)",
                                   text="make smoke からのテストメールです。\nThis is a test mail from `make smoke`.",
                                   intent=f"smoke-{run}"))
    return "sent one mail to SMOKE_MAIL_TO"


STEPS: dict[str, Callable[[str], str]] = {"zoom": smoke_zoom, "calendar": smoke_calendar, "mail": smoke_mail}


def run(parts: dict[str, tuple[str, ...]] = PARTS) -> list[Result]:
    run_id = uuid.uuid4().hex[:10]
    results = []
    for part, names in parts.items():
        missing = _missing(names)
        if missing:
            results.append(Result(part, "skipped", "set " + ", ".join(missing)))
            continue
        try:
            results.append(Result(part, "ok", STEPS[part](run_id)))
        except NotAvailable as exc:
            results.append(Result(part, "not available", str(exc)))
        except Exception as exc:  # report and go on with the next part
            results.append(Result(part, "failed", f"{type(exc).__name__}: {str(exc)[:200]}"))
    return results


def main() -> int:
    results = run()
    if all(r.status == "skipped" for r in results):
        print("smoke: skipped: no credentials set. " + "; ".join(f"{r.part}: {r.detail}" for r in results))
        return 0
    for r in results:
        print(f"smoke {r.part:9} {r.status:14} {r.detail}")
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
