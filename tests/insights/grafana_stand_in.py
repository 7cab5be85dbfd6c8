"""A stand-in Grafana annotations API (https://grafana.com/docs/grafana/latest/developers/http_api/annotations/).

POST /api/annotations, GET /api/annotations (dashboardUID, type, tags, limit) and PUT
/api/annotations/:id with bearer-token auth; each request's method, path and body are
checked as Grafana documents them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tests.insights.stand_in import Recorded

TOKEN = "glsa_test_token"


class FakeGrafana:
    """Annotations kept in memory, as Grafana would; `fail_with` forces an error status."""

    def __init__(self) -> None:
        self.annotations: dict[int, dict[str, Any]] = {}
        self.fail_with = 0

    def respond(self, request: Recorded) -> web.Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self.fail_with:
            return web.json_response({"message": "internal error"}, status=self.fail_with)
        if (request.method, request.path) == ("POST", "/api/annotations"):
            return self._create(request.json())
        if (request.method, request.path) == ("GET", "/api/annotations"):
            return self._find(request.query)
        if request.method == "PUT" and request.path.startswith("/api/annotations/"):
            return self._update(int(request.path.rsplit("/", 1)[1]), request.json())
        return web.json_response({"message": "Not found"}, status=404)

    def on(self, dashboard_uid: str) -> list[dict[str, Any]]:
        return [a for a in self.annotations.values() if a["dashboardUID"] == dashboard_uid]

    def _create(self, body: dict[str, Any]) -> web.Response:
        assert set(body) == {"dashboardUID", "panelId", "time", "timeEnd", "tags", "text"}
        assert body["panelId"] is None  # dashboard-wide
        assert isinstance(body["time"], int) and isinstance(body["timeEnd"], int)
        annotation_id = len(self.annotations) + 1
        self.annotations[annotation_id] = {"id": annotation_id, **body}
        return web.json_response({"message": "Annotation added", "id": annotation_id})

    def _find(self, query: dict[str, list[str]]) -> web.Response:
        assert query["type"] == ["annotation"] and query["limit"] == ["1"]
        found = [
            a for a in self.on(query["dashboardUID"][0]) if set(query["tags"]) <= set(a["tags"])
        ]
        return web.json_response(found[:1])

    def _update(self, annotation_id: int, body: dict[str, Any]) -> web.Response:
        assert set(body) == {"time", "timeEnd", "tags", "text"}
        if annotation_id not in self.annotations:
            return web.json_response({"message": "Annotation not found"}, status=404)
        self.annotations[annotation_id].update(body)
        return web.json_response({"message": "Annotation updated"})
