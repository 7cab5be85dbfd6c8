"""Seeded data for the dashboard query tests: demo traffic (with its planted 1.2.9 LCP
regression on /results) and insight cards, sent over OTLP/HTTP to a real `vitalsight serve`
as any producer would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from tests.serve_process import ServeProcess
from vitalsight.service.demo import REGRESSION
from vitalsight.service.demo_send import send_demo
from vitalsight.service.otlp_build import SCOPE, event, key_values

MINUTES = 180
SESSIONS_PER_MINUTE = 8
_NS = 1_000_000_000


@dataclass(frozen=True)
class CardState:
    """One state of an insight card, as the insight service sends it."""

    id: str
    status: str
    opened_ago_s: int
    updated_ago_s: int
    resolved_ago_s: int | None = None
    summary: str = "p75 LCP on /results regressed in 1.2.9"

    def attributes(self, now_ns: int) -> dict[str, str]:
        def at(ago_s: int) -> str:
            moment = datetime.fromtimestamp((now_ns - ago_s * _NS) / _NS, UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

        fields: dict[str, str] = {
            "id": self.id,
            "status": self.status,
            "opened_at": at(self.opened_ago_s),
            "app": REGRESSION.app,
            "environment": "production",
            "kind": "regression",
            "metric": "LCP",
            "statistic": "p75",
            "route": REGRESSION.route,
            "release": REGRESSION.release,
            "baseline_release": REGRESSION.baseline_release,
            "baseline_value": "2100",
            "current_value": "3500",
            "change_pct": "66.7",
            "unit": "ms",
            "cause_kind": "release",
            "cause": "result thumbnails render late",
            "confidence": "0.9",
            "confidence_label": "high",
            "summary": self.summary,
            "dashboard_url": "/d/vitalsight-release-comparison?var-candidate=1.2.9",
        }
        if self.resolved_ago_s is not None:
            fields["resolved_at"] = at(self.resolved_ago_s)
        return {f"vitalsight.insight.{k}": v for k, v in fields.items()}


# An open card, and a card sent twice (open, then resolved): FINAL must keep one row.
CARDS: Sequence[CardState] = (
    CardState("card-open", "open", opened_ago_s=1800, updated_ago_s=1800),
    CardState("card-resolved", "open", opened_ago_s=5400, updated_ago_s=5400),
    CardState(
        "card-resolved", "resolved", opened_ago_s=5400, updated_ago_s=600, resolved_ago_s=600
    ),
)


def send_cards(serve: ServeProcess, cards: Sequence[CardState], now_ns: int) -> None:
    records = [
        event("vitalsight.insight", now_ns - c.updated_ago_s * _NS, c.attributes(now_ns))
        for c in cards
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=key_values({"service.name": "vitalsight-insights"})),
                scope_logs=[ScopeLogs(scope=SCOPE, log_records=records)],
            )
        ]
    )
    response = httpx.post(
        f"{serve.http_url}/v1/logs",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=10,
    )
    response.raise_for_status()


def seed(serve: ServeProcess, *, now_ns: int, minutes: int = MINUTES) -> Mapping[str, int]:
    """Demo traffic ending at `now_ns` plus the insight cards; waits until stored."""
    summary = send_demo(
        serve.http_url,
        seed=11,
        minutes=minutes,
        sessions_per_minute=SESSIONS_PER_MINUTE,
        start_ns=now_ns - minutes * 60 * _NS,
        sessions_per_request=50,
    )
    send_cards(serve, CARDS, now_ns)
    logs = serve.wait_for_count("otel_logs", summary.log_records + len(CARDS), timeout_s=60)
    spans = serve.wait_for_count("otel_traces", summary.spans, timeout_s=60)
    return {"log_records": logs, "spans": spans}
