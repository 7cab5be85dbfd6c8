"""OTLP/HTTP receiver end to end: real HTTP into a real `vitalsight serve` and chDB."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from tests.otlp_samples import fetch_spans_request, vitals_request
from tests.serve_process import ServeProcess

PROTOBUF = "application/x-protobuf"


def post(
    server: ServeProcess, path: str, body: bytes, content_type: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        server.http_url + path,
        data=body,
        headers={"Content-Type": content_type, **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def marker() -> str:
    return uuid.uuid4().hex[:12]


def vitals_with(server: ServeProcess, mark: str) -> int:
    return server.wait_for_count("rum_vitals", 1, where=f"startsWith(metric_id, '{mark}')")


def test_protobuf_logs_land_in_raw_and_fact_tables(server: ServeProcess) -> None:
    mark = marker()
    status, headers, body = post(
        server, "/v1/logs", vitals_request(mark, 3).SerializeToString(), PROTOBUF
    )
    assert status == 200
    assert headers["Content-Type"] == PROTOBUF
    assert not ExportLogsServiceResponse.FromString(body).HasField("partial_success")
    assert server.wait_for_count("rum_vitals", 3, where=f"startsWith(metric_id, '{mark}')") == 3
    row = server.rows(
        "SELECT app, release, environment, route, name, rating, device, country, network, "
        "browser, os, target, attribution['url'] "
        f"FROM rum_vitals WHERE metric_id = '{mark}-0'"
    )[0]
    assert row == (
        "shop-web",
        "1.2.9",
        "production",
        "/results",
        "LCP",
        "good",
        "mobile",
        "DE",
        "4g",
        "Mobile Safari",
        "iOS",
        "img.hero",
        "https://cdn.shop.example/hero.avif",
    )
    raw = server.rows(
        "SELECT count() FROM otel_logs WHERE EventName = 'browser.web_vital' "
        f"AND startsWith(LogAttributes['browser.web_vital.id'], '{mark}')"
    )
    assert raw == [(3,)]


def test_gzip_protobuf_is_accepted(server: ServeProcess) -> None:
    mark = marker()
    body = gzip.compress(vitals_request(mark, 2).SerializeToString())
    status, _, _ = post(server, "/v1/logs", body, PROTOBUF, **{"Content-Encoding": "gzip"})
    assert status == 200
    assert server.wait_for_count("rum_vitals", 2, where=f"startsWith(metric_id, '{mark}')") == 2


def otlp_json(request: Any) -> dict[str, Any]:
    """OTLP JSON: protobuf JSON with hex ids, as the OTLP spec (and browser SDKs) send it."""
    document: dict[str, Any] = json_format.MessageToDict(request)
    for resource in document.get("resourceSpans", []):
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId"):
                    span[key] = __import__("base64").b64decode(span[key]).hex()
    return document


def test_json_traces_with_hex_ids_land_as_requests(server: ServeProcess) -> None:
    mark = marker()
    request = fetch_spans_request(mark, 2)
    document = otlp_json(request)
    trace_id_hex = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    status, headers, body = post(
        server, "/v1/traces", json.dumps(document).encode(), "application/json"
    )
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    where = f"trace_id = '{trace_id_hex}'"
    assert server.wait_for_count("rum_requests", 1, where=where) == 1
    rows = server.rows(
        f"SELECT url_template, method, status, duration_ms, route FROM rum_requests WHERE {where}"
    )
    assert rows == [("/api/search/:id", "GET", 200, 250.0, "/results")]


def test_gzip_json_sent_as_text_plain_like_a_beacon(server: ServeProcess) -> None:
    mark = marker()
    document = json_format.MessageToDict(vitals_request(mark, 1))
    body = gzip.compress(json.dumps(document).encode())
    status, _, _ = post(
        server, "/v1/logs", body, "text/plain;charset=UTF-8", **{"Content-Encoding": "gzip"}
    )
    assert status == 200
    assert vitals_with(server, mark) == 1


def decode_status(body: bytes, content_type: str) -> status_pb2.Status:
    if content_type.startswith("application/json"):
        return json_format.Parse(body, status_pb2.Status())
    return status_pb2.Status.FromString(body)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"\x0a\xff\xff\xff\xff", PROTOBUF, "invalid protobuf ExportLogsServiceRequest"),
        (b"{not json", "application/json", "invalid JSON"),
        (b"[1, 2]", "application/json", "the body must be a JSON object"),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyz"}]}]}]}',
            "application/json",
            "traceId 'xyz' is not hex",
        ),
        (b'{"resourceLogs": 5}', "application/json", "invalid OTLP JSON"),
    ],
)
def test_malformed_payload_is_400_with_reason(
    server: ServeProcess, body: bytes, content_type: str, reason: str
) -> None:
    status, headers, response = post(server, "/v1/logs", body, content_type)
    assert status == 400
    assert reason in decode_status(response, headers["Content-Type"]).message


def test_wrong_content_type_is_415(server: ServeProcess) -> None:
    status, _, body = post(server, "/v1/logs", b"<xml/>", "application/xml")
    assert status == 415
    assert "unsupported Content-Type" in json.loads(body)["message"]


def test_bad_gzip_is_400(server: ServeProcess) -> None:
    status, headers, body = post(
        server, "/v1/logs", b"not gzip", PROTOBUF, **{"Content-Encoding": "gzip"}
    )
    assert status == 400
    assert "not valid gzip" in decode_status(body, headers["Content-Type"]).message


def test_metrics_partial_success_for_unsupported_points(server: ServeProcess) -> None:
    request = json_format.ParseDict(
        {
            "resourceMetrics": [
                {
                    "resource": {
                        "attributes": [
                            {"key": "service.name", "value": {"stringValue": "shop-web"}}
                        ]
                    },
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": "page.load",
                                    "gauge": {
                                        "dataPoints": [
                                            {"asDouble": 1.5, "timeUnixNano": str(time.time_ns())}
                                        ]
                                    },
                                },
                                {
                                    "name": "latency",
                                    "summary": {
                                        "dataPoints": [
                                            {"count": "1", "sum": 2.0},
                                            {"count": "2", "sum": 3.0},
                                        ]
                                    },
                                },
                            ]
                        }
                    ],
                }
            ]
        },
        ExportMetricsServiceRequest(),
    )
    status, _, body = post(server, "/v1/metrics", request.SerializeToString(), PROTOBUF)
    assert status == 200
    partial = ExportMetricsServiceResponse.FromString(body).partial_success
    assert partial.rejected_data_points == 2
    assert "summary" in partial.error_message
    assert server.wait_for_count("otel_metrics_gauge", 1, where="MetricName = 'page.load'") >= 1


def test_cors_preflight_and_response_headers(server: ServeProcess) -> None:
    preflight = urllib.request.Request(
        server.http_url + "/v1/logs",
        method="OPTIONS",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-vitalsight-key",
        },
    )
    with urllib.request.urlopen(preflight, timeout=10) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "content-type" in allowed and "x-vitalsight-key" in allowed
    status, headers, _ = post(
        server,
        "/v1/logs",
        vitals_request(marker(), 1).SerializeToString(),
        PROTOBUF,
        Origin="https://shop.example",
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]


def test_self_metrics_count_received_and_rejected(server: ServeProcess) -> None:
    post(server, "/v1/logs", vitals_request(marker(), 2).SerializeToString(), PROTOBUF)
    post(server, "/v1/logs", b"{", "application/json")
    with urllib.request.urlopen(server.http_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'vitalsight_received_items_total{signal="logs",transport="http"}' in text
    assert 'vitalsight_rejected_requests_total{reason="bad_request",signal="logs"}' in text
    assert "vitalsight_queue_rows" in text
    assert "vitalsight_flush_seconds_bucket" in text
