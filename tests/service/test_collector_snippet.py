"""The shipped OTel Collector configuration forwards what vitalsight needs.

No Collector binary runs here, so this checks the configuration's wiring, and then sends
what that Collector forwards (OTLP/HTTP, gzip, client.address on the resource) to a real
`vitalsight serve` running enrich, asserting the country lands and the IP does not.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.otlp_samples import vitals_request
from tests.receivers.test_otlp_http import PROTOBUF, marker, post
from tests.serve_process import ServeProcess
from vitalsight.processors.otlp_records import set_str

SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "otel-collector.yaml"


def test_every_signal_goes_through_client_address_to_vitalsight() -> None:
    config: dict[str, Any] = yaml.safe_load(SNIPPET.read_text(encoding="utf-8"))
    http = config["receivers"]["otlp"]["protocols"]["http"]
    assert http["include_metadata"] is True
    assert "X-Vitalsight-Key" in http["cors"]["allowed_headers"]
    copy = config["processors"]["resource/client_address"]["attributes"][0]
    assert copy == {"key": "client.address", "from_context": "client.address", "action": "upsert"}
    exporter = config["exporters"]["otlphttp/vitalsight"]
    assert exporter["endpoint"].endswith(":4318") and exporter["compression"] == "gzip"
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces", "logs", "metrics"}
    for pipeline in pipelines.values():
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["processors"][0] == "resource/client_address"
        assert pipeline["exporters"] == ["otlphttp/vitalsight"]


@pytest.fixture
def enriching_server(tmp_path: Path) -> Iterator[ServeProcess]:
    config = tmp_path / "vitalsight.yaml"
    config.write_text("pipeline: [enrich, scrub]\n", encoding="utf-8")
    process = ServeProcess(tmp_path / "data", ["--config", str(config)]).start()
    yield process
    process.stop()


def test_what_the_collector_forwards_lands_with_country_and_without_ip(
    enriching_server: ServeProcess,
) -> None:
    mark = marker()
    request = vitals_request(mark, 1)
    resource = request.resource_logs[0].resource.attributes
    set_str(resource, "client.address", "193.99.144.80")  # a long-held German network
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    del record.attributes[:]  # bare, as the official SDK sends: no country, no device
    set_str(record.attributes, "browser.web_vital.name", "LCP")
    set_str(record.attributes, "browser.web_vital.value", "1234")
    set_str(record.attributes, "browser.web_vital.id", f"{mark}-0")
    body = gzip.compress(request.SerializeToString())
    status, _, _ = post(
        enriching_server, "/v1/logs", body, PROTOBUF, **{"Content-Encoding": "gzip"}
    )
    assert status == 200
    where = f"metric_id = '{mark}-0'"
    assert enriching_server.wait_for_count("rum_vitals", 1, where=where) == 1
    assert enriching_server.rows(f"SELECT country FROM rum_vitals WHERE {where}") == [("DE",)]
    raw = enriching_server.rows(
        "SELECT count() FROM otel_logs WHERE has(mapValues(ResourceAttributes), "
        "'193.99.144.80') OR mapContains(ResourceAttributes, 'client.address')"
    )
    assert raw == [(0,)]
