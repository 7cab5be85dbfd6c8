"""The sample processor on real OTLP requests: rates, agreement between instances, tail
keeps, overrides, boosts, adaptive lowering and the recorded `vitalsight.sample_rate`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.otlp_samples import RESOURCE
from vitalsight.processors.otlp_records import get_str, log_records, spans
from vitalsight.processors.sample import SampleProcessor, build
from vitalsight.processors.sample.config import SampleConfig
from vitalsight.receivers.signals import LOGS, METRICS, TRACES
from vitalsight.service.otlp_build import (
    AttributeValue,
    client_span,
    event,
    logs_request,
    traces_request,
)

T0 = 1_700_000_000_000_000_000
RATE = "vitalsight.sample_rate"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def page_view(
    session: str, route: str = "/results", extra: Mapping[str, AttributeValue] | None = None
) -> LogRecord:
    attributes = {"session.id": session, "browser.page.route": route, **(extra or {})}
    return event("browser.page_view", T0, attributes)


def sessions_request(
    sessions: Sequence[str], *, route: str = "/results", app: str = "shop-web"
) -> ExportLogsServiceRequest:
    return logs_request({**RESOURCE, "service.name": app}, [page_view(s, route) for s in sessions])


def kept(request: Any) -> list[tuple[str | None, str | None]]:
    """(session id, sample rate) of every log record left in the request."""
    return [
        (get_str(r.attributes, "session.id"), get_str(r.attributes, RATE))
        for _, r in log_records(request)
    ]


def processor(config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Any:
    if clock is None:
        return build(config)
    return SampleProcessor(SampleConfig.model_validate(config or {}), clock=clock)


SESSIONS = [f"session-{i:06d}" for i in range(100_000)]


def test_default_rate_is_ten_percent_of_sessions_within_tolerance() -> None:
    result = processor().process(LOGS, sessions_request(SESSIONS))
    rows = kept(result)
    assert abs(len(rows) / len(SESSIONS) - 0.1) < 0.006
    assert {rate for _, rate in rows} == {"0.1"}


def test_two_instances_take_identical_decisions() -> None:
    sessions = SESSIONS[:20_000]
    first = {s for s, _ in kept(processor().process(LOGS, sessions_request(sessions)))}
    # a second instance sees the sessions in another order and split over requests
    second_instance = processor()
    second: set[str | None] = set()
    for chunk in (sessions[::-1][:7_000], sessions[::-1][7_000:]):
        second |= {s for s, _ in kept(second_instance.process(LOGS, sessions_request(chunk)))}
    assert first == second
    assert 1_500 < len(first) < 2_500


def test_another_process_takes_identical_decisions() -> None:
    sessions = SESSIONS[:2_000]
    here = [s for s in sessions if processor().keeps(s, 0.1)]
    code = (
        "import sys; from vitalsight.processors.sample import build\n"
        "p = build(None)\n"
        "print('\\n'.join(s for s in sys.stdin.read().split() if p.keeps(s, 0.1)))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        input="\n".join(sessions),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert here == there and 100 < len(here) < 300


def test_hash_seed_selects_another_set_of_sessions() -> None:
    sessions = SESSIONS[:5_000]
    plain = {s for s, _ in kept(processor().process(LOGS, sessions_request(sessions)))}
    seeded = {
        s for s, _ in kept(processor({"hash_seed": "x"}).process(LOGS, sessions_request(sessions)))
    }
    assert plain != seeded
    assert abs(len(seeded) - len(plain)) < 150


def test_lower_rate_keeps_a_subset_of_a_higher_rate() -> None:
    p = processor()
    sessions = SESSIONS[:5_000]
    at_5 = {s for s in sessions if p.keeps(s, 0.05)}
    at_20 = {s for s in sessions if p.keeps(s, 0.2)}
    assert at_5 < at_20


def unsampled(count: int, rate: float = 0.1) -> list[str]:
    p = processor()
    return [s for s in SESSIONS if not p.keeps(s, rate)][:count]


def test_error_records_are_always_kept_at_rate_one() -> None:
    sessions = unsampled(50)
    records = [
        event("exception", T0, {"session.id": s, "exception.type": "TypeError"}) for s in sessions
    ]
    # an older sender: no event name, but exception attributes (the rum_errors rule)
    records.append(LogRecord(attributes=page_view(sessions[0]).attributes))
    records[-1].attributes.add(key="exception.type").value.string_value = "Error"
    p = processor({"error_sessions": 0})
    result = p.process(LOGS, logs_request(RESOURCE, records))
    assert kept(result) == [(s, "1") for s in sessions] + [(sessions[0], "1")]
    assert p.stats.kept_error == 51 and p.stats.dropped == 0


def span(session: str, *, status: int | None = 200, **extra: Any) -> Span:
    attributes: dict[str, AttributeValue] = {"session.id": session, "http.request.method": "GET"}
    if status is not None:
        attributes["http.response.status_code"] = status
    return client_span(
        trace_id=session.encode().rjust(16, b"\0")[-16:],
        span_id=b"\1" * 8,
        name="GET",
        start_ns=T0,
        duration_ns=1_000_000,
        attributes=attributes,
        **extra,
    )


def test_error_spans_are_always_kept_at_rate_one() -> None:
    s1, s2, s3, s4 = unsampled(4)
    error_status = span(s1)
    error_status.status.code = Status.STATUS_CODE_ERROR
    server_error = span(s2, status=503)
    with_exception = span(s3)
    with_exception.events.add(name="exception", time_unix_nano=T0)
    ok = span(s4)
    request = traces_request(RESOURCE, [error_status, server_error, with_exception, ok])
    result = processor({"error_sessions": 0}).process(TRACES, request)
    left = [
        (get_str(s.attributes, "session.id"), get_str(s.attributes, RATE)) for _, s in spans(result)
    ]
    assert left == [(s1, "1"), (s2, "1"), (s3, "1")]


def vital(session: str, value: float, rating: str | None) -> LogRecord:
    attributes: dict[str, AttributeValue] = {
        "session.id": session,
        "browser.web_vital.name": "LCP",
        "browser.web_vital.value": value,
    }
    if rating is not None:
        attributes["browser.web_vital.rating"] = rating
    return event("browser.web_vital", T0, attributes)


def test_poor_vitals_are_kept_at_rate_one_others_sampled() -> None:
    s1, s2, s3, s4 = unsampled(4)
    records = [
        vital(s1, 5200.0, "poor"),
        vital(s2, 5200.0, None),  # no rating: above the web.dev poor threshold (4000 ms)
        vital(s3, 3000.0, "needs-improvement"),
        vital(s4, 3900.0, None),
    ]
    result = processor().process(LOGS, logs_request(RESOURCE, records))
    assert kept(result) == [(s1, "1"), (s2, "1")]


def test_tail_keeps_can_be_turned_off() -> None:
    (session,) = unsampled(1)
    records = [
        vital(session, 5200.0, "poor"),
        event("exception", T0, {"session.id": session, "exception.type": "E"}),
    ]
    config = {"keep_errors": False, "keep_poor_vitals": False, "error_sessions": 0}
    assert kept(processor(config).process(LOGS, logs_request(RESOURCE, records))) == []


def test_a_session_with_an_error_is_kept_from_then_on() -> None:
    errored, other = unsampled(2)
    p = processor()
    first = logs_request(
        RESOURCE,
        [page_view(errored), event("exception", T0, {"session.id": errored})],
    )
    # the page view before the error in the same request is kept too
    assert kept(p.process(LOGS, first)) == [(errored, "1"), (errored, "1")]
    later = p.process(LOGS, sessions_request([errored, other]))
    assert kept(later) == [(errored, "1")]
    assert p.stats.kept_error_session == 2


def test_error_sessions_are_a_bounded_lru() -> None:
    sessions = unsampled(3)
    p = processor({"error_sessions": 2})
    for s in sessions:
        p.process(LOGS, logs_request(RESOURCE, [event("exception", T0, {"session.id": s})]))
    # the first one was evicted: its records are sampled (dropped) again
    assert kept(p.process(LOGS, sessions_request(sessions))) == [
        (sessions[1], "1"),
        (sessions[2], "1"),
    ]


def test_precedence_app_route_then_route_then_app_then_default() -> None:
    p = processor(
        {
            "rate": 0.1,
            "apps": {"shop-web": {"rate": 0.3, "routes": {"/checkout": 1.0}}},
            "routes": {"/checkout": 0.5, "/health": 0.001},
        }
    )
    assert p.rate_for("shop-web", "/checkout") == 1.0
    assert p.rate_for("docs", "/checkout") == 0.5
    assert p.rate_for("shop-web", "/health") == 0.001
    assert p.rate_for("shop-web", "/results") == 0.3
    assert p.rate_for("docs", "/results") == 0.1


def test_overrides_apply_to_records() -> None:
    config = {"apps": {"shop-web": {"rate": 0.5, "routes": {"/checkout": 1.0}}}}
    sessions = SESSIONS[:20_000]
    p = processor(config)
    checkout = kept(p.process(LOGS, sessions_request(sessions[:10_000], route="/checkout")))
    results = kept(p.process(LOGS, sessions_request(sessions[10_000:], route="/results")))
    other_app = kept(p.process(LOGS, sessions_request(sessions[:10_000], app="docs")))
    assert len(checkout) == 10_000 and {r for _, r in checkout} == {"1"}
    assert abs(len(results) - 5_000) < 300 and {r for _, r in results} == {"0.5"}
    assert abs(len(other_app) - 1_000) < 150 and {r for _, r in other_app} == {"0.1"}


def test_boost_raises_a_route_and_release_until_it_expires() -> None:
    clock = Clock()
    p = processor(None, clock)
    p.boost("shop-web", route="/results", release="1.2.9", rate=1.0, until=clock.now + 600)
    assert p.rate_for("shop-web", "/results", "1.2.9") == 1.0
    assert p.rate_for("shop-web", "/results", "1.2.8") == 0.1  # other release
    assert p.rate_for("shop-web", "/cart", "1.2.9") == 0.1  # other route
    assert p.rate_for("docs", "/results", "1.2.9") == 0.1  # other app
    sessions = SESSIONS[:1_000]
    boosted = kept(p.process(LOGS, sessions_request(sessions)))  # RESOURCE is release 1.2.9
    assert len(boosted) == 1_000 and {r for _, r in boosted} == {"1"}
    clock.now += 601
    assert p.active_boosts() == ()
    assert abs(len(kept(p.process(LOGS, sessions_request(sessions)))) - 100) < 40


def test_boost_of_a_whole_app_and_the_highest_boost_wins() -> None:
    clock = Clock()
    p = processor(None, clock)
    p.boost("shop-web", rate=0.4, until=clock.now + 60)
    p.boost("shop-web", route="/results", rate=0.8, until=clock.now + 30)
    assert p.rate_for("shop-web", "/results", "any") == 0.8
    assert p.rate_for("shop-web", "/cart", "any") == 0.4
    clock.now += 45
    assert p.rate_for("shop-web", "/results", "any") == 0.4
    p.clear_boosts()
    assert p.rate_for("shop-web", "/results", "any") == 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 0.0}, "boost: rate must be in (0, 1], got 0.0"),
        ({"rate": 1.5}, "boost: rate must be in (0, 1], got 1.5"),
    ],
)
def test_boost_refuses_bad_rates(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("]", r"\]")):
        processor().boost("shop-web", until=0, **kwargs)


def test_adaptive_lowers_busy_routes_to_the_target_with_a_floor() -> None:
    clock = Clock()
    config = {
        "rate": 1.0,
        "adaptive": {
            "enabled": True,
            "target_events_per_second": 10,
            "floor": 0.05,
            "window_seconds": 10,
        },
    }
    p = processor(config, clock)
    p.process(LOGS, sessions_request(SESSIONS[:1_000], route="/busy"))  # 100 events/s
    p.process(LOGS, sessions_request(SESSIONS[:50], route="/quiet"))  # 5 events/s
    p.process(LOGS, sessions_request(SESSIONS[:10_000], route="/flood"))  # 1000 events/s
    assert p.rate_for("shop-web", "/busy") == pytest.approx(0.1)
    assert p.rate_for("shop-web", "/quiet") == 1.0
    assert p.rate_for("shop-web", "/flood") == 0.05  # floor, not 0.01
    # the next request on /busy is sampled at the lowered rate and says so
    rows = kept(p.process(LOGS, sessions_request(SESSIONS[20_000:21_000], route="/busy")))
    assert {r for _, r in rows} == {"0.05"}  # 2000 events in 10 s: 10/200
    # once the window has passed, the route is back at its configured rate
    clock.now += 11
    assert p.rate_for("shop-web", "/busy") == 1.0


def test_adaptive_never_raises_a_configured_rate_and_a_boost_overrides_it() -> None:
    clock = Clock()
    p = processor({"rate": 0.2, "adaptive": {"enabled": True, "window_seconds": 10}}, clock)
    p.process(LOGS, sessions_request(SESSIONS[:10], route="/quiet"))
    assert p.rate_for("shop-web", "/quiet") == 0.2
    p.process(LOGS, sessions_request(SESSIONS[:50_000], route="/busy"))  # 5000/s, target 50
    assert p.rate_for("shop-web", "/busy") == 0.01
    p.boost("shop-web", route="/busy", rate=0.5, until=clock.now + 60)
    assert p.rate_for("shop-web", "/busy") == 0.5


def test_sample_rate_multiplies_a_rate_the_sender_applied() -> None:
    sessions = SESSIONS[:2_000]
    on_records = logs_request(RESOURCE, [page_view(s, extra={RATE: 0.5}) for s in sessions])
    on_resource = logs_request({**RESOURCE, RATE: "0.5"}, [page_view(s) for s in sessions])
    from_record = kept(processor().process(LOGS, on_records))
    from_resource = kept(processor().process(LOGS, on_resource))
    assert from_record and {r for _, r in from_record} == {"0.05"}
    assert from_resource == from_record


def test_the_senders_rate_attribute_is_replaced_in_place_and_the_resources_kept() -> None:
    record = page_view(SESSIONS[0], extra={RATE: 1.0, "browser.page.view_id": "v1"})
    request = logs_request({**RESOURCE, RATE: "0.5"}, [record])
    result = processor({"rate": 1.0}).process(LOGS, request)
    ((resource, kept_record),) = log_records(result)
    rates = [kv.value for kv in kept_record.attributes if kv.key == RATE]
    assert len(rates) == 1 and rates[0].WhichOneof("value") == "string_value"
    assert rates[0].string_value == "1"  # the record's own 1.0 wins over the resource's 0.5
    assert [kv.key for kv in kept_record.attributes][-1] == "browser.page.view_id"
    assert get_str(resource.attributes, RATE) == "0.5"


def test_records_without_a_session_are_sampled_by_trace_id_else_kept() -> None:
    with_trace = [
        LogRecord(time_unix_nano=T0, trace_id=i.to_bytes(16, "big")) for i in range(1, 2_001)
    ]
    no_trace = LogRecord(time_unix_nano=T0)
    request = logs_request(RESOURCE, [*with_trace, no_trace])
    p = processor()
    result = p.process(LOGS, request)
    rates = [get_str(r.attributes, RATE) for _, r in log_records(result)]
    assert rates[-1] == "1" and p.stats.kept_unkeyed == 1
    assert 120 < len(rates) - 1 < 280 and set(rates[:-1]) == {"0.1"}
    everything = processor({"without_session": "keep"}).process(
        LOGS, logs_request(RESOURCE, [*with_trace, no_trace])
    )
    assert len(list(log_records(everything))) == 2_001


def test_empty_containers_are_removed_and_metrics_pass_through() -> None:
    (session,) = unsampled(1)
    result = processor().process(LOGS, sessions_request([session]))
    assert len(result.resource_logs) == 0
    metrics = object()
    assert processor().process(METRICS, metrics) is metrics
    assert isinstance(
        processor().process(TRACES, ExportTraceServiceRequest()), ExportTraceServiceRequest
    )
