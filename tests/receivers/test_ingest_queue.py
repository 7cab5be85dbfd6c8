"""The receivers' ingest queue on the real pipeline, writer and chDB store: it acknowledges
before the processors run, admits against one capacity shared with the writer, and processes
everything it acknowledged, also when closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.otlp_samples import vitals_request
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.exporter import ClickHouseExporter, ExportStatus
from vitalsight.exporters.schema import migrate
from vitalsight.exporters.writer import BatchWriter
from vitalsight.processors.pipeline import IngestPipeline
from vitalsight.receivers.ingest_queue import QUEUE_FULL_MESSAGE, IngestQueue
from vitalsight.receivers.signals import LOGS, Signal
from vitalsight.service.selfmetrics import SelfMetrics


class GateProcessor:
    """A processor that holds every request until the gate opens, and can fail once."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.fail_next = False
        self.seen = 0

    def process(self, signal: Signal, request: Any) -> Any:
        self.gate.wait()
        self.seen += 1
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("processor bug")
        return request


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    chdb = ChdbStore(tmp_path_factory.mktemp("ingest-queue"))
    migrate(chdb)
    yield chdb
    chdb.close()


class Stack:
    """Queue → pipeline (gate processor) → exporter → writer → chDB, as `serve` wires them."""

    def __init__(self, store: ChdbStore, capacity: int) -> None:
        self.metrics = SelfMetrics()
        self.writer = BatchWriter(store, queue_rows=capacity, flush_interval_s=0.05)
        self.exporter = ClickHouseExporter(self.writer, wait_for_room=True)
        self.processor = GateProcessor()
        pipeline = IngestPipeline(self.exporter, processors=[self.processor], metrics=self.metrics)
        self.queue = IngestQueue(
            pipeline, lambda: self.writer.queued_rows, capacity=capacity, metrics=self.metrics
        )

    def send(self, marker: str, count: int) -> ExportStatus:
        return self.queue.ingest(LOGS, vitals_request(marker, count), transport="test").status

    def close(self) -> None:
        self.processor.gate.set()
        self.queue.close()
        self.exporter.shutdown()

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def stack(store: ChdbStore) -> Iterator[Stack]:
    built = Stack(store, capacity=5)
    yield built
    built.close()


def stored(store: ChdbStore, marker: str) -> int:
    sql = (
        "SELECT count() FROM otel_logs "
        f"WHERE startsWith(LogAttributes['browser.web_vital.id'], '{marker}-')"
    )
    return int(store.rows(sql)[0][0])


def wait_until(condition: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


def test_acknowledges_before_the_processors_run(stack: Stack, store: ChdbStore) -> None:
    assert stack.send("early", 2) is ExportStatus.ACCEPTED
    assert stack.processor.seen == 0  # acknowledged while the processor is still held
    assert stack.metric("vitalsight_ingest_queue_items") == 2
    stack.processor.gate.set()
    assert wait_until(lambda: stored(store, "early") == 2)
    assert wait_until(lambda: stack.metric("vitalsight_ingest_queue_items") == 0)
    received = {"signal": "logs", "transport": "test"}
    assert stack.metric("vitalsight_received_items_total", **received) == 2


def test_admission_counts_the_queue_and_the_writer_against_one_capacity(
    stack: Stack, store: ChdbStore
) -> None:
    assert stack.send("admit-a", 3) is ExportStatus.ACCEPTED
    assert stack.send("admit-b", 3) is ExportStatus.QUEUE_FULL  # 3 + 3 > 5
    assert stack.send("admit-c", 2) is ExportStatus.ACCEPTED
    rejected = {"signal": "logs", "reason": "queue_full"}
    assert stack.metric("vitalsight_rejected_requests_total", **rejected) == 1
    stack.processor.gate.set()
    assert wait_until(lambda: stack.queue.queued_items == 0)
    # The rows now wait in the writer (flushed every 50 ms) and still count until written.
    assert wait_until(lambda: stored(store, "admit-c") == 2)
    assert stack.send("admit-d", 5) is ExportStatus.ACCEPTED
    stack.close()
    assert [stored(store, m) for m in ("admit-a", "admit-b", "admit-c", "admit-d")] == [3, 0, 2, 5]


def test_full_message_is_the_one_senders_see(stack: Stack) -> None:
    result = stack.queue.ingest(LOGS, vitals_request("big", 6), transport="test")
    assert (result.status, result.message) == (ExportStatus.QUEUE_FULL, QUEUE_FULL_MESSAGE)


def test_close_processes_everything_acknowledged(store: ChdbStore) -> None:
    stack = Stack(store, capacity=100)
    markers = [f"drain-{i}" for i in range(5)]
    for marker in markers:
        assert stack.send(marker, 3) is ExportStatus.ACCEPTED
    assert stack.processor.seen == 0
    stack.close()  # opens the gate, drains the queue, then flushes the writer
    assert [stored(store, m) for m in markers] == [3] * 5


def test_a_processor_failure_does_not_stop_the_worker(stack: Stack, store: ChdbStore) -> None:
    stack.processor.fail_next = True
    stack.processor.gate.set()
    assert stack.send("fails", 1) is ExportStatus.ACCEPTED
    assert stack.send("after", 2) is ExportStatus.ACCEPTED
    assert wait_until(lambda: stored(store, "after") == 2)
    assert stored(store, "fails") == 0  # logged as an acknowledged request not processed


def test_closed_queue_refuses(store: ChdbStore) -> None:
    stack = Stack(store, capacity=10)
    stack.close()
    assert stack.send("late", 1) is ExportStatus.QUEUE_FULL
