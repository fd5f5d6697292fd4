"""A local Slack incoming webhook speaking the real wire format: POST JSON {"text"} -> 200 "ok"."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlackFake:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail_with: tuple[int, str] | None = None  # e.g. (404, "no_service")
        self.url = ""


@contextmanager
def running_slack() -> Iterator[SlackFake]:
    fake = SlackFake()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if fake.fail_with:
                status, text = fake.fail_with
            else:
                try:
                    payload = json.loads(body)
                    assert isinstance(payload.get("text"), str) and self.headers.get("Content-Type", "").startswith("application/json")
                    fake.posts.append(payload)
                    status, text = 200, "ok"
                except Exception:
                    status, text = 400, "invalid_payload"
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
