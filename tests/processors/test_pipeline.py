"""All processors in one real `vitalsight serve`: configured from YAML, run in order, and
reporting what they did on /metrics."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.otlp_samples import CONTEXT, RESOURCE
from tests.receivers.test_otlp_http import PROTOBUF, marker, post
from tests.serve_process import ServeProcess
from vitalsight.service.otlp_build import event, logs_request

PIPELINE = """\
pipeline: [enrich, scrub, dedup, errors, sample]
processors:
  sample:
    rate: 1.0
"""


@pytest.fixture(scope="module")
def full_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    folder = tmp_path_factory.mktemp("pipeline")
    config = folder / "vitalsight.yaml"
    config.write_text(PIPELINE, encoding="utf-8")
    process = ServeProcess(folder / "data", ["--config", str(config)]).start()
    yield process
    process.stop()


def scrape(server: ServeProcess) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(server.http_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = re.compile(
        r'^vitalsight_processor_events_total\{outcome="([^"]+)",processor="([^"]+)"\} (\S+)$',
        re.MULTILINE,
    )
    return {(p, o): float(v) for o, p, v in pattern.findall(text)}


def test_records_pass_every_processor_and_are_counted(full_pipeline: ServeProcess) -> None:
    mark = marker()
    now = time.time_ns()
    records = [
        event(
            "exception",
            now,
            {
                **CONTEXT,
                "exception.type": "TypeError",
                "exception.message": f"{mark} failed for jane@example.com",
                "exception.stacktrace": "TypeError: x\n    at f (https://cdn.example/app.js:1:20)",
            },
        ),
        event(
            "browser.web_vital",
            now,
            {
                **CONTEXT,
                "browser.web_vital.name": "LCP",
                "browser.web_vital.value": 1200.0,
                "browser.web_vital.id": f"{mark}-lcp",
            },
        ),
    ]
    body = logs_request(RESOURCE, records).SerializeToString()
    assert post(full_pipeline, "/v1/logs", body, PROTOBUF)[0] == 200
    assert post(full_pipeline, "/v1/logs", body, PROTOBUF)[0] == 200  # a replay
    where = f"startsWith(message, '{mark}')"
    assert full_pipeline.wait_for_count("rum_errors", 1, where=where) == 1
    ((message, fingerprint),) = full_pipeline.rows(
        f"SELECT message, fingerprint FROM rum_errors WHERE {where}"
    )
    assert "jane@example.com" not in message  # scrub
    assert len(fingerprint) == 16  # the errors processor's
    assert full_pipeline.rows(
        f"SELECT sample_rate FROM rum_vitals WHERE metric_id = '{mark}-lcp'"
    ) == [(1.0,)]
    counts = scrape(full_pipeline)
    assert counts[("dedup", "dropped")] >= 2  # the replay of both records
    assert counts[("errors", "errors_seen")] >= 1
    assert counts[("sample", "seen")] >= 2
    # The receiver stamped the peer address for enrich, which dropped it before storage.
    assert counts[("enrich", "ip_attributes_dropped")] >= 2
    assert full_pipeline.rows(
        "SELECT count() FROM otel_logs WHERE mapContains(ResourceAttributes, 'client.address')"
    ) == [(0,)]
