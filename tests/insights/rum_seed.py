"""Seeding a real `vitalsight serve` with crafted RUM traffic for the engine's tests.

Builds real OTLP (otlp_build) and posts it as protobuf to the serve's OTLP/HTTP receiver;
the facts and rollups are then filled by the schema's materialized views, as in production.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import numpy as np
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from vitalsight.service.otlp_build import (
    AttributeValue,
    client_span,
    event,
    logs_request,
    traces_request,
)

_ids = itertools.count(1)


@dataclass(frozen=True)
class Cohort:
    """Who the page views come from."""

    app: str = "shop-web"
    release: str = "1.2.8"
    route: str = "/results"
    device: str = "desktop"
    browser: str = "Chrome"
    country: str = "DE"
    network: str = "4g"

    def resource(self) -> dict[str, AttributeValue]:
        return {
            "service.name": self.app,
            "service.version": self.release,
            "deployment.environment.name": "production",
        }

    def context(self, session: str) -> dict[str, AttributeValue]:
        return {
            "session.id": session,
            "browser.page.route": self.route,
            "user_agent.name": self.browser,
            "user_agent.version": "120",
            "device.type": self.device,
            "geo.country.iso_code": self.country,
            "network.connection.subtype": self.network,
        }


@dataclass
class Traffic:
    """Page views per minute of one cohort with their vitals, requests and errors."""

    cohort: Cohort
    per_minute: int
    lcp_median_ms: float = 1800.0
    inp_median_ms: float = 120.0
    endpoint: str = ""  # url template the page calls, e.g. /api/search
    endpoint_median_ms: float = 200.0
    error_every: int = 0  # one error every N page views (0: none)
    error_type: str = "TypeError"
    error_message: str = "x is undefined"
    script: str = ""  # long-task script url
    long_task_ms: float = 0.0
    bundle_url: str = ""
    bundle_bytes: int = 0
    seed: int = 7
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def minute(self, start: datetime) -> tuple[list[LogRecord], list[Span]]:
        records: list[LogRecord] = []
        spans: list[Span] = []
        base_ns = int(start.timestamp() * 1e9)
        for index in range(self.per_minute):
            view = next(_ids)
            session = f"s-{view}"
            context = self.cohort.context(session)
            at = base_ns + int(self._rng.uniform(0, 59.5) * 1e9)
            records.append(event("browser.page_view", at, context))
            records.append(self._vital("LCP", self.lcp_median_ms, at, context))
            records.append(self._vital("INP", self.inp_median_ms, at, context))
            if self.endpoint:
                spans.append(self._request(view, at, context))
            if self.error_every and index % self.error_every == 0:
                records.append(self._error(at, context))
            if self.script and self.long_task_ms:
                records.append(self._long_task(at, context))
            if self.bundle_url:
                records.append(self._resource(at, context))
        return records, spans

    def _vital(
        self, name: str, median: float, at: int, context: dict[str, AttributeValue]
    ) -> LogRecord:
        value = float(median * self._rng.lognormal(0.0, 0.35))
        attributes = {**context, "browser.web_vital.name": name, "browser.web_vital.value": value}
        if name == "INP" and self.script:
            attributes["browser.web_vital.attribution.script_url"] = self.script
        return event("browser.web_vital", at, attributes)

    def _request(self, view: int, at: int, context: dict[str, AttributeValue]) -> Span:
        duration_ms = float(self.endpoint_median_ms * self._rng.lognormal(0.0, 0.3))
        return client_span(
            trace_id=view.to_bytes(16, "big"),
            span_id=view.to_bytes(8, "big"),
            name="GET",
            start_ns=at,
            duration_ns=int(duration_ms * 1e6),
            attributes={
                **context,
                "http.request.method": "GET",
                "url.full": f"https://api.example{self.endpoint}",
                "url.template": self.endpoint,
                "http.response.status_code": 200,
            },
        )

    def _error(self, at: int, context: dict[str, AttributeValue]) -> LogRecord:
        return event(
            "exception",
            at,
            {
                **context,
                "exception.type": self.error_type,
                "exception.message": self.error_message,
                "exception.stacktrace": f"{self.error_type}: {self.error_message}\n at cart.ts:88",
            },
        )

    def _long_task(self, at: int, context: dict[str, AttributeValue]) -> LogRecord:
        duration = float(self.long_task_ms * self._rng.lognormal(0.0, 0.2))
        return event(
            "browser.long_task",
            at,
            {
                **context,
                "browser.long_task.type": "long-animation-frame",
                "browser.long_task.duration": duration,
                "browser.long_task.script_url": self.script,
            },
        )

    def _resource(self, at: int, context: dict[str, AttributeValue]) -> LogRecord:
        return event(
            "browser.resource.timing",
            at,
            {
                **context,
                "url.full": self.bundle_url,
                "browser.resource.initiator_type": "script",
                "browser.resource.transfer_size": self.bundle_bytes,
                "browser.resource.duration": 120.0,
            },
        )


def send(http_url: str, traffic: Sequence[Traffic], start: datetime, minutes: int) -> None:
    """Posts `minutes` minutes of every traffic from `start`, one request per cohort-minute."""
    with httpx.Client(base_url=http_url, timeout=30) as client:
        for offset in range(minutes):
            at = start + timedelta(minutes=offset)
            for flow in traffic:
                records, spans = flow.minute(at)
                _post(
                    client,
                    "/v1/logs",
                    logs_request(flow.cohort.resource(), records).SerializeToString(),
                )
                if spans:
                    body = traces_request(flow.cohort.resource(), spans).SerializeToString()
                    _post(client, "/v1/traces", body)


def _post(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/x-protobuf"})
    response.raise_for_status()


def minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def total_rows(flows: Iterable[Traffic], minutes: int) -> int:
    return sum(flow.per_minute for flow in flows) * minutes
