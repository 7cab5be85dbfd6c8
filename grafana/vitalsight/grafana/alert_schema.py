"""JSON Schema of Grafana's alerting file-provisioning format (apiVersion 1), the subset
vitalsight writes: rule groups, contact points and notification policies.

Field names and enums follow Grafana's "Use configuration files to provision alerting
resources" documentation (Grafana 11): rules' `noDataState`/`execErrState`, a data item's
`relativeTimeRange` in seconds, contact point `type`s, and policies' `object_matchers`.
"""

from __future__ import annotations

from typing import Any

DURATION = r"^([0-9]+(ms|s|m|h|d|w))+$"
UID = r"^[a-zA-Z0-9_-]{1,40}$"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

_DATA_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["refId", "datasourceUid", "model"],
    "additionalProperties": False,
    "properties": {
        "refId": {"type": "string", "minLength": 1},
        "queryType": {"type": "string"},
        "datasourceUid": {"type": "string", "minLength": 1},
        "relativeTimeRange": {
            "type": "object",
            "required": ["from", "to"],
            "additionalProperties": False,
            "properties": {
                "from": {"type": "integer", "minimum": 0},
                "to": {"type": "integer", "minimum": 0},
            },
        },
        "model": {"type": "object", "required": ["refId"]},
    },
}

_RULE: dict[str, Any] = {
    "type": "object",
    "required": ["uid", "title", "condition", "data"],
    "additionalProperties": False,
    "properties": {
        "uid": {"type": "string", "pattern": UID},
        "title": {"type": "string", "minLength": 1, "maxLength": 190},
        "condition": {"type": "string", "minLength": 1},
        "data": {"type": "array", "minItems": 1, "items": _DATA_ITEM},
        "noDataState": {"enum": ["OK", "NoData", "Alerting", "KeepLast"]},
        "execErrState": {"enum": ["OK", "Error", "Alerting", "KeepLast"]},
        "for": {"type": "string", "pattern": DURATION},
        "keep_firing_for": {"type": "string", "pattern": DURATION},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "isPaused": {"type": "boolean"},
        "dashboardUid": {"type": "string"},
        "panelId": {"type": "integer"},
        "notification_settings": {"type": "object"},
    },
}

_GROUP: dict[str, Any] = {
    "type": "object",
    "required": ["name", "folder", "interval", "rules"],
    "additionalProperties": False,
    "properties": {
        "orgId": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "minLength": 1},
        "folder": {"type": "string", "minLength": 1},
        "interval": {"type": "string", "pattern": DURATION},
        "rules": {"type": "array", "items": _RULE},
    },
}

CONTACT_POINT_TYPES = [
    "alertmanager",
    "dingding",
    "discord",
    "email",
    "googlechat",
    "kafka",
    "line",
    "opsgenie",
    "pagerduty",
    "pushover",
    "sensugo",
    "slack",
    "teams",
    "telegram",
    "threema",
    "victorops",
    "webex",
    "webhook",
    "wecom",
]

_CONTACT_POINT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "receivers"],
    "additionalProperties": False,
    "properties": {
        "orgId": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "minLength": 1},
        "receivers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["uid", "type", "settings"],
                "additionalProperties": False,
                "properties": {
                    "uid": {"type": "string", "pattern": UID},
                    "type": {"enum": CONTACT_POINT_TYPES},
                    "settings": {"type": "object"},
                    "disableResolveMessage": {"type": "boolean"},
                },
            },
        },
    },
}

_MATCHER = {
    "type": "array",
    "minItems": 3,
    "maxItems": 3,
    "prefixItems": [
        {"type": "string"},
        {"enum": ["=", "!=", "=~", "!~"]},
        {"type": "string"},
    ],
}

_ROUTE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "receiver": {"type": "string", "minLength": 1},
        "group_by": {"type": "array", "items": {"type": "string"}},
        "object_matchers": {"type": "array", "items": _MATCHER},
        "matchers": {"type": "array", "items": {"type": "string"}},
        "continue": {"type": "boolean"},
        "group_wait": {"type": "string", "pattern": DURATION},
        "group_interval": {"type": "string", "pattern": DURATION},
        "repeat_interval": {"type": "string", "pattern": DURATION},
        "mute_time_intervals": {"type": "array", "items": {"type": "string"}},
        "routes": {"type": "array", "items": {"$ref": "#/$defs/route"}},
    },
}

_POLICY: dict[str, Any] = {
    **_ROUTE,
    "required": ["receiver"],
    "properties": {**_ROUTE["properties"], "orgId": {"type": "integer", "minimum": 1}},
}

PROVISIONING_FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion"],
    "additionalProperties": False,
    "$defs": {"route": _ROUTE},
    "properties": {
        "apiVersion": {"const": 1},
        "groups": {"type": "array", "items": _GROUP},
        "contactPoints": {"type": "array", "items": _CONTACT_POINT},
        "policies": {"type": "array", "items": _POLICY},
        "deleteRules": {"type": "array"},
        "deleteContactPoints": {"type": "array"},
        "resetPolicies": {"type": "array"},
        "templates": {"type": "array"},
        "muteTimes": {"type": "array"},
    },
}
