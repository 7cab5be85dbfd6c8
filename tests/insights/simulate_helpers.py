"""Small scenarios and OTLP decoding shared by the simulator and evaluation tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from vitalsight.insights.simulate.scenario import Scenario
from vitalsight.service.demo import DemoRequest


def small_scenario(**changes: Any) -> Scenario:
    """144 simulated minutes, ~4,000 page views: a slow /api/search in release 1.1."""
    data: dict[str, Any] = {
        "name": "small",
        "app": "small-app",
        "seed": 3,
        "days": 0.1,
        "traffic": {"page_views_per_minute": 30, "noise": 0, "daily_amplitude": 0},
        "resources": [{"name": "app.js", "transfer_kb": 150}],
        "routes": [
            {
                "route": "/results",
                "share": 1,
                "resources": ["app.js"],
                "endpoints": [{"template": "/api/search", "median_ms": 300, "lcp_waits": True}],
            },
            {"route": "/", "share": 1, "resources": ["app.js"]},
        ],
        "releases": [
            {"version": "1.0"},
            {"version": "1.1", "start": "-60m", "rollout_minutes": 15},
        ],
        "incidents": [
            {
                "name": "slow-search",
                "kind": "slow_endpoint",
                "release": "1.1",
                "endpoint": "/api/search",
                "add_ms": 600,
            }
        ],
        "expect": [
            {
                "incident": "slow-search",
                "kind": "regression",
                "metric": "LCP",
                "route": "/results",
                "cause_kind": "slow_endpoint",
            }
        ],
        "evaluate": {"start": "-75m"},
    }
    data.update(changes)
    return Scenario.model_validate(data)


@dataclass(frozen=True)
class Row:
    """A record or span flattened: resource and own attributes, time, span duration."""

    kind: str  # event name or "span"
    time_ns: int
    attributes: dict[str, Any]
    duration_ms: float = 0.0


def _value(any_value: Any) -> Any:
    return getattr(any_value, any_value.WhichOneof("value"))


def rows(requests: Iterable[DemoRequest]) -> Iterator[Row]:
    for request in requests:
        if isinstance(request, ExportLogsServiceRequest):
            for rl in request.resource_logs:
                resource = {kv.key: _value(kv.value) for kv in rl.resource.attributes}
                for sl in rl.scope_logs:
                    for r in sl.log_records:
                        own = {kv.key: _value(kv.value) for kv in r.attributes}
                        yield Row(r.event_name, r.time_unix_nano, {**resource, **own})
        else:
            for rs in request.resource_spans:
                resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        own = {kv.key: _value(kv.value) for kv in s.attributes}
                        duration = (s.end_time_unix_nano - s.start_time_unix_nano) / 1e6
                        yield Row("span", s.start_time_unix_nano, {**resource, **own}, duration)
