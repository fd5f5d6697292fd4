"""Config section ``newsletter:``: the monthly newsletter, assembled by itself (docs/newsletter.md)."""


import re
from typing import Annotated

import msgspec

from shared.config.base import Email, Model, bounded

_URL = re.compile(r"^https?://\S+$")


class Calls(Model):
    """Where members answer the calls for speakers, hosts and member events (links in the newsletter)."""

    speakers_url: str | None = None  # e.g. the speaker form
    hosts_url: str | None = None
    member_events_url: str | None = None  # how to propose an event (the guidelines page)

    def check(self) -> None:
        for name in ("speakers_url", "hosts_url", "member_events_url"):
            value = getattr(self, name)
            if value is not None and not _URL.match(value):
                raise ValueError(f"{name}: {value!r} is not a URL")


class Newsletter(Model):
    enabled: bool = True
    day: Annotated[int, bounded(1, 28, "a day of the month")] = 1  # assembled on this day (community time)
    # sent by itself this many days after the preview unless an organizer approved it earlier; null:
    # only after an organizer's approval
    auto_send_after_days: Annotated[int, bounded(0, 30, "a number of days")] | None = 3
    mailing_list: Email | None = None  # a Google Group address: one message, the group delivers it
    batch_size: Annotated[int, bounded(1, 100, "a batch size", " recipients per mail")] = 50  # Bcc per mail otherwise
    daily_limit: int = 300  # recipients a day (with rhythm.prompt.daily_limit within the provider's limit)
    featured_entries: Annotated[int, bounded(0, 10, "a number of entries")] = 3  # directory entries featured
    rsvp_url: str | None = None  # an event's page, {slot_id} replaced: e.g. https://example.com/events/{slot_id}
    archive_url: str | None = None  # where past issues are read (the public events page)
    calls: Calls = msgspec.field(default_factory=Calls)

    def check(self) -> None:
        if self.daily_limit < self.batch_size:
            raise ValueError(f"daily_limit: {self.daily_limit} is smaller than one batch ({self.batch_size})")
        if self.rsvp_url is not None and (not _URL.match(self.rsvp_url) or "{slot_id}" not in self.rsvp_url):
            raise ValueError(f"rsvp_url: {self.rsvp_url!r} must be a URL with {{slot_id}} in it")
        if self.archive_url is not None and not _URL.match(self.archive_url):
            raise ValueError(f"archive_url: {self.archive_url!r} is not a URL")
