"""End to end: a real esbuild bundle, a real V8 stack (Node), recorded Firefox and Safari
stacks of the same bundle, the map uploaded, OTLP exception events processed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.otlp_samples import CONTEXT, RESOURCE
from tests.processors.errors.conftest import Bundle, build_bundle
from vitalsight.processors import otlp_records
from vitalsight.processors.errors import build, upload_sourcemaps
from vitalsight.receivers.signals import LOGS, TRACES
from vitalsight.service.otlp_build import (
    client_span,
    event,
    key_values,
    logs_request,
    traces_request,
)

FIXTURES = Path(__file__).parent / "fixtures"
MESSAGE = "price missing for item sku-9 (cart of 2)"
APP, RELEASE = RESOURCE["service.name"], RESOURCE["service.version"]


def exception_logs(
    stack: str, message: str = MESSAGE, error_type: str = "TypeError"
) -> ExportLogsServiceRequest:
    attributes = {
        **CONTEXT,
        "exception.type": error_type,
        "exception.message": message,
        "exception.stacktrace": stack,
        "vitalsight.error.source": "error",
    }
    return logs_request(RESOURCE, [event("exception", time.time_ns(), attributes)])


def exception_span_event(stack: str) -> ExportTraceServiceRequest:
    span = client_span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name="click",
        start_ns=time.time_ns(),
        duration_ns=1_000_000,
        attributes=dict(CONTEXT),
    )
    span.events.append(
        Span.Event(
            time_unix_nano=time.time_ns(),
            name="exception",
            attributes=key_values(
                {
                    "exception.type": "TypeError",
                    "exception.message": MESSAGE,
                    "exception.stacktrace": stack,
                }
            ),
        )
    )
    return traces_request(RESOURCE, [span])


def attrs_of_log(request: object) -> dict[str, str]:
    ((_, record),) = otlp_records.log_records(request)
    return {kv.key: kv.value.string_value for kv in record.attributes}


def attrs_of_span_event(request: ExportTraceServiceRequest) -> dict[str, str]:
    ((_, span),) = otlp_records.spans(request)
    return {kv.key: kv.value.string_value for kv in span.events[0].attributes}


def store_with(bundle: Bundle, tmp_path: Path, *, with_minified: bool = True) -> Path:
    upload_dir = tmp_path / "upload"
    upload_dir.mkdir(parents=True)
    (upload_dir / bundle.map.name).write_bytes(bundle.map.read_bytes())
    if with_minified:
        (upload_dir / bundle.js.name).write_bytes(bundle.js.read_bytes())
    root = tmp_path / "sourcemaps"
    upload_sourcemaps(root, APP, RELEASE, upload_dir)
    return root


def test_v8_stack_from_node_is_symbolicated(bundle: Bundle, tmp_path: Path) -> None:
    assert "at i (https://cdn.shop.example/assets/main.js:1:" in bundle.v8_stack  # minified
    processor = build({"sourcemaps_dir": str(store_with(bundle, tmp_path))})
    request = processor.process(LOGS, exception_logs(bundle.v8_stack))

    attrs = attrs_of_log(request)
    assert attrs["exception.stacktrace"] == bundle.v8_stack  # kept as sent
    assert attrs["vitalsight.error.top_frame"] == "src/pricing.ts:8 computeTotal"
    resolved = attrs["vitalsight.error.stacktrace_resolved"].splitlines()
    assert resolved[0] == "    at computeTotal (src/pricing.ts:8:13)"
    assert resolved[1] == "    at checkout (src/cart.ts:9:17)"
    assert resolved[2] == "    at run (src/main.ts:5:10)"
    assert resolved[3] == "    at [eval]:4:12"  # no map: left as it was
    assert len(attrs["vitalsight.error.fingerprint"]) == 16
    assert processor.frames_resolved == 3


def test_firefox_and_safari_stacks_of_the_same_bundle(bundle: Bundle, tmp_path: Path) -> None:
    processor = build({"sourcemaps_dir": str(store_with(bundle, tmp_path))})
    v8 = attrs_of_log(processor.process(LOGS, exception_logs(bundle.v8_stack)))
    for name in ("firefox_stack.txt", "safari_stack.txt"):
        stack = (FIXTURES / name).read_text()
        attrs = attrs_of_span_event(processor.process(TRACES, exception_span_event(stack)))
        resolved = attrs["vitalsight.error.stacktrace_resolved"].splitlines()
        # Safari's columns point a little further right; the same original line.
        assert resolved[0].startswith("    at computeTotal (src/pricing.ts:8:"), name
        assert resolved[1:3] == [
            "    at checkout (src/cart.ts:9:17)",
            "    at run (src/main.ts:5:10)",
        ], name
        assert attrs["vitalsight.error.top_frame"] == "src/pricing.ts:8 computeTotal", name
        # Same error from three engines: one group.
        assert attrs["vitalsight.error.fingerprint"] == v8["vitalsight.error.fingerprint"], name


def test_map_without_minified_file_names_functions_from_call_sites(
    bundle: Bundle, tmp_path: Path
) -> None:
    root = store_with(bundle, tmp_path, with_minified=False)
    processor = build({"sourcemaps_dir": str(root)})
    attrs = attrs_of_log(processor.process(LOGS, exception_logs(bundle.v8_stack)))
    resolved = attrs["vitalsight.error.stacktrace_resolved"].splitlines()
    assert resolved[0] == "    at computeTotal (src/pricing.ts:8:13)"
    assert resolved[1] == "    at checkout (src/cart.ts:9:17)"
    # The outermost mapped frame's caller is outside the bundle: no name to borrow.
    assert resolved[2] == "    at src/main.ts:5:10"


def test_unknown_release_keeps_minified_frames(bundle: Bundle, tmp_path: Path) -> None:
    processor = build({"sourcemaps_dir": str(store_with(bundle, tmp_path))})
    request = exception_logs(bundle.v8_stack)
    otlp_records.set_str(request.resource_logs[0].resource.attributes, "service.version", "9.9.9")
    attrs = attrs_of_log(processor.process(LOGS, request))
    assert "vitalsight.error.stacktrace_resolved" not in attrs
    assert attrs["vitalsight.error.top_frame"] == "https://cdn.shop.example/assets/main.js:1 i"
    assert attrs["vitalsight.error.fingerprint"]


def test_rebuild_with_shifted_lines_and_new_names_keeps_the_fingerprint(
    bundle: Bundle, tmp_path: Path
) -> None:
    other = build_bundle(
        tmp_path / "build-b", extra_args=("--line-limit=80", "--entry-names=[name]-[hash]"), shift=3
    )
    # A different build really: other file name, other minified names, other positions.
    assert "main-" in other.url
    assert " at i (" not in other.v8_stack
    assert other.v8_stack.splitlines()[1] != bundle.v8_stack.splitlines()[1]

    fingerprints = []
    for index, built in enumerate((bundle, other)):
        processor = build({"sourcemaps_dir": str(store_with(built, tmp_path / f"s{index}"))})
        attrs = attrs_of_log(processor.process(LOGS, exception_logs(built.v8_stack)))
        assert attrs["vitalsight.error.top_frame"].startswith("src/pricing.ts:")
        fingerprints.append(attrs["vitalsight.error.fingerprint"])
    assert fingerprints[0] == fingerprints[1]
    assert attrs["vitalsight.error.top_frame"] == "src/pricing.ts:11 computeTotal"  # shifted

    # Without maps, the content hash and minified names are left out: still one group.
    bare = build({})
    unresolved = [
        attrs_of_log(bare.process(LOGS, exception_logs(b.v8_stack)))["vitalsight.error.fingerprint"]
        for b in (bundle, other)
    ]
    assert unresolved[0] == unresolved[1]


def test_different_errors_get_different_fingerprints(bundle: Bundle, tmp_path: Path) -> None:
    processor = build({"sourcemaps_dir": str(store_with(bundle, tmp_path))})

    def fingerprint_of(stack: str, message: str = MESSAGE, error_type: str = "TypeError") -> str:
        request = exception_logs(stack, message, error_type)
        return attrs_of_log(processor.process(LOGS, request))["vitalsight.error.fingerprint"]

    base = fingerprint_of(bundle.v8_stack)
    # Variable values fold: another sku and cart size is the same bug.
    assert fingerprint_of(bundle.v8_stack, "price missing for item sku-12 (cart of 7)") == base
    assert fingerprint_of(bundle.v8_stack, error_type="RangeError") != base
    assert fingerprint_of(bundle.v8_stack, "cart is empty") != base
    # Same message thrown from another function (checkout's own line).
    elsewhere = "\n".join(bundle.v8_stack.splitlines()[:1] + bundle.v8_stack.splitlines()[2:])
    assert fingerprint_of(elsewhere) != base
