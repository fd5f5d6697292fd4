"""Fakes of the Google Cloud admin REST APIs ``autopilot doctor`` reads, on 127.0.0.1, in their wire
format: Secret Manager ``GET /v1/projects/{p}/secrets/{s}/versions?filter=state:ENABLED`` ->
``{"versions": [{"name", "state"}]}`` (404 ``NOT_FOUND`` for an unknown secret); Firestore admin
``GET /v1/projects/{p}/databases/{db}/collectionGroups/-/indexes`` -> ``{"indexes": [{"name",
"queryScope", "fields": [{"fieldPath", "order"}], "state"}]}`` and ``GET .../collectionGroups/{c}/fields/{f}``
-> ``{"name", "ttlConfig": {"state"}}``; Secret Manager ``GET .../secrets/{s}/versions/latest:access`` ->
``{"name", "payload": {"data": base64}}``; Cloud Scheduler ``GET /v1/projects/{p}/locations/{r}/jobs/{j}``
-> ``{"name", "state": "ENABLED"|"PAUSED"|..., "httpTarget": {"uri", "httpMethod", "oidcToken"}}``.
Bearer tokens must come from the shared :class:`Identity`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from tests.fakes.google_identity import Identity
from tests.fakes.http_server import FakeServer, JsonHandler


class FakeGoogleCloud(FakeServer):
    def __init__(self, identity: Identity, project: str) -> None:
        super().__init__()
        self.identity, self.project = identity, project
        self.secrets: dict[str, int] = {}  # secret -> enabled versions
        self.indexes: list[dict[str, Any]] = []
        self.ttl: dict[str, str] = {}  # collection -> ttlConfig state
        self.secret_values: dict[str, str] = {}  # secret -> the latest version's value
        self.jobs: dict[str, dict[str, Any]] = {}  # "locations/{r}/jobs/{j}" -> the job

    def index(self, collection: str, fields: list[tuple[str, str]], state: str = "READY") -> None:
        self.indexes.append({"name": f"projects/{self.project}/databases/(default)/collectionGroups/{collection}/indexes/x{len(self.indexes)}",
                             "queryScope": "COLLECTION", "state": state,
                             "fields": [{"fieldPath": f, "order": d} for f, d in fields] + [{"fieldPath": "__name__", "order": "ASCENDING"}]})

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                path = unquote(urlparse(self.path).path)
                if self._bearer() not in fake.identity.tokens:
                    return self._send(401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "no"}})
                m = re.fullmatch(r"/v1/projects/[^/]+/secrets/([^/]+)/versions/latest:access", path)
                if method == "GET" and m:
                    import base64

                    if m.group(1) not in fake.secret_values:
                        return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Secret not found"}})
                    data = base64.b64encode(fake.secret_values[m.group(1)].encode()).decode()
                    return self._send(200, {"name": path, "payload": {"data": data}})
                m = re.fullmatch(r"/v1/projects/[^/]+/(locations/[^/]+/jobs/[^/]+)", path)
                if method == "GET" and m:
                    job = fake.jobs.get(m.group(1))
                    if job is None:
                        return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Job not found."}})
                    return self._send(200, {"name": path[4:], **job})
                m = re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions", path)
                if method == "GET" and m:
                    if m.group(2) not in fake.secrets:
                        return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Secret not found"}})
                    n = fake.secrets[m.group(2)]
                    return self._send(200, {"versions": [{"name": f"{path}/{i + 1}", "state": "ENABLED"} for i in range(n)]}
                                      if n else {})
                if method == "GET" and path.endswith("/collectionGroups/-/indexes"):
                    return self._send(200, {"indexes": fake.indexes})
                m = re.fullmatch(r"/v1/projects/[^/]+/databases/[^/]+/collectionGroups/([^/]+)/fields/([^/]+)", path)
                if method == "GET" and m:
                    state = fake.ttl.get(m.group(1))
                    return self._send(200, {"name": path, **({"ttlConfig": {"state": state}} if state else {})})
                return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Not Found"}})

        return Handler
