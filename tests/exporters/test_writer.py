"""The batching writer on a real chDB store: size/age flushes, backpressure, retries, and
that close() writes every accepted row."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.otlp_samples import vitals_request
from vitalsight.exporters.batch import TableRows
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_logs
from vitalsight.exporters.schema import migrate
from vitalsight.exporters.writer import BatchWriter


class GatedStore:
    """A real chDB store whose inserts can be held back or made to fail."""

    def __init__(self, store: ChdbStore) -> None:
        self.store = store
        self.kind, self.database = store.kind, store.database
        self.open = threading.Event()
        self.open.set()
        self.failures_left = 0
        self.inserted_batches: list[int] = []

    def insert(self, batch: TableRows) -> None:
        self.open.wait()
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("store unavailable")
        self.store.insert(batch)
        self.inserted_batches.append(batch.row_count)

    def command(self, sql: str) -> None:
        self.store.command(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.store.rows(sql)

    def close(self) -> None:
        """The module fixture closes the real store."""


@pytest.fixture(scope="module")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    store = ChdbStore(tmp_path_factory.mktemp("writer"))
    migrate(store)
    yield store
    store.close()


@pytest.fixture
def gated(chdb_store: ChdbStore) -> GatedStore:
    return GatedStore(chdb_store)


def batch(marker: str, rows: int) -> TableRows:
    return encode_logs(vitals_request(marker, rows)).to_rows()


def stored(store: ChdbStore, marker: str) -> int:
    sql = (
        "SELECT count() FROM otel_logs "
        f"WHERE startsWith(LogAttributes['browser.web_vital.id'], '{marker}-')"
    )
    return int(store.rows(sql)[0][0])


def test_flushes_on_size_in_one_insert(gated: GatedStore, chdb_store: ChdbStore) -> None:
    writer = BatchWriter(gated, flush_rows=6, flush_interval_s=600)
    assert writer.offer([batch("size-a", 3)]) and writer.offer([batch("size-b", 3)])
    deadline = time.monotonic() + 10
    while writer.queued_rows and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.queued_rows == 0
    assert gated.inserted_batches == [6]  # merged into one insert
    writer.close()


def test_flushes_on_age(gated: GatedStore, chdb_store: ChdbStore) -> None:
    writer = BatchWriter(gated, flush_rows=1000, flush_interval_s=0.2)
    writer.offer([batch("age", 2)])
    deadline = time.monotonic() + 10
    while stored(chdb_store, "age") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(chdb_store, "age") == 2
    writer.close()


def test_refuses_whole_batches_when_full_and_recovers(
    gated: GatedStore, chdb_store: ChdbStore
) -> None:
    gated.open.clear()  # the store is stuck
    writer = BatchWriter(gated, queue_rows=5, flush_rows=1, flush_interval_s=0.01)
    assert writer.offer([batch("full-a", 4)])
    assert not writer.offer([batch("full-b", 2)])  # 4 + 2 > 5: nothing of it is taken
    assert writer.offer([batch("full-c", 1)])
    assert not writer.offer([batch("full-d", 1)])
    gated.open.set()
    assert writer.force_flush(10)
    assert writer.offer([batch("full-e", 5)])  # room again
    writer.close()
    assert [stored(chdb_store, m) for m in ("full-a", "full-b", "full-c", "full-d", "full-e")] == [
        4,
        0,
        1,
        0,
        5,
    ]


def test_failed_inserts_are_retried_not_dropped(gated: GatedStore, chdb_store: ChdbStore) -> None:
    gated.failures_left = 2
    writer = BatchWriter(gated, flush_rows=1, flush_interval_s=0.01)
    assert writer.offer([batch("retry", 3)])
    assert writer.force_flush(10)
    assert gated.failures_left == 0
    assert stored(chdb_store, "retry") == 3
    writer.close()


def test_close_writes_everything_accepted_and_is_idempotent(
    gated: GatedStore, chdb_store: ChdbStore
) -> None:
    writer = BatchWriter(gated, flush_rows=10_000, flush_interval_s=600)
    for i in range(5):
        assert writer.offer([batch(f"close{i}", 2)])
    writer.close()
    writer.close()
    assert sum(stored(chdb_store, f"close{i}") for i in range(5)) == 10
    assert not writer.offer([batch("after-close", 1)])
