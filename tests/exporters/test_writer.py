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


def test_inserts_a_backlog_in_pieces_of_at_most_insert_rows(
    gated: GatedStore, chdb_store: ChdbStore
) -> None:
    """A backlog is never one insert of everything queued (chDB's working set grows with the
    batch): whole batches up to `insert_rows`, one split where it would overflow, oldest first."""
    gated.open.clear()  # the store is stuck while rows pile up
    writer = BatchWriter(gated, queue_rows=100, flush_rows=2, insert_rows=5, flush_interval_s=0.01)
    for marker, rows in (("piece-a", 3), ("piece-b", 3), ("piece-c", 4), ("piece-d", 1)):
        assert writer.offer([batch(marker, rows)])
    time.sleep(0.1)  # the first due batch is held in insert(); the rest piled up behind it
    gated.open.set()
    assert writer.force_flush(10)
    writer.close()
    assert all(rows <= 5 for rows in gated.inserted_batches)
    assert sum(gated.inserted_batches) == 11
    assert [stored(chdb_store, m) for m in ("piece-a", "piece-b", "piece-c", "piece-d")] == [
        3,
        3,
        4,
        1,
    ]


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


def test_waiting_offer_blocks_until_room_and_flushes_early(
    gated: GatedStore, chdb_store: ChdbStore
) -> None:
    """Rows acknowledged upstream wait for room instead of being refused; a full queue is
    flushed at once rather than at its size or age threshold."""
    gated.open.clear()
    writer = BatchWriter(gated, queue_rows=5, flush_rows=1000, flush_interval_s=600)
    assert writer.offer([batch("wait-a", 4)])
    taken = threading.Event()

    def offer_waiting() -> None:
        assert writer.offer([batch("wait-b", 3)], wait=True)
        taken.set()

    threading.Thread(target=offer_waiting, daemon=True).start()
    assert not taken.wait(0.5)  # 4 + 3 > 5 while the store is stuck
    gated.open.set()
    assert taken.wait(10)  # flushed early (flush_interval 600 s), then room
    writer.close()
    assert (stored(chdb_store, "wait-a"), stored(chdb_store, "wait-b")) == (4, 3)


def test_waiting_offer_takes_an_oversized_batch_into_an_empty_queue(
    gated: GatedStore, chdb_store: ChdbStore
) -> None:
    writer = BatchWriter(gated, queue_rows=2, flush_rows=1, flush_interval_s=0.01)
    assert not writer.offer([batch("big-a", 3)])
    assert writer.offer([batch("big-b", 3)], wait=True)
    writer.close()
    assert (stored(chdb_store, "big-a"), stored(chdb_store, "big-b")) == (0, 3)


def test_waiting_offer_is_refused_once_closing(gated: GatedStore) -> None:
    writer = BatchWriter(gated, queue_rows=5)
    writer.close()
    assert not writer.offer([batch("closed", 1)], wait=True)
