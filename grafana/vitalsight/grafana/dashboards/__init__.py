"""vitalsight's Grafana dashboards as code (grafana-foundation-sdk).

`all_dashboards()` returns every dashboard's JSON model, keyed by the file stem used in
`grafana/dashboards/` and in `vitalsight.grafana.uids.DASHBOARD_UIDS`.
Regenerate the committed JSON with `python -m vitalsight.grafana.dashboards grafana/dashboards`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard

from vitalsight.grafana.dashboards import (
    ai_insights,
    api_performance,
    errors,
    overview,
    performance_distribution,
    release_comparison,
    routes,
    sessions,
)
from vitalsight.grafana.dashboards.query import register

register_default_plugins()  # panel option and field config types for from_json
register()

BUILDERS: dict[str, Callable[[], dashboard_builder.Dashboard]] = {
    overview.KEY: overview.dashboard,
    routes.KEY: routes.dashboard,
    release_comparison.KEY: release_comparison.dashboard,
    errors.KEY: errors.dashboard,
    api_performance.KEY: api_performance.dashboard,
    performance_distribution.KEY: performance_distribution.dashboard,
    sessions.KEY: sessions.dashboard,
    ai_insights.KEY: ai_insights.dashboard,
}


def _encode(thing: object) -> dict[str, Any]:
    encoded: dict[str, Any] = json.loads(json.dumps(thing, cls=JSONEncoder))
    return encoded


def sdk_normal_form(model: dict[str, Any]) -> dict[str, Any]:
    """`model` read back through the SDK's `Dashboard` type and written again: the SDK
    fills each panel plugin's defaults, so a model equal to its normal form is one the
    SDK types accept unchanged. Annotation targets are the exception (the SDK types them
    as the built-in datasource's), so they are kept as they were."""
    normal = _encode(dashboard.Dashboard.from_json(model))
    normal["annotations"] = model.get("annotations", normal.get("annotations"))
    return normal


def to_json_model(board: dashboard_builder.Dashboard) -> dict[str, Any]:
    """The JSON model Grafana's file provisioning reads, with stable panel ids."""
    model = sdk_normal_form(_encode(board.build()))
    for panel_id, panel in enumerate(_all_panels(model), start=1):
        panel["id"] = panel_id
    return model


def _all_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in model.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return panels


def all_dashboards() -> dict[str, dict[str, Any]]:
    """File stem → dashboard JSON model, for every vitalsight dashboard."""
    return {key: to_json_model(build()) for key, build in BUILDERS.items()}


def dashboard_json(model: dict[str, Any]) -> str:
    """How the committed files are written: sorted keys, so a diff shows what changed."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
