"""A local stand-in for the parts of Grafana's HTTP API that `vitalsight grafana push` uses.

No Grafana server can run here, so this answers like Grafana 11 does and rejects any request
whose method, path or body does not match Grafana's documented API (Folder API, Dashboard
API, Alerting provisioning API: alert rules, rule groups, contact points, policies). Every
request is recorded so tests can assert exactly what was sent.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REDACTED = "[REDACTED]"
SECURE_SETTINGS = {"slack": {"url", "token"}, "pagerduty": {"integrationKey"}}
DEFAULT_GROUP_INTERVAL_S = 60
RULE_REQUIRED = {
    "title": str,
    "condition": str,
    "data": list,
    "folderUID": str,
    "ruleGroup": str,
    "noDataState": str,
    "execErrState": str,
    "for": str,
    "orgID": int,
}
NO_DATA_STATES = {"OK", "NoData", "Alerting", "KeepLast"}
EXEC_ERR_STATES = {"OK", "Error", "Alerting", "KeepLast"}


class BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class GrafanaState:
    token: str
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid → {dashboard, meta}
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_intervals: dict[tuple[str, str], int] = field(default_factory=dict)
    contact_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, Any] = field(
        default_factory=lambda: {"receiver": "grafana-default-email", "group_by": ["..."]}
    )
    requests: list[Recorded] = field(default_factory=list)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]


Route = tuple[str, str, Callable[["GrafanaState", re.Match[str], Any], tuple[int, Any]]]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BadRequestError(400, message)


def _not_found(what: str) -> BadRequestError:
    return BadRequestError(404, f"{what} not found")


# --- folders (Folder API) -----------------------------------------------------------------


def get_folder(state: GrafanaState, m: re.Match[str], _: Any) -> tuple[int, Any]:
    if m["uid"] not in state.folders:
        raise _not_found("folder")
    return 200, state.folders[m["uid"]]


def create_folder(state: GrafanaState, _: re.Match[str], body: Any) -> tuple[int, Any]:
    _require(set(body) <= {"uid", "title", "parentUid"}, f"unknown folder fields {set(body)}")
    _require(isinstance(body.get("title"), str) and body["title"], "folder title is required")
    uid = body.get("uid") or f"f{len(state.folders)}"
    if uid in state.folders:
        raise BadRequestError(409, "a folder with the same uid already exists")
    state.folders[uid] = {"id": len(state.folders) + 1, "uid": uid, "title": body["title"]}
    return 200, state.folders[uid]


# --- dashboards (Dashboard API) -----------------------------------------------------------


def get_dashboard(state: GrafanaState, m: re.Match[str], _: Any) -> tuple[int, Any]:
    if m["uid"] not in state.dashboards:
        raise _not_found("dashboard")
    return 200, copy.deepcopy(state.dashboards[m["uid"]])


def save_dashboard(state: GrafanaState, _: re.Match[str], body: Any) -> tuple[int, Any]:
    allowed = {"dashboard", "folderUid", "folderId", "overwrite", "message"}
    _require(set(body) <= allowed, f"unknown fields {set(body) - allowed}")
    dashboard = body.get("dashboard")
    _require(isinstance(dashboard, dict), "dashboard is required")
    _require(bool(dashboard.get("uid")) and bool(dashboard.get("title")), "uid and title required")
    folder = body.get("folderUid", "")
    _require(not folder or folder in state.folders, f"folder {folder!r} not found")
    uid = dashboard["uid"]
    existing = state.dashboards.get(uid)
    if existing is not None and not body.get("overwrite"):
        raise BadRequestError(412, "A dashboard with the same uid already exists")
    version = existing["dashboard"]["version"] + 1 if existing else 1
    saved = {**copy.deepcopy(dashboard), "id": len(state.dashboards) + 1, "version": version}
    state.dashboards[uid] = {"dashboard": saved, "meta": {"folderUid": folder}}
    return 200, {"id": saved["id"], "uid": uid, "status": "success", "version": version}


# --- alert rules and rule groups (Alerting provisioning API) ------------------------------


def _check_rule(state: GrafanaState, body: Any) -> None:
    for name, kind in RULE_REQUIRED.items():
        _require(isinstance(body.get(name), kind), f"{name} must be a {kind.__name__}")
    _require(body["folderUID"] in state.folders, f"folder {body['folderUID']!r} not found")
    _require(body["noDataState"] in NO_DATA_STATES, "invalid noDataState")
    _require(body["execErrState"] in EXEC_ERR_STATES, "invalid execErrState")
    ref_ids = {item["refId"] for item in body["data"]}
    _require(body["condition"] in ref_ids, "condition must name a query or expression")
    for item in body["data"]:
        _require({"refId", "datasourceUid", "model"} <= set(item), "data item fields missing")


def _stored_rule(body: dict[str, Any]) -> dict[str, Any]:
    # Grafana fills model defaults on save; `push` must not see them as changes.
    rule = copy.deepcopy(body)
    for item in rule["data"]:
        item["model"].setdefault("intervalMs", 1000)
        item["model"].setdefault("maxDataPoints", 43200)
        item.setdefault("queryType", "")
    return {**rule, "provenance": "api", "updated": "2025-01-01T00:00:00Z"}


def get_rule(state: GrafanaState, m: re.Match[str], _: Any) -> tuple[int, Any]:
    if m["uid"] not in state.rules:
        raise _not_found("alert rule")
    return 200, copy.deepcopy(state.rules[m["uid"]])


def create_rule(state: GrafanaState, _: re.Match[str], body: Any) -> tuple[int, Any]:
    _check_rule(state, body)
    if body.get("uid") in state.rules:
        raise BadRequestError(409, "a rule with this uid already exists")
    state.rules[body["uid"]] = _stored_rule(body)
    key = (body["folderUID"], body["ruleGroup"])
    state.group_intervals.setdefault(key, DEFAULT_GROUP_INTERVAL_S)
    return 201, state.rules[body["uid"]]


def update_rule(state: GrafanaState, m: re.Match[str], body: Any) -> tuple[int, Any]:
    if m["uid"] not in state.rules:
        raise _not_found("alert rule")
    _check_rule(state, body)
    state.rules[m["uid"]] = _stored_rule(body)
    return 200, state.rules[m["uid"]]


def _group_rules(state: GrafanaState, folder: str, group: str) -> list[dict[str, Any]]:
    return [
        copy.deepcopy(r)
        for r in state.rules.values()
        if r["folderUID"] == folder and r["ruleGroup"] == group
    ]


def get_group(state: GrafanaState, m: re.Match[str], _: Any) -> tuple[int, Any]:
    rules = _group_rules(state, m["folder"], m["group"])
    if not rules:
        raise _not_found("rule group")
    interval = state.group_intervals[(m["folder"], m["group"])]
    return 200, {
        "title": m["group"],
        "folderUid": m["folder"],
        "interval": interval,
        "rules": rules,
    }


def put_group(state: GrafanaState, m: re.Match[str], body: Any) -> tuple[int, Any]:
    _require(isinstance(body.get("interval"), int) and body["interval"] > 0, "interval (s)")
    _require(isinstance(body.get("rules"), list), "rules is required")
    sent = {rule.get("uid") for rule in body["rules"]}
    existing = {r["uid"] for r in _group_rules(state, m["folder"], m["group"])}
    # Grafana deletes the group's rules that the body leaves out: record it as a 409 so a
    # test sees it; push must never do it.
    if existing - sent:
        raise BadRequestError(409, f"request would delete rules {sorted(existing - sent)}")
    for rule in body["rules"]:
        _check_rule(state, rule)
        state.rules[rule["uid"]] = _stored_rule(rule)
    state.group_intervals[(m["folder"], m["group"])] = body["interval"]
    return 200, body


# --- contact points and policies ----------------------------------------------------------


def list_contact_points(state: GrafanaState, _: re.Match[str], __: Any) -> tuple[int, Any]:
    listed = []
    for point in state.contact_points.values():
        secure = SECURE_SETTINGS.get(point["type"], set())
        settings = {k: REDACTED if k in secure else v for k, v in point["settings"].items()}
        listed.append({**point, "settings": settings})
    return 200, listed


def _check_contact_point(body: Any) -> None:
    _require(isinstance(body.get("name"), str) and body["name"], "name is required")
    _require(isinstance(body.get("type"), str) and body["type"], "type is required")
    _require(isinstance(body.get("settings"), dict), "settings is required")


def create_contact_point(state: GrafanaState, _: re.Match[str], body: Any) -> tuple[int, Any]:
    _check_contact_point(body)
    uid = body.get("uid") or f"cp{len(state.contact_points)}"
    if uid in state.contact_points:
        raise BadRequestError(409, "a contact point with this uid already exists")
    state.contact_points[uid] = {**copy.deepcopy(body), "uid": uid}
    return 202, state.contact_points[uid]


def update_contact_point(state: GrafanaState, m: re.Match[str], body: Any) -> tuple[int, Any]:
    if m["uid"] not in state.contact_points:
        raise _not_found("contact point")
    _check_contact_point(body)
    state.contact_points[m["uid"]] = {**copy.deepcopy(body), "uid": m["uid"]}
    return 202, {"message": "contactpoint updated"}


def get_policies(state: GrafanaState, _: re.Match[str], __: Any) -> tuple[int, Any]:
    return 200, copy.deepcopy(state.policies)


def put_policies(state: GrafanaState, _: re.Match[str], body: Any) -> tuple[int, Any]:
    _require(isinstance(body.get("receiver"), str), "the root policy needs a receiver")
    names = {p["name"] for p in state.contact_points.values()} | {"grafana-default-email"}
    for route in _walk(body):
        receiver = route.get("receiver")
        _require(receiver is None or receiver in names, f"receiver {receiver!r} does not exist")
    state.policies = copy.deepcopy(body)
    return 202, {"message": "policies updated"}


def _walk(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield route
    for child in route.get("routes") or []:
        yield from _walk(child)


ROUTES: list[Route] = [
    ("GET", r"/api/folders/(?P<uid>[^/]+)", get_folder),
    ("POST", r"/api/folders", create_folder),
    ("GET", r"/api/dashboards/uid/(?P<uid>[^/]+)", get_dashboard),
    ("POST", r"/api/dashboards/db", save_dashboard),
    ("GET", r"/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)", get_rule),
    ("POST", r"/api/v1/provisioning/alert-rules", create_rule),
    ("PUT", r"/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)", update_rule),
    (
        "GET",
        r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)",
        get_group,
    ),
    (
        "PUT",
        r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)",
        put_group,
    ),
    ("GET", r"/api/v1/provisioning/contact-points", list_contact_points),
    ("POST", r"/api/v1/provisioning/contact-points", create_contact_point),
    ("PUT", r"/api/v1/provisioning/contact-points/(?P<uid>[^/]+)", update_contact_point),
    ("GET", r"/api/v1/provisioning/policies", get_policies),
    ("PUT", r"/api/v1/provisioning/policies", put_policies),
]


def _handler(state: GrafanaState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            try:
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    raise BadRequestError(401, "Unauthorized")
                if self.command in {"POST", "PUT"}:
                    if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                        raise BadRequestError(415, "Content-Type must be application/json")
                    body = json.loads(raw)
                    _require(isinstance(body, dict), "body must be a JSON object")
                status, answer = self._route(path, body)
            except BadRequestError as exc:
                status, answer = exc.status, {"message": str(exc)}
            state.requests.append(Recorded(self.command, path, body, status))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, path: str, body: Any) -> tuple[int, Any]:
            for method, pattern, handle in ROUTES:
                match = re.fullmatch(pattern, path)
                if match and method == self.command:
                    return handle(state, match, body)
            raise BadRequestError(404, f"no such endpoint: {self.command} {path}")

        # http.server dispatches on these names
        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    return Handler


@contextmanager
def running(state: GrafanaState) -> Iterator[str]:
    """Serve `state` on a free local port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
