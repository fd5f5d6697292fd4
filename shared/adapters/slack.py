"""Slack incoming webhook (real HTTP via requests) and its outbox twin (``slack/<intent>.json``).

Wire format: ``POST <webhook URL>`` with ``{"text": ...}`` as JSON; Slack answers 200 ``ok`` (plain
text). Errors are plain text too: 400 ``invalid_payload``, 403 ``invalid_token``/``action_prohibited``,
404 ``no_service``, 410 ``channel_is_archived``, 429 with ``Retry-After`` when over the rate limit.
A 4xx is definite (the message was not posted); a 5xx or a timeout is not.
"""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.outbox import Outbox
from shared.ports import ChatRefused

__all__ = ["ChatRefused", "OutboxChat", "SlackWebhook"]


class SlackWebhook:
    def __init__(self, url: str, timeout: float = 10.0, session: Any = None) -> None:
        self.url = url
        self.timeout = timeout
        self._session = session

    def post(self, text: str, intent: str) -> str:
        import requests

        http = self._session or requests
        res = http.post(self.url, json={"text": text}, timeout=self.timeout)
        if 400 <= res.status_code < 500:
            # The URL carries the secret: never put it in the message.
            raise ChatRefused(f"Slack refused the message (HTTP {res.status_code} {res.text[:60]})")
        res.raise_for_status()
        return "ok"


class OutboxChat:
    def __init__(self, outbox: Outbox | None = None) -> None:
        self.outbox = outbox or Outbox()

    def post(self, text: str, intent: str) -> str:
        name = intent.replace("/", "_").replace(":", "_") + ".json"
        self.outbox.write("slack", name, json.dumps({"text": text}, ensure_ascii=False, indent=1).encode())
        return name
