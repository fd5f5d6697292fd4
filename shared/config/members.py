"""Config section ``members:``: the member's own settings page (docs/members.md)."""


from typing import Annotated

from shared.config.base import Model, bounded


class Members(Model):
    # a member's settings link stays valid this long after the mail that carried it (every personal
    # mail carries a fresh one); the member can replace it at once from the page
    link_ttl_days: Annotated[int, bounded(7, 1000, "a link lifetime in days")] = 365
