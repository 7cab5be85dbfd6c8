"""End to end: `vitalsight serve` with enrich in the pipeline; OTLP/HTTP in, facts out, and
no IP address anywhere in the stored rows."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processors.enrich.test_useragent import CHROME_ANDROID, SAFARI_IPHONE
from tests.serve_process import ServeProcess
from vitalsight.service.otlp_build import event, logs_request

T0 = time.time_ns()  # recent: older rows would fall under the retention TTL
CONFIG = """\
pipeline: [enrich]
trust_forwarded_for: true
processors:
  enrich:
    route:
      patterns:
        shop-e2e: ["/docs/{section}/{page}"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    work = tmp_path_factory.mktemp("enrich-e2e")
    config = work / "vitalsight.yaml"
    config.write_text(CONFIG)
    process = ServeProcess(work / "data", extra_args=("--config", str(config))).start()
    yield process
    process.stop()


def post_logs(server: ServeProcess, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{server.http_url}/v1/logs",
        data=body,
        headers={"Content-Type": "application/x-protobuf", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def page_views(session: str, ua: str, url: str, **resource: str) -> bytes:
    request = logs_request(
        {"service.name": "shop-e2e", "user_agent.original": ua, **resource},
        [event("browser.page_view", T0, {"session.id": session, "browser.page.url": url})],
    )
    return request.SerializeToString()


def test_forwarded_client_gets_country_browser_and_route_and_no_ip_is_stored(
    server: ServeProcess, tmp_path: Path
) -> None:
    body = page_views("e2e-de", CHROME_ANDROID, "https://shop.example/product/31337")
    assert post_logs(server, body, {"X-Forwarded-For": "193.99.144.80, 10.0.0.1"}) == 200
    body = page_views(
        "e2e-jp",
        SAFARI_IPHONE,
        "https://shop.example/docs/api/intro",
        **{"browser.timezone": "Asia/Tokyo"},
    )
    assert post_logs(server, body, {}) == 200  # from 127.0.0.1: the time zone decides

    assert server.wait_for_count("rum_page_views", 2, where="app = 'shop-e2e'") == 2
    rows = server.rows(
        "SELECT session_id, country, browser, browser_version, os, device, route "
        "FROM rum_page_views WHERE app = 'shop-e2e' ORDER BY session_id"
    )
    assert rows == [
        ("e2e-de", "DE", "Chrome Mobile", "131.0", "Android", "mobile", "/product/:id"),
        ("e2e-jp", "JP", "Mobile Safari", "17.4", "iOS", "mobile", "/docs/:section/:page"),
    ]
    leaked = server.rows(
        "SELECT count() FROM otel_logs WHERE ServiceName = 'shop-e2e' AND ("
        "mapContains(ResourceAttributes, 'client.address') "
        "OR position(toString(ResourceAttributes), '193.99.144.80') > 0 "
        "OR position(toString(LogAttributes), '193.99.144.80') > 0 "
        "OR position(toString(ResourceAttributes), '127.0.0.1') > 0)"
    )
    assert leaked == [(0,)]
