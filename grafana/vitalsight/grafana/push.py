"""Apply vitalsight's folder, dashboards, alert rules, contact points and notification route
to a running Grafana through its HTTP API (grafana-client), idempotently.

Each object is read first and written only when it differs, so a second push reports
everything `unchanged`. Push never deletes, and never overwrites an object it did not create:
dashboards carry the tag `vitalsight`, rules the label `managed_by=vitalsight`, contact points
a `vitalsight-` name, and in the notification policy tree only the route matching
`managed_by=vitalsight` is replaced; the user's root receiver and other routes stay.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from vitalsight.grafana.alerting import AlertingFiles
from vitalsight.grafana.uids import FOLDER_TITLE, FOLDER_UID

MANAGED_TAG = "vitalsight"
MANAGED_LABEL = ("managed_by", "vitalsight")
CONTACT_POINT_PREFIX = "vitalsight-"
REDACTED = "[REDACTED]"  # how Grafana returns secure contact point settings
_ENV_REFERENCE = re.compile(r"\$\$|\$\{(\w+)\}|\$(\w+)")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Change:
    kind: str  # folder, dashboard, alert-rule, rule-group, contact-point, policy
    name: str
    action: str  # created, updated, unchanged, skipped
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.action:9} {self.kind} {self.name}{detail}"


@dataclass
class PushReport:
    changes: list[Change] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


def connect(url: str, token: str | None) -> Any:
    """A grafana-client `GrafanaApi` (untyped, hence Any) authenticated with `token`."""
    return GrafanaApi.from_url(url, credential=token)


def push(
    api: Any,
    *,
    dashboards: Mapping[str, dict[str, Any]],
    alerting: AlertingFiles,
    environ: Mapping[str, str],
) -> PushReport:
    report = PushReport()
    report.changes.append(_push_folder(api))
    for model in dashboards.values():
        report.changes.append(_push_dashboard(api, model))
    for _, _, group, rule in alerting.rules():
        report.changes.append(_push_rule(api, group["name"], rule))
    for group in {g["name"]: g for _, _, g, _ in alerting.rules()}.values():
        report.changes.append(_push_group_interval(api, group["name"], group["interval"]))
    report.changes += _push_contact_points(api, alerting, environ)
    receivers = {point["name"] for point in api.alertingprovisioning.get_contactpoints()}
    report.changes += _push_policy_route(api, alerting, receivers)
    return report


def _get_or_none(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def _push_folder(api: Any) -> Change:
    if _get_or_none(api.folder.get_folder, FOLDER_UID) is not None:
        return Change("folder", FOLDER_UID, "unchanged")
    api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
    return Change("folder", FOLDER_UID, "created")


def _push_dashboard(api: Any, model: dict[str, Any]) -> Change:
    desired = copy.deepcopy(model)
    desired.pop("id", None)
    desired.pop("version", None)
    desired["tags"] = sorted({*desired.get("tags", []), MANAGED_TAG})
    uid = desired["uid"]
    existing = _get_or_none(api.dashboard.get_dashboard, uid)
    body = {"dashboard": desired, "folderUid": FOLDER_UID, "message": "vitalsight grafana push"}
    if existing is None:
        api.dashboard.update_dashboard({**body, "overwrite": False})
        return Change("dashboard", uid, "created")
    current = {k: v for k, v in existing["dashboard"].items() if k not in {"id", "version"}}
    if MANAGED_TAG not in current.get("tags", []):
        return Change("dashboard", uid, "skipped", "exists and was not created by vitalsight")
    if current == desired and existing.get("meta", {}).get("folderUid") == FOLDER_UID:
        return Change("dashboard", uid, "unchanged")
    api.dashboard.update_dashboard({**body, "overwrite": True})
    return Change("dashboard", uid, "updated")


_RULE_FIELDS = ("title", "condition", "data", "noDataState", "execErrState", "labels")
_RULE_DEFAULTS = {"noDataState": "NoData", "execErrState": "Alerting", "labels": {}}


def rule_body(group: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    """A provisioning-file rule as the alert-rules API takes it (folder by uid)."""
    body = {name: rule.get(name, _RULE_DEFAULTS.get(name)) for name in _RULE_FIELDS}
    return {
        "uid": rule["uid"],
        **body,
        "for": rule.get("for", "0s"),
        "annotations": rule.get("annotations", {}),
        "isPaused": rule.get("isPaused", False),
        "folderUID": FOLDER_UID,
        "ruleGroup": group,
        "orgID": 1,
    }


def _same_rule(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    fields = (*_RULE_FIELDS, "annotations", "isPaused", "folderUID", "ruleGroup")
    same_for = _seconds(str(current.get("for", "0s"))) == _seconds(str(desired["for"]))
    return same_for and all(
        _contains(current.get(name), desired[name])
        if name == "data"
        else current.get(name) == desired[name]
        for name in fields
    )


def _contains(current: Any, desired: Any) -> bool:
    """`desired` with Grafana's additions allowed: on save Grafana fills model defaults
    (e.g. `intervalMs`, `maxDataPoints` on expressions), which must not count as a change."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            key in current and _contains(current[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(current) == len(desired)
            and all(_contains(c, d) for c, d in zip(current, desired, strict=True))
        )
    return bool(current == desired)


def _push_rule(api: Any, group: str, rule: Mapping[str, Any]) -> Change:
    desired = rule_body(group, rule)
    uid = desired["uid"]
    existing = _get_or_none(api.alertingprovisioning.get_alertrule, uid)
    if existing is None:
        api.alertingprovisioning.create_alertrule(desired)
        return Change("alert-rule", uid, "created")
    name, value = MANAGED_LABEL
    if (existing.get("labels") or {}).get(name) != value:
        return Change("alert-rule", uid, "skipped", "exists and was not created by vitalsight")
    if _same_rule(existing, desired):
        return Change("alert-rule", uid, "unchanged")
    api.alertingprovisioning.update_alertrule(uid, desired)
    return Change("alert-rule", uid, "updated")


def _push_group_interval(api: Any, group: str, interval: str) -> Change:
    # The rule API puts new rules in a group with the default interval; the group endpoint
    # sets ours, sending the group's current rules back so none is removed.
    current = _get_or_none(api.alertingprovisioning.get_rule_group, FOLDER_UID, group)
    if current is None:
        return Change("rule-group", group, "skipped", "none of its rules is ours")
    if int(current.get("interval", 0)) == int(_seconds(interval)):
        return Change("rule-group", group, "unchanged")
    body = {**current, "interval": int(_seconds(interval))}
    api.alertingprovisioning.update_rule_group(FOLDER_UID, group, body)
    return Change("rule-group", group, "updated", f"interval {interval}")


def _seconds(duration: str) -> float:
    return sum(int(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(duration))


def expand_environment(value: Any, environ: Mapping[str, str], missing: set[str]) -> Any:
    """Grafana's provisioning interpolation: `$VAR` / `${VAR}` from the environment, `$$`
    for a literal `$`. Unset variables are collected in `missing`."""
    if isinstance(value, dict):
        return {k: expand_environment(v, environ, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_environment(v, environ, missing) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name is None:
            return "$"
        if name not in environ:
            missing.add(name)
            return ""
        return environ[name]

    return _ENV_REFERENCE.sub(replace, value)


def _push_contact_points(
    api: Any, alerting: AlertingFiles, environ: Mapping[str, str]
) -> list[Change]:
    existing = {point["uid"]: point for point in api.alertingprovisioning.get_contactpoints()}
    changes = []
    for doc in alerting.documents:
        for point in doc.data.get("contactPoints", []):
            for receiver in point["receivers"]:
                changes.append(_push_receiver(api, point["name"], receiver, existing, environ))
    return changes


def _push_receiver(
    api: Any,
    name: str,
    receiver: Mapping[str, Any],
    existing: Mapping[str, Mapping[str, Any]],
    environ: Mapping[str, str],
) -> Change:
    uid = receiver["uid"]
    missing: set[str] = set()
    settings = expand_environment(receiver["settings"], environ, missing)
    if missing:
        return Change("contact-point", name, "skipped", f"unset: {', '.join(sorted(missing))}")
    desired = {
        "uid": uid,
        "name": name,
        "type": receiver["type"],
        "settings": settings,
        "disableResolveMessage": receiver.get("disableResolveMessage", False),
    }
    current = existing.get(uid)
    if current is None:
        api.alertingprovisioning.create_contactpoint(desired)
        return Change("contact-point", name, "created")
    if not str(current.get("name", "")).startswith(CONTACT_POINT_PREFIX):
        return Change("contact-point", name, "skipped", "exists and was not created by vitalsight")
    if _same_contact_point(current, desired):
        return Change("contact-point", name, "unchanged")
    api.alertingprovisioning.update_contactpoint(uid, desired)
    return Change("contact-point", name, "updated")


def _same_contact_point(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    settings = current.get("settings", {})
    same_settings = set(settings) == set(desired["settings"]) and all(
        settings[key] in (value, REDACTED) for key, value in desired["settings"].items()
    )
    return same_settings and all(
        current.get(key) == desired[key] for key in ("name", "type", "disableResolveMessage")
    )


def _managed_matcher() -> list[str]:
    return [MANAGED_LABEL[0], "=", MANAGED_LABEL[1]]


def _is_managed_route(route: Mapping[str, Any]) -> bool:
    return _managed_matcher() in [list(m) for m in route.get("object_matchers", [])]


def _prune(route: dict[str, Any], receivers: set[str], dropped: list[str]) -> dict[str, Any]:
    """`route` without the child routes whose receiver Grafana does not have (a contact
    point skipped for unset secrets): Grafana rejects a tree naming a missing receiver."""
    children = []
    for child in route.get("routes", []):
        if child.get("receiver", route.get("receiver")) in receivers:
            children.append(_prune(child, receivers, dropped))
        else:
            dropped.append(str(child.get("receiver")))
    return {**route, "routes": children} if "routes" in route else dict(route)


def _push_policy_route(api: Any, alerting: AlertingFiles, receivers: set[str]) -> list[Change]:
    name = "managed_by=vitalsight route"
    dropped: list[str] = []
    ours = [
        _prune(route, receivers, dropped)
        for doc in alerting.documents
        for policy in doc.data.get("policies", [])
        for route in policy.get("routes", [])
        if _is_managed_route(route)
    ]
    if not ours:
        return []
    missing = [
        str(route.get("receiver")) for route in ours if route.get("receiver") not in receivers
    ]
    if missing:
        return [Change("policy", name, "skipped", f"no contact point {', '.join(missing)}")]
    tree = api.alertingprovisioning.get_notification_policy_tree()
    others = [route for route in tree.get("routes") or [] if not _is_managed_route(route)]
    updated = {**tree, "routes": [*ours, *others]}
    detail = f"without routes to {', '.join(dropped)}" if dropped else ""
    if updated == tree:
        return [Change("policy", name, "unchanged", detail)]
    api.alertingprovisioning.set_notification_policy_tree(updated)
    return [Change("policy", name, "updated", detail or "other routes kept")]
