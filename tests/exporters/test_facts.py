"""The schema on a real chDB directory: raw rows become RUM facts and rollups via the
materialized views, for our SDK's events and the official OpenTelemetry browser SDK's."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.otlp_samples import CONTEXT, RESOURCE
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_logs, encode_traces
from vitalsight.exporters.retention import apply_retention
from vitalsight.exporters.schema import load_migrations, migrate
from vitalsight.exporters.server_store import ClickHouseServerStore
from vitalsight.exporters.store import Store
from vitalsight.service.otlp_build import (
    client_span,
    event,
    key_values,
    logs_request,
    traces_request,
)

NOW = time.time_ns()


SERVER_URL = os.environ.get("VITALSIGHT_TEST_CLICKHOUSE_URL")


@pytest.fixture(scope="module", params=["chdb", "clickhouse"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The same schema tests on both stores; the server one when a server is configured."""
    if request.param == "chdb":
        opened: Store = ChdbStore(tmp_path_factory.mktemp("chdb"))
    elif SERVER_URL:
        opened = ClickHouseServerStore(
            SERVER_URL, database=f"vitalsight_test_{uuid.uuid4().hex[:8]}"
        )
    else:
        pytest.skip("no ClickHouse server here: set VITALSIGHT_TEST_CLICKHOUSE_URL to run")
    migrate(opened)
    yield opened
    if isinstance(opened, ClickHouseServerStore):
        opened.command(f"DROP DATABASE {opened.database}")
    opened.close()


def one(store: Store, sql: str) -> tuple[object, ...]:
    rows = store.rows(sql)
    assert len(rows) == 1, rows
    return rows[0]


def test_migrations_apply_once(store: Store) -> None:
    assert migrate(store) == []
    versions = [
        row[0]
        for row in store.rows("SELECT version FROM vitalsight_schema_migrations ORDER BY version")
    ]
    assert versions == [m.version for m in load_migrations()]


def test_sdk_events_fill_every_fact_table(store: Store) -> None:
    ctx = {**CONTEXT, "browser.page.view_id": "pv-facts"}
    records = [
        event(
            "browser.page_view",
            NOW,
            {
                **ctx,
                "browser.page_view.type": "navigation",
                "browser.page.url": "https://shop.example/results?q=secret#top",
                "browser.navigation_timing.dns": 12.5,
                "browser.navigation_timing.ttfb": 310.0,
                "browser.navigation_timing.load": 2100.0,
            },
        ),
        event(
            "exception",
            NOW,
            {
                **ctx,
                "exception.type": "TypeError",
                "exception.message": "Cannot read properties of undefined (reading 'id') 42",
                "exception.stacktrace": "TypeError: x\n    at cart (cart.ts:88:13)",
                "vitalsight.error.source": "unhandledrejection",
            },
        ),
        event(
            "browser.long_task",
            NOW,
            {
                **ctx,
                "browser.long_task.duration": 180.0,
                "browser.long_task.type": "long-animation-frame",
                "browser.long_task.blocking_duration": 130.0,
                "browser.long_task.script_url": "https://cdn.shop.example/checkout.js",
            },
        ),
        event(
            "browser.resource.timing",
            NOW,
            {
                **ctx,
                "url.full": "https://cdn.shop.example/app.js?v=3",
                "browser.resource.initiator_type": "script",
                "browser.resource.transfer_size": 528_000,
                "browser.resource.encoded_body_size": 527_000,
                "browser.resource.decoded_body_size": 1_900_000,
                "browser.resource.duration": 420.0,
                "browser.resource.render_blocking": "blocking",
            },
        ),
    ]
    store.insert(encode_logs(logs_request(RESOURCE, records)).to_rows())
    where = "page_view_id = 'pv-facts'"
    assert one(
        store,
        f"SELECT url, view_type, dns_ms, ttfb_ms, load_ms, connect_ms "
        f"FROM rum_page_views WHERE {where}",
    ) == ("https://shop.example/results", "navigation", 12.5, 310.0, 2100.0, None)
    error = one(
        store, f"SELECT type, source, length(fingerprint), stack FROM rum_errors WHERE {where}"
    )
    assert error == (
        "TypeError",
        "unhandledrejection",
        16,
        "TypeError: x\n    at cart (cart.ts:88:13)",
    )
    assert one(
        store,
        f"SELECT kind, duration_ms, blocking_ms, script_url FROM rum_long_tasks WHERE {where}",
    ) == ("long-animation-frame", 180.0, 130.0, "https://cdn.shop.example/checkout.js")
    assert one(
        store,
        f"SELECT url, initiator_type, transfer_size, decoded_size, render_blocking "
        f"FROM rum_resources WHERE {where}",
    ) == ("https://cdn.shop.example/app.js", "script", 528_000, 1_900_000, "blocking")


def test_error_fingerprint_ignores_numbers_in_messages(store: Store) -> None:
    ctx = {**CONTEXT, "browser.page.view_id": "pv-fp"}
    records = [
        event(
            "exception",
            NOW,
            {**ctx, "exception.type": "Error", "exception.message": f"order {n} not found"},
        )
        for n in (17, 9_000)
    ]
    store.insert(encode_logs(logs_request(RESOURCE, records)).to_rows())
    assert one(
        store, "SELECT uniqExact(fingerprint), count() FROM rum_errors WHERE page_view_id = 'pv-fp'"
    ) == (1, 2)


def test_semconv_body_form_web_vital_gets_threshold_rating(store: Store) -> None:
    body = AnyValue(
        kvlist_value=KeyValueList(
            values=key_values({"name": "cls", "value": 0.31, "delta": 0.31, "id": "v4-body-form"})
        )
    )
    record = LogRecord(
        time_unix_nano=NOW,
        event_name="browser.web_vital",
        body=body,
        attributes=key_values({**CONTEXT, "browser.page.view_id": "pv-body"}),
    )
    store.insert(encode_logs(logs_request(RESOURCE, [record])).to_rows())
    assert one(
        store,
        "SELECT name, value, rating, metric_id FROM rum_vitals WHERE page_view_id = 'pv-body'",
    ) == ("CLS", 0.31, "poor", "v4-body-form")


def test_older_event_name_attribute_is_understood(store: Store) -> None:
    record = LogRecord(
        time_unix_nano=NOW,
        attributes=key_values(
            {
                **CONTEXT,
                "event.name": "browser.web_vital",
                "browser.page.view_id": "pv-old",
                "browser.web_vital.name": "INP",
                "browser.web_vital.value": 350.0,
            }
        ),
    )
    store.insert(encode_logs(logs_request(RESOURCE, [record])).to_rows())
    assert one(store, "SELECT name, rating FROM rum_vitals WHERE page_view_id = 'pv-old'") == (
        "INP",
        "needs-improvement",
    )


def official_resource() -> dict[str, str]:
    """What the official OpenTelemetry web SDK puts on its resource."""
    return {
        "service.name": "otel-web",
        "service.version": "2.0.0",
        "telemetry.sdk.language": "webjs",
        "telemetry.sdk.name": "opentelemetry",
        "deployment.environment": "staging",
        "browser.mobile": "false",
        "browser.platform": "macOS",
        "session.id": "otel-session-1",
    }


def timing_events(start: int, marks: dict[str, float]) -> list[Span.Event]:
    return [
        Span.Event(name=name, time_unix_nano=start + int(ms * 1e6)) for name, ms in marks.items()
    ]


def test_official_document_load_spans_become_one_page_view(store: Store) -> None:
    """documentLoad carries the DOM/load marks, its child documentFetch the network marks
    (instrumentation-document-load 0.68/0.69); on http: pages secureConnectionStart sits
    before fetchStart and must not become a TLS time."""
    trace_id, load_id = os.urandom(16), os.urandom(8)
    load = Span(
        trace_id=trace_id,
        span_id=load_id,
        name="documentLoad",
        start_time_unix_nano=NOW,
        end_time_unix_nano=NOW + 2_000_000_000,
        attributes=key_values({"url.full": "https://docs.example/guide/intro?x=1"}),
        events=timing_events(
            NOW, {"fetchStart": 0, "domInteractive": 900, "domComplete": 1200, "loadEventEnd": 1300}
        ),
    )
    fetch = Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        parent_span_id=load_id,
        name="documentFetch",
        start_time_unix_nano=NOW,
        end_time_unix_nano=NOW + 1,
        events=timing_events(
            NOW,
            {
                "secureConnectionStart": -2,
                "fetchStart": 0,
                "domainLookupStart": 5,
                "domainLookupEnd": 25,
                "connectStart": 25,
                "connectEnd": 70,
                "requestStart": 71,
                "responseStart": 300,
                "responseEnd": 350,
            },
        ),
    )
    store.insert(encode_traces(traces_request(official_resource(), [load, fetch])).to_rows())
    row = one(
        store,
        "SELECT route, url, environment, os, device, session_id, dns_ms, "
        "connect_ms, tls_ms, request_ms, ttfb_ms, dom_processing_ms, load_ms "
        "FROM rum_page_views WHERE app = 'otel-web'",
    )
    assert row == (
        "/guide/intro",
        "https://docs.example/guide/intro",
        "staging",
        "macOS",
        "desktop",
        "otel-session-1",
        20.0,
        45.0,
        None,
        229.0,
        300.0,
        850.0,
        1300.0,
    )


def test_official_fetch_span_with_older_http_conventions(store: Store) -> None:
    span = client_span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name="HTTP GET",
        start_ns=NOW,
        duration_ns=80_000_000,
        attributes={
            "http.method": "GET",
            "http.status_code": 404,
            "http.url": "https://api.example/v1/users/42/orders/9f86d081884c7d659a2feaa0c55ad015?y=2",
        },
    )
    store.insert(
        encode_traces(
            traces_request({**official_resource(), "service.name": "otel-fetch"}, [span])
        ).to_rows()
    )
    assert one(
        store,
        "SELECT url_template, method, status, duration_ms, server_address, url "
        "FROM rum_requests WHERE app = 'otel-fetch'",
    ) == (
        "/v1/users/:id/orders/:hash",
        "GET",
        404,
        80.0,
        "api.example",
        "https://api.example/v1/users/42/orders/9f86d081884c7d659a2feaa0c55ad015",
    )


def test_span_exception_events_become_errors(store: Store) -> None:
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name="click",
        start_time_unix_nano=NOW,
        end_time_unix_nano=NOW + 1,
        events=[
            Span.Event(
                name="exception",
                time_unix_nano=NOW,
                attributes=key_values(
                    {"exception.type": "RangeError", "exception.message": "bad length"}
                ),
            )
        ],
    )
    store.insert(
        encode_traces(
            traces_request({**official_resource(), "service.name": "otel-exc"}, [span])
        ).to_rows()
    )
    assert one(store, "SELECT type, message, source FROM rum_errors WHERE app = 'otel-exc'") == (
        "RangeError",
        "bad length",
        "span_event",
    )


def test_rollups_hold_weighted_quantiles(store: Store) -> None:
    ctx = {**CONTEXT, "browser.page.route": "/rollup-test"}
    values = [float(v) for v in range(100, 10_100, 100)]  # 100 … 10000 ms
    records = [
        event(
            "browser.web_vital",
            NOW,
            {
                **ctx,
                "browser.web_vital.name": "LCP",
                "browser.web_vital.value": v,
                "vitalsight.sample_rate": 0.1,
            },
        )
        for v in values
    ]
    store.insert(encode_logs(logs_request(RESOURCE, records)).to_rows())
    samples, weight, good, poor, quantiles = one(
        store,
        """
        SELECT sum(samples), sum(weight), sum(good), sum(poor),
               quantilesTDigestWeightedMerge(0.5, 0.75, 0.95, 0.99)(value_quantiles)
        FROM rum_vitals_1m WHERE route = '/rollup-test' AND name = 'LCP'""",
    )
    assert samples == 100
    assert weight == pytest.approx(1000.0)  # each sampled row stands for 10
    assert good == pytest.approx(250.0) and poor == pytest.approx(600.0)
    p50, p75, p95, p99 = quantiles  # type: ignore[misc]
    assert p50 <= p75 <= p95 <= p99
    assert p75 == pytest.approx(7_500, rel=0.05)


def test_hourly_and_daily_rollups_hold_grouping_sets(store: Store) -> None:
    """Each fact row counts once per grouping set ('' = all rows, route, device, country),
    so any one dimension's rows add up to the whole; states merge like the per-minute ones."""
    resource = {**RESOURCE, "service.name": "coarse-test"}
    routes = ["/a", "/b"]
    vitals = [
        event(
            "browser.web_vital",
            NOW,
            {
                **CONTEXT,
                "browser.page.route": routes[i % 2],
                "browser.web_vital.name": "LCP",
                "browser.web_vital.value": float(v),
                "vitalsight.sample_rate": 0.5,
            },
        )
        for i, v in enumerate(range(100, 10_100, 100))
    ]
    bundles = [
        event(
            "browser.resource.timing",
            NOW,
            {
                **CONTEXT,
                "url.full": f"https://cdn.shop.example/static/app.{digest}.js",
                "browser.resource.initiator_type": "script",
                "browser.resource.decoded_body_size": size,
            },
        )
        for digest, size in (("3f2a1c9d", 1000), ("77aa00bb", 3000))
    ]
    store.insert(encode_logs(logs_request(resource, [*vitals, *bundles])).to_rows())
    request = client_span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name="HTTP GET",
        start_ns=NOW,
        duration_ns=120_000_000,
        attributes={
            **CONTEXT,
            "http.request.method": "GET",
            "http.response.status_code": 503,
            "url.full": "https://api.example/api/cart",
        },
    )
    store.insert(encode_traces(traces_request(resource, [request])).to_rows())
    for table in ("rum_vitals_1h", "rum_vitals_1d"):
        rows = store.rows(
            f"""
            SELECT dimension, groupUniqArray(dimension_value), sum(samples), sum(weight),
                   sum(good), uniqExact(bucket),
                   quantileTDigestWeighted(0.75)(pow(1.02, bucket), toUInt32(round(weight)))
            FROM {table} WHERE app = 'coarse-test' AND name = 'LCP'
            GROUP BY dimension ORDER BY dimension"""
        )
        assert [(r[0], sorted(r[1])) for r in rows] == [
            ("", [""]),
            ("country", ["DE"]),
            ("device", ["mobile"]),
            ("route", routes),
        ], table
        for _, _, samples, weight, good, buckets, p75 in rows:
            assert (samples, weight, good) == (100, pytest.approx(200.0), pytest.approx(50.0))
            assert 80 < buckets < 100  # 2%-wide buckets: a few neighbours share one
            assert p75 == pytest.approx(7_500, rel=0.03)
    for table in ("rum_requests_1h", "rum_requests_1d"):
        assert store.rows(
            f"SELECT dimension, dimension_value, url_template, method, samples, errors, slow,"
            f" status_5xx, status_2xx FROM {table} FINAL WHERE app = 'coarse-test'"
            " ORDER BY dimension"
        ) == [
            ("", "", "/api/cart", "GET", 1, 1.0, 0.0, 1.0, 0.0),
            ("route", "/results", "/api/cart", "GET", 1, 1.0, 0.0, 1.0, 0.0),
        ]
    assert one(
        store,
        "SELECT resource, initiator_type, sum(samples), sum(decoded_bytes)"
        " FROM rum_resources_1h WHERE app = 'coarse-test' GROUP BY resource, initiator_type",
    ) == ("/static/app.js", "script", 2, 4000)
    # series rollups (0008): 5% buckets, each read as the mean of its values; daily totals
    rows = store.rows(
        """
        SELECT dimension, sum(samples), sum(weight), uniqExact(bucket),
               quantileTDigestWeighted(0.75)(value_sum / weight, toUInt32(round(weight))),
               max(abs(value_sum / weight / pow(1.05, bucket) - 1))
        FROM rum_vitals_series_1h WHERE app = 'coarse-test' AND name = 'LCP'
        GROUP BY dimension ORDER BY dimension"""
    )
    assert [r[0] for r in rows] == ["", "country", "device", "route"]
    for _, samples, weight, buckets, p75, off_centre in rows:
        assert (samples, weight) == (100, pytest.approx(200.0))
        assert 40 < buckets < 80  # 5%-wide buckets: fewer than the 2% ones above
        assert p75 == pytest.approx(7_500, rel=0.02)
        assert off_centre <= 0.026  # a bucket's mean lies inside it
    assert store.rows(
        "SELECT dimension, dimension_value, sum(samples), sum(weight) FROM rum_vitals_totals_1d"
        " WHERE app = 'coarse-test' AND name = 'LCP' AND dimension IN ('', 'route')"
        " GROUP BY dimension, dimension_value ORDER BY dimension, dimension_value"
    ) == [("", "", 100, 200.0), ("route", "/a", 50, 100.0), ("route", "/b", 50, 100.0)]
    assert store.rows(
        "SELECT dimension, dimension_value, url_template, samples, value_sum, status_5xx"
        " FROM rum_requests_series_1h FINAL WHERE app = 'coarse-test' ORDER BY dimension"
    ) == [
        ("", "", "/api/cart", 1, pytest.approx(120.0), 1.0),
        ("route", "/results", "/api/cart", 1, pytest.approx(120.0), 1.0),
    ]
    assert store.rows(
        "SELECT dimension, url_template, method, samples, weight FROM rum_requests_totals_1d"
        " FINAL WHERE app = 'coarse-test' ORDER BY dimension"
    ) == [("", "/api/cart", "GET", 1, 1.0), ("route", "/api/cart", "GET", 1, 1.0)]
    # the per-minute requests rollup counts the same classes (0006), for ranges past raw
    # retention
    assert store.rows(
        "SELECT samples, errors, slow, status_failed, status_2xx, status_5xx"
        " FROM rum_requests_1m FINAL WHERE app = 'coarse-test'"
    ) == [(1, 1.0, 0.0, 0.0, 0.0, 1.0)]


def test_hourly_page_views_by_route(store: Store) -> None:
    resource = {**RESOURCE, "service.name": "page-views-1h-test"}
    views = [
        event(
            "browser.page_view",
            NOW,
            {
                **CONTEXT,
                "browser.page.route": route,
                "browser.page_view.type": "navigation",
                "vitalsight.sample_rate": rate,
            },
        )
        for route, rate in (("/a", 1.0), ("/a", 0.5), ("/b", 0.25))
    ]
    store.insert(encode_logs(logs_request(resource, views)).to_rows())
    assert store.rows(
        "SELECT route, sum(samples), sum(weight) FROM rum_page_views_1h"
        " WHERE app = 'page-views-1h-test' GROUP BY route ORDER BY route"
    ) == [("/a", 2, 3.0), ("/b", 1, 4.0)]


def test_retention_follows_the_configuration(store: Store) -> None:
    apply_retention(store, raw_days=30, rollup_days=395)
    assert apply_retention(store, raw_days=30, rollup_days=395) == []
    changed = apply_retention(store, raw_days=7, rollup_days=90)
    assert "otel_logs" in changed and "rum_vitals_1m" in changed and "rum_vitals_1d" in changed
    assert "rum_page_views_1h" in changed
    engine = one(
        store,
        "SELECT engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'rum_vitals'",
    )[0]
    assert "TTL toDateTime(timestamp) + toIntervalDay(7)" in str(engine)
