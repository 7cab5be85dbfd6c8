from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import ua_parser
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from tests.otlp_samples import CONTEXT, vitals_request
from tests.processors.enrich.test_useragent import CHROME_ANDROID, CHROME_WINDOWS, SAFARI_IPHONE
from vitalsight.processors.base import validate_config
from vitalsight.processors.enrich import EnrichConfig, EnrichProcessor
from vitalsight.processors.enrich.geo import IpCountry, TimezoneCountry
from vitalsight.processors.otlp_records import get_str, log_records, spans
from vitalsight.receivers.signals import LOGS, METRICS, TRACES
from vitalsight.service.otlp_build import (
    AttributeValue,
    client_span,
    event,
    key_values,
    logs_request,
    traces_request,
)

T0 = 1_764_000_000_000_000_000
PUBLIC_DE = "193.99.144.80"
BASE: dict[str, AttributeValue] = {"service.name": "shop-web", "service.version": "1.0.0"}


@pytest.fixture
def make(ip_country: IpCountry, timezones: TimezoneCountry) -> Any:
    def _make(**config: Any) -> EnrichProcessor:
        return EnrichProcessor(
            validate_config("enrich", EnrichConfig, config),
            ip_country=ip_country,
            timezones=timezones,
        )

    return _make


def attrs(message: Any) -> dict[str, str | None]:
    return {kv.key: get_str(message.attributes, kv.key) for kv in message.attributes}


def page_view(**extra: AttributeValue) -> Any:
    return event("browser.page_view", T0, {"session.id": "s1", **extra})


def one_log(resource: dict[str, AttributeValue], record: Any) -> Any:
    return logs_request({**BASE, **resource}, [record])


# -- user agent ---------------------------------------------------------------------------


def test_resource_user_agent_enriches_the_resource_once(make: Any) -> None:
    request = logs_request(
        {**BASE, "user_agent.original": CHROME_ANDROID}, [page_view(), page_view()]
    )
    make().process(LOGS, request)
    resource = attrs(request.resource_logs[0].resource)
    assert resource["user_agent.name"] == "Chrome Mobile"
    assert resource["user_agent.version"] == "131.0"
    assert resource["user_agent.os.name"] == "Android"
    assert resource["user_agent.os.version"] == "10"
    assert resource["device.type"] == "mobile"
    for _resource, record in log_records(request):
        assert "user_agent.name" not in attrs(record)


def test_values_the_sdk_set_are_kept(make: Any) -> None:
    request = one_log(
        {"user_agent.original": CHROME_WINDOWS, "user_agent.name": "Google Chrome"},
        page_view(**{"device.type": "tablet"}),
    )
    make().process(LOGS, request)
    resource = attrs(request.resource_logs[0].resource)
    assert resource["user_agent.name"] == "Google Chrome"
    assert resource["user_agent.version"] == "131.0"  # missing ones are filled in
    assert resource["device.type"] == "desktop"  # the record's own `tablet` wins in SQL
    assert attrs(request.resource_logs[0].scope_logs[0].log_records[0])["device.type"] == "tablet"


def test_overwrite_replaces_resource_and_record_values(make: Any) -> None:
    request = one_log(
        {"user_agent.original": CHROME_WINDOWS, "user_agent.name": "Google Chrome"},
        page_view(**{"device.type": "tablet"}),
    )
    make(user_agent={"overwrite": True}).process(LOGS, request)
    assert attrs(request.resource_logs[0].resource)["user_agent.name"] == "Chrome"
    record = attrs(request.resource_logs[0].scope_logs[0].log_records[0])
    assert record["device.type"] == "desktop"


def test_record_user_agent_is_enriched_on_the_record(make: Any) -> None:
    request = one_log(
        {"user_agent.original": CHROME_WINDOWS},
        page_view(**{"user_agent.original": SAFARI_IPHONE}),
    )
    make().process(LOGS, request)
    record = attrs(request.resource_logs[0].scope_logs[0].log_records[0])
    assert (record["user_agent.name"], record["device.type"]) == ("Mobile Safari", "mobile")
    assert attrs(request.resource_logs[0].resource)["user_agent.name"] == "Chrome"


def test_client_hints_mobile_flag_is_used(make: Any) -> None:
    # A reduced Chrome UA with Client Hints saying "not mobile": a desktop-mode Android.
    request = one_log({"user_agent.original": CHROME_ANDROID, "browser.mobile": False}, page_view())
    make().process(LOGS, request)
    assert attrs(request.resource_logs[0].resource)["device.type"] == "desktop"


def test_user_agents_are_parsed_once_across_requests(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = ua_parser.parse

    def counting(ua: str) -> ua_parser.Result:
        calls.append(ua)
        return real(ua)

    monkeypatch.setattr(ua_parser, "parse", counting)
    processor = make()
    for ua in (CHROME_WINDOWS, SAFARI_IPHONE, CHROME_WINDOWS, CHROME_WINDOWS):
        processor.process(LOGS, one_log({"user_agent.original": ua}, page_view()))
    assert calls == [CHROME_WINDOWS, SAFARI_IPHONE]


def test_oversized_inputs_are_left_alone(make: Any) -> None:
    huge_ua = CHROME_WINDOWS + " x" * 2000
    request = one_log(
        {"user_agent.original": huge_ua},
        page_view(**{"browser.page.url": "https://shop.example/" + "a/" * 3000}),
    )
    make().process(LOGS, request)
    assert "user_agent.name" not in attrs(request.resource_logs[0].resource)
    assert "browser.page.route" not in attrs(request.resource_logs[0].scope_logs[0].log_records[0])


def test_disabled_user_agent_step(make: Any) -> None:
    request = one_log({"user_agent.original": CHROME_WINDOWS}, page_view())
    make(user_agent={"enabled": False}).process(LOGS, request)
    assert "user_agent.name" not in attrs(request.resource_logs[0].resource)


# -- geo ----------------------------------------------------------------------------------


def test_country_from_resource_ip_and_ip_gone_from_the_bytes(make: Any) -> None:
    request = logs_request(
        {**BASE, "client.address": PUBLIC_DE},
        [
            page_view(**{"network.peer.address": PUBLIC_DE, "client.ip": PUBLIC_DE}),
            page_view(**{"source.ip": "2001:638:200::1", "http.client_ip": PUBLIC_DE}),
        ],
    )
    processor = make()
    processor.process(LOGS, request)
    resource = attrs(request.resource_logs[0].resource)
    assert resource["geo.country.iso_code"] == "DE"
    assert "client.address" not in resource
    for _resource, record in log_records(request):
        assert set(attrs(record)) == {"session.id"}
    data = request.SerializeToString()
    assert PUBLIC_DE.encode() not in data
    assert b"2001:638:200::1" not in data
    assert ipaddress.ip_address(PUBLIC_DE).packed not in data
    assert processor.counts["ip_attributes_dropped"] == 5


def test_ip_is_dropped_even_when_geo_is_disabled(make: Any) -> None:
    request = one_log({"client.address": PUBLIC_DE}, page_view(**{"client.address": PUBLIC_DE}))
    make(geo={"enabled": False}).process(LOGS, request)
    assert PUBLIC_DE.encode() not in request.SerializeToString()
    assert "geo.country.iso_code" not in attrs(request.resource_logs[0].resource)


def test_sender_country_kept_but_ip_dropped(make: Any) -> None:
    request = one_log({"client.address": PUBLIC_DE, "geo.country.iso_code": "FR"}, page_view())
    make().process(LOGS, request)
    resource = attrs(request.resource_logs[0].resource)
    assert resource == {**BASE, "geo.country.iso_code": "FR"}


def test_record_ip_gives_record_country(make: Any) -> None:
    request = one_log({}, page_view(**{"client.address": "133.11.0.1"}))
    make().process(LOGS, request)
    record = attrs(request.resource_logs[0].scope_logs[0].log_records[0])
    assert record == {"session.id": "s1", "geo.country.iso_code": "JP"}


def test_private_ip_falls_back_to_timezone_name(make: Any) -> None:
    request = one_log(
        {"client.address": "192.168.0.7", "browser.timezone": "Asia/Tokyo"}, page_view()
    )
    processor = make()
    processor.process(LOGS, request)
    resource = attrs(request.resource_logs[0].resource)
    assert resource["geo.country.iso_code"] == "JP"
    assert "client.address" not in resource
    assert processor.counts["geo_from_timezone"] == 1


def test_missing_ip_falls_back_to_record_offset(make: Any) -> None:
    request = one_log({}, page_view(**{"browser.timezone_offset": 345}))
    make().process(LOGS, request)
    record = attrs(request.resource_logs[0].scope_logs[0].log_records[0])
    assert record["geo.country.iso_code"] == "NP"


def test_ambiguous_offset_and_no_fallback_give_no_country(make: Any) -> None:
    request = one_log({"client.address": "10.0.0.1", "browser.timezone_offset": 60}, page_view())
    make().process(LOGS, request)
    assert "geo.country.iso_code" not in attrs(request.resource_logs[0].resource)
    request = one_log({"browser.timezone": "Europe/Berlin"}, page_view())
    make(geo={"timezone_fallback": False}).process(LOGS, request)
    assert "geo.country.iso_code" not in attrs(request.resource_logs[0].resource)


def test_metrics_resource_and_data_points_lose_the_ip(make: Any) -> None:
    point = NumberDataPoint(as_double=1.0, attributes=key_values({"client.address": PUBLIC_DE}))
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=key_values({**BASE, "client.address": PUBLIC_DE})),
                scope_metrics=[
                    ScopeMetrics(metrics=[Metric(name="m", gauge=Gauge(data_points=[point]))])
                ],
            )
        ]
    )
    make().process(METRICS, request)
    assert PUBLIC_DE.encode() not in request.SerializeToString()
    assert attrs(request.resource_metrics[0].resource)["geo.country.iso_code"] == "DE"


# -- route --------------------------------------------------------------------------------


def test_route_from_page_url(make: Any) -> None:
    request = logs_request(
        BASE,
        [
            page_view(**{"browser.page.url": "https://shop.example/product/123"}),
            page_view(**{"url.full": "https://shop.example/product/7?ref=x"}),
            page_view(
                **{
                    "browser.page.url": "https://shop.example/product/9",
                    "browser.page.route": "/p/[id]",
                }
            ),
            event("exception", T0, {"url.full": "https://cdn.example/app/123.js"}),
        ],
    )
    make().process(LOGS, request)
    routes = [attrs(record).get("browser.page.route") for _r, record in log_records(request)]
    assert routes == ["/product/:id", "/product/:id", "/p/[id]", None]


def test_route_patterns_per_app(make: Any) -> None:
    config = {"route": {"patterns": {"docs-site": ["/docs/{section}/{page}"]}}}
    docs = logs_request(
        {"service.name": "docs-site"},
        [page_view(**{"browser.page.url": "https://docs.example/docs/api/intro"})],
    )
    shop = one_log({}, page_view(**{"browser.page.url": "https://shop.example/docs/api/intro"}))
    processor = make(**config)
    processor.process(LOGS, docs)
    processor.process(LOGS, shop)
    assert attrs(docs.resource_logs[0].scope_logs[0].log_records[0])["browser.page.route"] == (
        "/docs/:section/:page"
    )
    assert attrs(shop.resource_logs[0].scope_logs[0].log_records[0])["browser.page.route"] == (
        "/docs/api/intro"
    )


def test_spans_use_the_page_url_not_the_request_url(make: Any) -> None:
    def span(**extra: AttributeValue) -> Any:
        return client_span(
            trace_id=b"\x01" * 16,
            span_id=b"\x02" * 8,
            name="GET",
            start_ns=T0,
            duration_ns=1_000_000,
            attributes={
                "http.request.method": "GET",
                "url.full": "https://api.example/items/5",
                **extra,
            },
        )

    request = traces_request(
        {**BASE, "client.address": PUBLIC_DE},
        [span(), span(**{"browser.page.url": "https://shop.example/cart/12"})],
    )
    make().process(TRACES, request)
    routes = [attrs(s).get("browser.page.route") for _r, s in spans(request)]
    assert routes == [None, "/cart/:id"]
    assert attrs(request.resource_spans[0].resource)["geo.country.iso_code"] == "DE"
    assert PUBLIC_DE.encode() not in request.SerializeToString()


# -- a realistic request ------------------------------------------------------------------


def test_sdk_enriched_request_keeps_the_sdk_values(make: Any) -> None:
    request = vitals_request("m", count=3)
    make().process(LOGS, request)
    for _resource, record in log_records(request):
        values = attrs(record)
        for key in ("user_agent.name", "device.type", "geo.country.iso_code", "browser.page.route"):
            assert values[key] == CONTEXT[key]
