from __future__ import annotations

import time
from pathlib import Path

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.otlp_samples import CONTEXT, RESOURCE, fetch_spans_request, vitals_request
from tests.processors.errors.conftest import Bundle
from vitalsight.processors import otlp_records
from vitalsight.processors.errors import build, upload_sourcemaps
from vitalsight.receivers.signals import LOGS, METRICS, TRACES
from vitalsight.service.otlp_build import event, logs_request

# Ten frames at the bundle's real call sites (the throw, and the calls in checkout and run).
CHROME_FRAMES = "\n".join(
    f"    at {name} (https://cdn.shop.example/assets/main.js:1:{column})"
    for name, column in [("i", 561), ("c", 677), ("g", 732)] * 3 + [("g", 732)]
)


def test_other_records_and_signals_are_untouched() -> None:
    processor = build({})
    vitals = vitals_request("m", 2)
    before = vitals.SerializeToString()
    assert processor.process(LOGS, vitals).SerializeToString() == before
    spans = fetch_spans_request("m")
    before = spans.SerializeToString()
    assert processor.process(TRACES, spans).SerializeToString() == before
    assert processor.process(METRICS, "anything") == "anything"
    assert processor.errors_seen == 0


def test_record_without_event_name_but_exception_type_and_body_message() -> None:
    record = event("", time.time_ns(), {"exception.type": "Error"})
    record.body.CopyFrom(AnyValue(string_value="Uncaught Error: order 42 failed"))
    other = event("", time.time_ns(), {"exception.type": "Error"})
    other.body.CopyFrom(AnyValue(string_value="Uncaught Error: order 7 failed"))
    request = logs_request(RESOURCE, [record, other])
    build({}).process(LOGS, request)
    fingerprints = [
        otlp_records.get_str(r.attributes, "vitalsight.error.fingerprint")
        for _, r in otlp_records.log_records(request)
    ]
    assert fingerprints[0] is not None
    assert fingerprints[0] == fingerprints[1]
    assert len(fingerprints[0]) == 16


def test_unparseable_stack_still_gets_a_fingerprint_and_no_top_frame() -> None:
    attributes = {"exception.type": "Error", "exception.message": "m", "exception.stacktrace": "?"}
    request = logs_request(RESOURCE, [event("exception", time.time_ns(), attributes)])
    build({}).process(LOGS, request)
    ((_, record),) = otlp_records.log_records(request)
    assert otlp_records.get_str(record.attributes, "vitalsight.error.fingerprint")
    assert otlp_records.get_str(record.attributes, "vitalsight.error.top_frame") is None


def test_a_thousand_errors_with_and_without_maps(bundle: Bundle, tmp_path: Path) -> None:
    """1,000 exception events with 10-frame stacks: no maps; maps with every stack new
    (its first line holds the message); maps with one stack repeated (an error storm).
    Every one is processed and every frame resolved (its cost is bench/processors.py's)."""
    upload_sourcemaps(tmp_path, "shop-web", "1.2.9", bundle.js.parent)
    maps = {"sourcemaps_dir": str(tmp_path)}
    for label, config, distinct in (
        ("no maps", {}, True),
        ("maps, distinct stacks", maps, True),
        ("maps, one stack repeated", maps, False),
    ):
        processor = build(config)
        records = [
            event(
                "exception",
                time.time_ns(),
                {
                    **CONTEXT,
                    "exception.type": "TypeError",
                    "exception.message": f"x {i}",
                    "exception.stacktrace": f"TypeError: x {i if distinct else 0}\n"
                    + CHROME_FRAMES,
                },
            )
            for i in range(1000)
        ]
        request = logs_request(RESOURCE, records)
        processor.process(LOGS, request)
        assert processor.errors_seen == 1000
        if config:
            assert processor.frames_resolved == 10_000, label
