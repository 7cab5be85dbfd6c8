"""The incident card: what the insight service found, where, how sure, why, what to do.

A card is the contract between detection/explanation (which fill it), the summariser (which
words it), and the outputs: the `rum_insights` table (via an OTLP log record with the event
name `vitalsight.insight`, attributes `vitalsight.insight.<field>`), Grafana annotations and
the REST API. Each state change (open, updated, resolved) is sent again with the same `id`.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

INSIGHT_EVENT_NAME = "vitalsight.insight"
ATTRIBUTE_PREFIX = "vitalsight.insight."


class Status(StrEnum):
    OPEN = "open"
    UPDATED = "updated"
    RESOLVED = "resolved"


class Kind(StrEnum):
    """What was detected."""

    REGRESSION = "regression"  # a vital's percentile moved vs baseline / previous release
    ERROR_SPIKE = "error_spike"  # JS error rate or API failure rate jumped
    SLOW_ENDPOINT = "slow_endpoint"  # an endpoint's p95 latency rose
    ANOMALY = "anomaly"  # multi-metric anomaly with no single clear regression


class CauseKind(StrEnum):
    """The most likely cause; each kind has its own suggested action."""

    SLOW_ENDPOINT = "slow_endpoint"
    BUNDLE_GROWTH = "bundle_growth"
    LONG_TASKS = "long_tasks"
    NEW_ERROR = "new_error"
    RELEASE = "release"  # the release changed it, no finer cause found
    TRAFFIC_MIX = "traffic_mix"  # a shift in devices/countries/networks explains it
    UNKNOWN = "unknown"


class Evidence(BaseModel):
    """One fact that supports (or is) the cause, with its numbers."""

    model_config = ConfigDict(frozen=True)

    kind: str  # e.g. "endpoint_latency", "resource_size", "long_task_script", "error_fingerprint"
    subject: str  # e.g. "/api/search", "app.js", "checkout.js", "TypeError in cart.ts:88"
    metric: str  # e.g. "p95_ms", "transfer_kb", "share_of_inp", "error_rate"
    before: float
    after: float
    unit: str = ""
    detail: str = ""


class IncidentCard(BaseModel):
    id: str
    status: Status = Status.OPEN
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    app: str
    environment: str = ""
    kind: Kind
    metric: str  # LCP, INP, CLS, TTFB, FCP, error_rate, request_p95, ...
    statistic: str = "p75"  # p75, p95, rate
    route: str = ""
    release: str = ""
    baseline_release: str = ""
    # The "where": dimension → value that explain the change, e.g. {"device": "mobile"}.
    scope: dict[str, str] = Field(default_factory=dict)
    baseline_value: float
    current_value: float
    change_pct: float
    unit: str = ""  # ms, score, ratio
    cause_kind: CauseKind = CauseKind.UNKNOWN
    cause: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = 0.0  # 0..1
    confidence_label: str = ""  # low, medium, high
    summary: str = ""
    summary_source: str = "template"  # template | claude
    suggested_fix: str = ""
    dashboard_url: str = ""

    def log_attributes(self) -> dict[str, str]:
        """The card as `vitalsight.insight.*` string attributes (see migration 0004)."""
        fields = self.model_dump(mode="json", exclude={"scope", "evidence"})
        attributes = {
            ATTRIBUTE_PREFIX + name: _attribute_text(value)
            for name, value in fields.items()
            if value is not None
        }
        for dimension, value in self.scope.items():
            attributes[f"{ATTRIBUTE_PREFIX}scope.{dimension}"] = value
        attributes[ATTRIBUTE_PREFIX + "evidence"] = json.dumps(
            [item.model_dump(mode="json") for item in self.evidence]
        )
        return attributes


def _attribute_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)
