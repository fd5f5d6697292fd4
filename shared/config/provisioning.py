"""The ``provisioning:`` section of the community config: Zoom meetings and calendar entries.

Kept apart from ``shared/config/model.py`` (which imports it); templates are checked at load time so a
typo in a field name fails before the first event is provisioned.
"""


from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from shared.config.base import Email, Model, bounded, check_template

# Fields the topic / agenda / calendar title templates may use.
TEMPLATE_FIELDS = ("title", "date", "time", "weekday", "series", "kind", "speaker", "topic", "host")


def _template(field: str, v: str) -> None:
    try:
        check_template(v, TEMPLATE_FIELDS)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


class ZoomKind(Model):
    """Meeting settings for one event kind."""

    waiting_room: bool = True
    join_before_host: bool = False
    needs_confirmed_speaker: bool = False  # create the meeting only once the speaker confirmed


class ZoomProvisioning(Model):
    topic: str = "{title}"
    agenda: str = "{title}\n{speaker}\n{topic}"
    alternative_hosts: bool = False  # the other licensed organizers become alternative hosts
    default: ZoomKind = msgspec.field(default_factory=ZoomKind)
    kinds: dict[str, ZoomKind] = msgspec.field(default_factory=lambda: {"speaker_night": ZoomKind(needs_confirmed_speaker=True)})

    def check(self) -> None:
        _template("topic", self.topic)
        _template("agenda", self.agenda)

    def for_kind(self, kind: str) -> ZoomKind:
        return self.kinds.get(kind, self.default)


class CalendarProvisioning(Model):
    """The community calendar and how members get its entries.

    ``invitations``: ``group`` invites one Google Group address (members get mail through the
    group); ``members`` puts member addresses on the entry (needs user credentials or domain-wide
    delegation, and stays within Google's guest limits); ``none``: members subscribe to the calendar.
    """

    calendar_id: str = "primary"
    invitations: Literal["group", "members", "none"] = "none"
    group_address: Email | None = None
    delegated_subject: Email | None = None  # Workspace user the service account acts for
    max_attendees: Annotated[int, bounded(1, 100_000, "a number of attendees")] = 1000
    titles: dict[str, str] = msgspec.field(default_factory=dict)  # per kind, e.g. speaker_night: "{title}：{speaker}"

    def check(self) -> None:
        for template in self.titles.values():
            _template("titles", template)
        if self.invitations == "group" and not self.group_address:
            raise ValueError("group_address: the group invitation mode needs the group's address")


class Provisioning(Model):
    """``delivery``: ``outbox`` / ``live`` force it; ``auto`` decides per vendor (``live_delivery``)."""

    delivery: Literal["auto", "outbox", "live"] = "auto"
    zoom: ZoomProvisioning = msgspec.field(default_factory=ZoomProvisioning)
    calendar: CalendarProvisioning = msgspec.field(default_factory=CalendarProvisioning)


def live_delivery(mode: str, kind: Literal["zoom", "calendar"], environ: Mapping[str, str]) -> bool:
    """Whether provisioning talks to the real vendor (True) or writes the outbox (False).

    ============  ===========================  ==================================================
    ``mode``      where                        Zoom / Calendar
    ============  ===========================  ==================================================
    ``live``      anywhere                     live / live
    ``outbox``    anywhere                     outbox / outbox
    ``auto``      Cloud Functions (K_SERVICE)  live / live: credentials come from the metadata
                                               server; an outbox there would be an instance's
                                               throw-away disk, so nothing would reach anybody
    ``auto``      elsewhere                    live when ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and
                                               ZOOM_CLIENT_SECRET are all set / live when
                                               GOOGLE_APPLICATION_CREDENTIALS is set; else outbox
    ============  ===========================  ==================================================

    ``K_SERVICE`` is set by the Cloud Run runtime that gen2 functions run on, never by
    functions-framework. ``FUNCTION_TARGET`` cannot tell: functions-framework sets it locally too.
    """
    from shared.platform import env

    if mode in ("live", "outbox"):
        return mode == "live"
    if environ.get(env.K_SERVICE):
        return True
    if kind == "zoom":
        return all(environ.get(n) for n in (env.ZOOM_ACCOUNT_ID, env.ZOOM_CLIENT_ID, env.ZOOM_CLIENT_SECRET))
    return bool(environ.get(env.GOOGLE_APPLICATION_CREDENTIALS))
