"""Realistic RUM payloads for tests, built with opentelemetry-proto (real OTLP bytes)."""

from __future__ import annotations

import os
import time
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vitalsight.service.otlp_build import client_span, event, logs_request, traces_request

RESOURCE: dict[str, Any] = {
    "service.name": "shop-web",
    "service.version": "1.2.9",
    "deployment.environment.name": "production",
    "telemetry.sdk.name": "vitalsight",
    "user_agent.original": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
}
CONTEXT: dict[str, Any] = {
    "session.id": "0f6a1c2e-session",
    "browser.page.view_id": "pv-1",
    "browser.page.route": "/results",
    "browser.page.url": "https://shop.example/results",
    "user_agent.name": "Mobile Safari",
    "user_agent.version": "17.4",
    "user_agent.os.name": "iOS",
    "device.type": "mobile",
    "geo.country.iso_code": "DE",
    "network.connection.subtype": "4g",
}


def vitals_request(
    marker: str, count: int = 3, *, time_ns: int | None = None, app: str = "shop-web"
) -> ExportLogsServiceRequest:
    """`count` LCP events; `marker` goes in browser.web_vital.id so tests can find them."""
    start = time_ns or time.time_ns()
    records = [
        event(
            "browser.web_vital",
            start + i * 1_000_000,
            {
                **CONTEXT,
                "browser.web_vital.name": "LCP",
                "browser.web_vital.value": 1800.0 + 100 * i,
                "browser.web_vital.delta": 1800.0 + 100 * i,
                "browser.web_vital.id": f"{marker}-{i}",
                "browser.web_vital.rating": "good",
                "browser.web_vital.navigation_type": "navigate",
                "browser.web_vital.attribution.target": "img.hero",
                "browser.web_vital.attribution.url": "https://cdn.shop.example/hero.avif",
            },
        )
        for i in range(count)
    ]
    return logs_request({**RESOURCE, "service.name": app}, records)


def fetch_spans_request(marker: str, count: int = 2) -> ExportTraceServiceRequest:
    now = time.time_ns()
    spans = [
        client_span(
            trace_id=os.urandom(16),
            span_id=os.urandom(8),
            name="GET",
            start_ns=now + i,
            duration_ns=250_000_000,
            attributes={
                **CONTEXT,
                "http.request.method": "GET",
                "url.full": f"https://api.shop.example/api/search/{1000 + i}?q={marker}",
                "http.response.status_code": 500 if i % 2 else 200,
                "server.address": "api.shop.example",
                "test.marker": marker,
            },
        )
        for i in range(count)
    ]
    return traces_request(RESOURCE, spans)
