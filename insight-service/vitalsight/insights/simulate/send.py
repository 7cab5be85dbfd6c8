"""Posting a scenario's traffic to `vitalsight serve`: OTLP/HTTP protobuf, large gzip batches.

Generation (CPU) and posting (waiting on the receiver) overlap: one thread posts while the
caller generates the next batch. 503 answers are retried after `Retry-After` by the demo's
`Poster`, as the OTLP/HTTP specification asks.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from vitalsight.insights.simulate.scenario import Scenario
from vitalsight.insights.simulate.traffic import generate
from vitalsight.service.demo import event_count
from vitalsight.service.demo_send import DemoSendError, Poster, encode_request

DEFAULT_MAX_RETRIES = 60  # a busy receiver sheds load for a while; keep waiting
_QUEUE_DEPTH = 4


@dataclass
class SimulationSummary:
    requests: int = 0
    log_records: int = 0
    spans: int = 0
    bytes_sent: int = 0
    retries: int = 0
    elapsed_s: float = 0.0

    @property
    def events(self) -> int:
        return self.log_records + self.spans

    def describe(self) -> str:
        return (
            f"sent {self.events:,} events ({self.log_records:,} log records, {self.spans:,} "
            f"spans) in {self.requests:,} requests, {self.bytes_sent / 1e6:.1f} MB gzip, "
            f"in {self.elapsed_s:.1f} s; {self.retries} retries"
        )


def send_scenario(
    scenario: Scenario,
    otlp_url: str,
    *,
    end: datetime,
    api_key: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> SimulationSummary:
    """Generate the scenario's traffic ending at `end` and post it; raises DemoSendError."""
    summary = SimulationSummary()
    started = time.monotonic()
    bodies: queue.Queue[tuple[str, bytes] | None] = queue.Queue(_QUEUE_DEPTH)
    failure: list[DemoSendError] = []

    def post_all() -> None:
        with Poster(otlp_url, api_key=api_key, timeout_s=60.0) as poster:
            while (item := bodies.get()) is not None:
                if failure:
                    continue  # drain so the producer never blocks
                try:
                    _, retries = poster.post(*item, max_retries=max_retries)
                except DemoSendError as exc:
                    failure.append(exc)
                    continue
                summary.retries += retries

    poster_thread = threading.Thread(target=post_all, name="simulate-post", daemon=True)
    poster_thread.start()
    try:
        for request in generate(scenario, end):
            if failure:
                break
            path, body = encode_request(request)
            bodies.put((path, body))
            summary.requests += 1
            summary.bytes_sent += len(body)
            if isinstance(request, ExportLogsServiceRequest):
                summary.log_records += event_count(request)
            else:
                summary.spans += event_count(request)
    finally:
        bodies.put(None)
        poster_thread.join()
    if failure:
        raise failure[0]
    summary.elapsed_s = time.monotonic() - started
    return summary
