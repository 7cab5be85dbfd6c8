"""Processor micro-benchmark: the processor pipeline alone on realistic decoded requests.

Same demo traffic as `bench/ingest.py` (serialized once, decoded fresh for every round
because processors edit requests in place). Each round runs the configured pipeline in
order as the server does (`run_processors`: logs and traces are read once into a
`RequestView` that every processor shares), timing that read ("request view") and every
processor separately, and, for the same decoded bytes, the server's per-event Python work
without processors (decode + encode to columns). With processors the encoding reads what
the shared view read (`walked_attributes`), as the pipeline does. Prints µs/event per step
(median of rounds) and the ratio decode + encode over decode + processors + encode: what
the processors leave of the Python work's throughput, measured in one run.

    .venv/bin/python bench/processors.py                       # bench/processors.yaml
    .venv/bin/python bench/processors.py --rounds 9 --profile  # cProfile of the processors
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vitalsight.exporters.encode import encode_request
from vitalsight.processors.base import Processor
from vitalsight.processors.registry import build_processors
from vitalsight.processors.request_view import RequestView
from vitalsight.receivers.signals import LOGS, TRACES, Signal
from vitalsight.service.demo import event_count, generate_demo

DEFAULT_CONFIG = Path(__file__).with_name("processors.yaml")
Payload = tuple[Signal, type[Any], bytes]


def build_payloads(*, sessions: int, sessions_per_request: int, seed: int) -> list[Payload]:
    payloads: list[Payload] = []
    for request in generate_demo(
        seed=seed,
        minutes=max(1, sessions // 50),
        sessions_per_minute=50,
        sessions_per_request=sessions_per_request,
    ):
        if isinstance(request, ExportLogsServiceRequest):
            payloads.append((LOGS, ExportLogsServiceRequest, request.SerializeToString()))
        else:
            payloads.append((TRACES, ExportTraceServiceRequest, request.SerializeToString()))
    return payloads


def decode(payloads: list[Payload]) -> list[tuple[Signal, Any]]:
    return [(signal, kind.FromString(raw)) for signal, kind, raw in payloads]


def timed(action: Callable[[], object]) -> float:
    # CPU time of this process: other jobs on a shared machine do not count.
    start = time.process_time()
    action()
    return time.process_time() - start


VIEW = "request view"
ENCODE = "encode from the view"


def run_processor(processor: Processor, requests: list[tuple[Signal, Any]]) -> None:
    """As the pipeline runs it: on the shared view when it has one, else on the request."""
    process_view = getattr(processor, "process_view", None)
    for signal, request in requests:
        if process_view is not None and isinstance(request, RequestView):
            process_view(request)
        else:
            processor.process(
                signal, request.request if isinstance(request, RequestView) else request
            )


def read_views(requests: list[tuple[Signal, Any]]) -> list[tuple[Signal, Any]]:
    return [
        (signal, RequestView(signal, request) if RequestView.supports(signal) else request)
        for signal, request in requests
    ]


def one_round(
    payloads: list[Payload], named: list[tuple[str, Processor]]
) -> tuple[float, float, dict[str, float]]:
    """(decode + encode s, decode + processors + encode s, per-step s) of one pass."""
    baseline = timed(lambda: [encode_request(r) for _, r in decode(payloads)])
    start = time.process_time()
    requests = decode(payloads)
    per: dict[str, float] = {}
    views: list[tuple[Signal, Any]] = []
    per[VIEW] = timed(lambda: views.extend(read_views(requests)))
    for name, processor in named:
        per[name] = timed(partial(run_processor, processor, views))
    per[ENCODE] = timed(lambda: [encode_walked(request) for _, request in views])
    return baseline, time.process_time() - start, per


def encode_walked(request: Any) -> object:
    """As the pipeline encodes: from what the shared view read, when there is one."""
    if isinstance(request, RequestView):
        return encode_request(request.request, walked=request.walked_attributes())
    return encode_request(request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--sessions-per-request", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one extra round")
    args = parser.parse_args()

    config = yaml.safe_load(args.config.read_text("utf-8"))
    order = list(config.get("pipeline") or [])
    named = list(zip(order, build_processors(order, config.get("processors") or {}), strict=True))
    payloads = build_payloads(
        sessions=args.sessions, sessions_per_request=args.sessions_per_request, seed=args.seed
    )
    events = sum(event_count(r) for _, r in decode(payloads))
    one_round(payloads, named)  # warm the caches, as a running server's are

    rounds = [one_round(payloads, named) for _ in range(args.rounds)]
    base = statistics.median(r[0] for r in rounds)
    full = statistics.median(r[1] for r in rounds)
    print(f"{events:,} events in {len(payloads)} requests, {args.rounds} rounds (medians)")
    print(f"{'decode + encode':<28}{base / events * 1e6:8.2f} µs/event")
    steps = [VIEW, *order]
    for name in steps:
        spent = statistics.median(r[2][name] for r in rounds)
        print(f"  {name:<26}{spent / events * 1e6:8.2f} µs/event")
    processors = sum(statistics.median(r[2][n] for r in rounds) for n in steps)
    print(f"{'all processors':<28}{processors / events * 1e6:8.2f} µs/event")
    encode = statistics.median(r[2][ENCODE] for r in rounds)
    print(f"{'then ' + ENCODE:<28}{encode / events * 1e6:8.2f} µs/event")
    print(f"throughput with / without processors: {base / full:.0%} (decode+encode work only)")

    if args.profile:
        requests = decode(payloads)
        profiler = cProfile.Profile()
        profiler.enable()
        views = read_views(requests)
        for _, processor in named:
            run_processor(processor, views)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
