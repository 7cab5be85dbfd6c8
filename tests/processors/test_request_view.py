"""The request view the pipeline shares between processors: shapes stay true through every
edit, processors sharing one view do exactly what they do one by one, and scrub does not
trust a shape that no longer matches its record."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from vitalsight.exporters.encode import encode_request
from vitalsight.processors import scrub
from vitalsight.processors.pipeline import run_processors, walk_processors
from vitalsight.processors.registry import build_processors
from vitalsight.processors.request_view import RequestView, shape_for
from vitalsight.receivers.signals import LOGS, TRACES, Signal
from vitalsight.service.demo import generate_demo

PII = yaml.safe_load(
    (Path(__file__).parent / "scrub" / "pii_corpus.yaml").read_text(encoding="utf-8")
)
START_NS = 1_796_000_000_000_000_000


def demo(sessions_per_request: int = 10) -> list[tuple[Signal, bytes]]:
    """Demo traffic with secrets, URLs, IPs and odd values planted in some records."""
    secrets = [secret["text"] for secret in PII["secrets"]]
    out = []
    for number, request in enumerate(
        generate_demo(
            seed=5,
            minutes=1,
            sessions_per_minute=40,
            sessions_per_request=sessions_per_request,
            start_ns=START_NS,
        )
    ):
        signal = LOGS if isinstance(request, ExportLogsServiceRequest) else TRACES
        for index, (_, record) in enumerate(records(signal, request)):
            kind = (number + index) % 9
            if kind == 0:
                record.attributes.add(
                    key="app.note", value=AnyValue(string_value=secrets[index % 7])
                )
            elif kind == 1:
                record.attributes.add(
                    key="client.address", value=AnyValue(string_value="81.2.69.160")
                )
            elif kind == 2:
                record.attributes.add(key="order.card", value=AnyValue(int_value=4111111111111111))
            elif kind == 3:
                record.attributes.add(key="session.id", value=AnyValue(string_value="repeated"))
            elif kind == 4:
                keep = [kv for kv in record.attributes if kv.key != "browser.page.route"]
                del record.attributes[:]
                record.attributes.extend(keep)
            elif kind == 5:
                record.attributes.add(key="user.password", value=AnyValue(int_value=7))
        out.append((signal, request.SerializeToString()))
    return out


def records(signal: Signal, request: Any) -> list[tuple[Any, Any]]:
    if signal is LOGS:
        return [
            (rl.resource, r)
            for rl in request.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]
    return [
        (rs.resource, s) for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
    ]


def decode(signal: Signal, raw: bytes) -> Any:
    kind = ExportLogsServiceRequest if signal is LOGS else ExportTraceServiceRequest
    return kind.FromString(raw)


def keys(attributes: Any) -> tuple[str, ...]:
    return tuple(kv.key for kv in attributes)


def test_identical_key_lists_share_one_shape() -> None:
    assert shape_for(("a", "b")) is shape_for(("a", "b"))
    assert shape_for(("a", "b")) is not shape_for(("b", "a"))


def test_edits_through_the_view_keep_every_shape_true() -> None:
    signal, raw = demo()[0]
    view = RequestView(signal, decode(signal, raw))
    resource = view.resources[0]
    scope = resource.scopes[0]
    scope.append_str(0, "added", "x")
    scope.set_str(0, "added", "y")
    scope.set_str(1, "session.id", "other")
    scope.delete_attributes(2, [0, 2])
    resource.append_str("added", "z")
    resource.delete_attributes([1])
    scope.delete([3])
    for resource in view.resources:
        assert resource.shape.keys == keys(resource.resource.attributes)
        for scope in resource.scopes:
            assert len(scope.records) == len(scope.shapes)
            for record, shape in zip(scope.records, scope.shapes, strict=True):
                assert shape.keys == keys(record.attributes)
    first = view.resources[0].scopes[0].records[0]
    assert [kv.value.string_value for kv in first.attributes if kv.key == "added"] == ["y"]


def fresh_processors() -> list[Any]:
    order = ["enrich", "scrub", "dedup", "errors", "sample"]
    return build_processors(order, {"sample": {"rate": 0.5}, "dedup": {"max_entries": 100}})


def counters(processors: list[Any]) -> list[Any]:
    return [getattr(p, "counters", lambda: None)() for p in processors]


def test_processors_sharing_one_view_do_what_they_do_one_by_one() -> None:
    payloads = demo() * 2  # the second pass is all replays: dedup drops them
    shared, alone = fresh_processors(), fresh_processors()
    for signal, raw in payloads:
        together = run_processors(shared, signal, decode(signal, raw))
        request = decode(signal, raw)
        for processor in alone:
            request = processor.process(signal, request)
        assert together.SerializeToString(deterministic=True) == request.SerializeToString(
            deterministic=True
        )
    assert counters(shared) == counters(alone)
    assert shared[1].stats.redactions == alone[1].stats.redactions
    assert sum(shared[1].stats.redactions.values()) > 0


def test_the_exporter_encodes_from_the_view_what_the_request_holds() -> None:
    """What the processors read (and scrubbed, added, deleted) is encoded, not a stale copy:
    encoding from the view's texts equals encoding the request itself."""
    processors = fresh_processors()
    walked_requests = 0
    for signal, raw in demo() * 2:
        request, view = walk_processors(processors, signal, decode(signal, raw))
        assert view is not None
        walked = view.walked_attributes()
        assert len(walked.records) == len(records(signal, request))
        from_view = encode_request(request, walked=walked)
        assert from_view == encode_request(request)
        walked_requests += 1
    assert walked_requests > 2
    assert sum(processors[1].stats.redactions.values()) > 0  # scrub changed values


def test_scrub_scans_attributes_added_behind_the_views_back() -> None:
    signal, raw = demo()[0]
    request = decode(signal, raw)
    view = RequestView(signal, request)
    record = view.resources[0].scopes[0].records[0]
    # Not through the view: the shape read for this record misses the new attribute.
    record.attributes.append(
        KeyValue(key="app.note", value=AnyValue(string_value="mail jane.doe@example.com"))
    )
    processor = scrub.build({})
    processor.process_view(view)
    assert b"jane.doe@example.com" not in request.SerializeToString()
    # The exporter then reads that record from the request, not from the view's texts.
    assert encode_request(request, walked=view.walked_attributes()) == encode_request(request)
    assert processor.stats.redactions["email"] >= 1
    assert Counter(processor.stats.dropped) == Counter()
