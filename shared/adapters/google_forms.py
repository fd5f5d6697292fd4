"""Forms API v1 through google-api-python-client (bundled discovery document, no network fetch).

``FORMS_API_ENDPOINT`` becomes ``client_options.api_endpoint``, so tests and staging can point it
at another server. 429 and 5xx are retried with exponential backoff and jitter; anything else raises.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from shared.adapters import google_auth
from shared.adapters.mail import google_credentials
from shared.platform import env

SCOPES = google_auth.SCOPES["forms"]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _sender_address() -> str:
    from shared.platform.mail import parse_address

    try:
        return parse_address(os.environ.get(env.MAIL_FROM, "")).addr_spec
    except ValueError:
        return ""


class GoogleForms:
    def __init__(self, endpoint: str | None = None, service: Any = None, attempts: int = 6,
                 base_delay: float = 1.0, sleep: Callable[[float], None] = time.sleep, page_size: int = 500,
                 subject: str | None = None, credentials: Any = None) -> None:
        self.endpoint = endpoint or os.environ.get(env.FORMS_API_ENDPOINT) or None
        self._credentials = credentials
        # whom the poller reads the form as: the organizers' account that owns the forms and sends the
        # mail (MAIL_FROM); with Workspace the delegation acts for it, with consumer Gmail it is the
        # refresh token's account anyway
        self.subject = subject or _sender_address()
        self._service = service
        self.attempts, self.base_delay, self.sleep, self.page_size = attempts, base_delay, sleep, page_size
        self.retries = 0

    @property
    def service(self) -> Any:
        if self._service is None:
            from googleapiclient.discovery import build

            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            creds = self._credentials or google_credentials("forms", self.subject, self.endpoint)
            self._service = build("forms", "v1", credentials=creds,
                                  static_discovery=True, client_options=options, cache_discovery=False)
        return self._service

    def _execute(self, request: Any) -> Mapping[str, Any]:
        from googleapiclient.errors import HttpError

        for attempt in range(self.attempts):
            try:
                return dict(request.execute())
            except HttpError as exc:
                if exc.resp.status not in RETRY_STATUSES or attempt == self.attempts - 1:
                    raise
            except (ConnectionError, TimeoutError):
                if attempt == self.attempts - 1:
                    raise
            self.retries += 1
            self.sleep(self.base_delay * (2 ** attempt) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def question_titles(self, form_id: str) -> dict[str, str]:
        form = self._execute(self.service.forms().get(formId=form_id))
        titles: dict[str, str] = {}
        for item in form.get("items") or []:
            question = ((item.get("questionItem") or {}).get("question")) or {}
            if question.get("questionId"):
                titles[question["questionId"]] = item.get("title", "")
            for q in ((item.get("questionGroupItem") or {}).get("questions")) or []:
                if q.get("questionId"):
                    titles[q["questionId"]] = f"{item.get('title', '')} {((q.get('rowQuestion') or {}).get('title') or '')}".strip()
        return titles

    def responses_since(self, form_id: str, since: dt.datetime) -> Iterator[Mapping[str, Any]]:
        stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"formId": form_id, "filter": f"timestamp >= {stamp}", "pageSize": self.page_size}
            if token:
                kwargs["pageToken"] = token
            page = self._execute(self.service.forms().responses().list(**kwargs))
            yield from page.get("responses") or []
            token = page.get("nextPageToken")
            if not token:
                return
