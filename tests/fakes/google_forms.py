"""A local Forms API v1 server (http.server on 127.0.0.1:0) speaking the real wire format.

GET /v1/forms/{formId}                  -> Form {formId, info, items[{itemId, title, questionItem{question{questionId}}}]}
GET /v1/forms/{formId}/responses        -> ListFormResponsesResponse {responses[], nextPageToken}
    ?filter=timestamp >= RFC3339 | timestamp > RFC3339, pageSize, pageToken
Failure injection: ``fail_next`` is a list of HTTP statuses answered (with a Google error body)
before the next real answer; ``empty_pages`` inserts pages with no responses but a next token.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeForms:
    def __init__(self, form_id: str, questions: dict[str, str], also: tuple[str, ...] = ()) -> None:
        self.form_id = form_id
        self.known = {form_id, *also}  # other forms forms.get knows (same questions)
        self.questions = questions  # questionId -> title
        self.responses: list[dict[str, Any]] = []
        self.empty_forms: set[str] = set()  # other forms the server knows: no questions, no responses
        self.page_size = 2
        self.empty_pages = 0
        self.fail_next: list[int] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> FakeForms:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, response_id: str, when: dt.datetime, answers: dict[str, str | list[str]],
            email: str | None = None) -> None:
        self.responses.append({
            "responseId": response_id, "createTime": rfc3339(when), "lastSubmittedTime": rfc3339(when),
            **({"respondentEmail": email} if email else {}),
            "answers": {qid: {"questionId": qid, "textAnswers": {"answers": [{"value": v} for v in
                                                                             (a if isinstance(a, list) else [a])]}}
                        for qid, a in answers.items()},
        })

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                with fake.lock:
                    fake.requests.append(self.path)
                    if fake.fail_next:
                        status = fake.fail_next.pop(0)
                        return self._send(status, {"error": {"code": status, "message": "try later",
                                                             "status": "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE"}})
                m = re.fullmatch(r"/v1/forms/([^/]+)(/responses)?", url.path)
                if m and m.group(1) in fake.empty_forms:
                    return self._send(200, {} if m.group(2) else {"formId": m.group(1), "info": {"title": "-"}, "items": []})
                if not m or m.group(1) not in fake.known or (m.group(2) and m.group(1) != fake.form_id):
                    return self._send(404, {"error": {"code": 404, "message": "Requested entity was not found.",
                                                      "status": "NOT_FOUND"}})
                if not m.group(2):
                    return self._send(200, {"formId": m.group(1), "info": {"title": "入会申込み"}, "items": [
                        {"itemId": f"i{qid}", "title": title, "questionItem": {"question": {"questionId": qid}}}
                        for qid, title in fake.questions.items()]})
                query = parse_qs(url.query)
                selected = fake.responses
                flt = query.get("filter", [""])[0]
                if flt:
                    fm = re.fullmatch(r"timestamp (>=|>) (\S+)", flt)
                    if not fm:
                        return self._send(400, {"error": {"code": 400, "message": "Invalid filter", "status": "INVALID_ARGUMENT"}})
                    since = fm.group(2)
                    selected = [r for r in selected if (r["lastSubmittedTime"] >= since if fm.group(1) == ">=" else
                                                        r["lastSubmittedTime"] > since)]
                selected = sorted(selected, key=lambda r: r["lastSubmittedTime"])
                size = min(int(query.get("pageSize", ["5000"])[0]) or 5000, fake.page_size)
                token = query.get("pageToken", ["0"])[0]
                pos, empties = (int(x) for x in token.split(":")) if ":" in token else (0, 0)
                if empties < fake.empty_pages:  # an empty page that still says "more"
                    return self._send(200, {"nextPageToken": f"{pos}:{empties + 1}"})
                page = selected[pos:pos + size]
                body: dict[str, Any] = {"responses": page} if page else {}
                if pos + size < len(selected):
                    body["nextPageToken"] = f"{pos + size}:0"
                return self._send(200, body)

        return Handler
