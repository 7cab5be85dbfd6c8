"""Batching writer: a bounded queue of accepted rows, flushed to the store by one thread.

Rows are acknowledged to the sender once they are in this queue, so the queue never drops
them: a failed insert is retried (with backoff) until it succeeds, even while closing, and
while the queue is full `offer()` refuses new rows so receivers answer 503 instead of
growing memory. No insert is larger than `insert_rows` (a backlog goes in pieces), which
bounds chDB's insert working set. `close()` flushes everything that was accepted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from vitalsight.exporters.batch import TableRows
from vitalsight.exporters.store import Store
from vitalsight.service.selfmetrics import SelfMetrics

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_ROWS = 150_000
DEFAULT_FLUSH_ROWS = 40_000
# 2 x flush_rows: a cap at flush_rows cost 15-18% of the saturated throughput (every
# insert has a fixed cost of ~0.3 s of materialized views and parts).
DEFAULT_INSERT_ROWS = 80_000
DEFAULT_FLUSH_INTERVAL_S = 1.0
_MAX_RETRY_DELAY_S = 5.0


@dataclass
class _Pending:
    parts: list[TableRows]
    rows: int
    since: float


class BatchWriter:
    """Accumulates column batches per table and inserts them on size or age."""

    def __init__(
        self,
        store: Store,
        *,
        queue_rows: int = DEFAULT_QUEUE_ROWS,
        flush_rows: int = DEFAULT_FLUSH_ROWS,
        insert_rows: int = DEFAULT_INSERT_ROWS,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        metrics: SelfMetrics | None = None,
    ) -> None:
        self._store = store
        self._capacity = queue_rows
        self._flush_rows = flush_rows
        self._insert_rows = max(insert_rows, flush_rows)
        self._flush_interval_s = flush_interval_s
        self._metrics = metrics
        self._cond = threading.Condition()
        self._pending: dict[str, _Pending] = {}
        self._queued_rows = 0  # pending + being inserted
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="vitalsight-writer", daemon=True)
        self._thread.start()

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def offer(self, batches: list[TableRows], *, wait: bool = False) -> bool:
        """Queue the batches whole, or nothing when they would overflow the queue.

        ``wait``: rows that were already acknowledged upstream; block until there is room
        (flushing now rather than at size or age), and take them even if they alone exceed
        the queue. Refused only once the writer is closing.
        """
        rows = sum(batch.row_count for batch in batches)
        with self._cond:
            while wait and not self._closing and self._queued_rows and not self._room(rows):
                self._make_all_due()
                self._cond.wait(timeout=0.1)
            fits = self._room(rows) or (wait and not self._queued_rows)
            if self._closing or not fits:
                return False
            now = time.monotonic()
            for batch in batches:
                if batch.row_count:
                    self._add(batch, now)
            self._queued_rows += rows
            self._report_depth()
            if any(p.rows >= self._flush_rows for p in self._pending.values()):
                self._cond.notify()
        return True

    def _room(self, rows: int) -> bool:
        return self._queued_rows + rows <= self._capacity

    def _make_all_due(self) -> None:
        for pending in self._pending.values():
            pending.since = 0.0
        self._cond.notify()

    def _add(self, batch: TableRows, now: float) -> None:
        pending = self._pending.setdefault(batch.table, _Pending([], 0, now))
        pending.parts.append(batch)
        pending.rows += batch.row_count

    def force_flush(self, timeout_s: float = 30.0) -> bool:
        """Block until every accepted row is written; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._make_all_due()
            while self._queued_rows and time.monotonic() < deadline:
                self._cond.wait(timeout=0.05)
            return self._queued_rows == 0

    def close(self, timeout_s: float = 60.0) -> None:
        """Flush everything accepted, then stop. Idempotent."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            logger.error("writer did not finish flushing within %.0fs", timeout_s)

    def _run(self) -> None:
        while True:
            due = self._take_due()
            for batch in due:
                self._insert_until_done(batch)
            if due:
                self._finish(due)
                continue
            with self._cond:
                if self._closing and not self._pending:
                    return
                self._cond.wait(timeout=self._wait_time())

    def _take_due(self) -> list[TableRows]:
        with self._cond:
            now = time.monotonic()
            due_tables = [
                table
                for table, p in self._pending.items()
                if self._closing
                or p.rows >= self._flush_rows
                or now - p.since >= self._flush_interval_s
            ]
            return [self._take(table) for table in due_tables]

    def _take(self, table: str) -> TableRows:
        """At most `insert_rows` of a table's oldest pending rows, as one batch.

        chDB's insert working set grows with the batch (~6 KB per otel_logs row, with or
        without the materialized views), so a backlog (the niced insert fell behind while
        the receivers had the core) is inserted in pieces of at most `insert_rows` instead of
        one batch of everything queued (a 125k-row insert took ~700 MB); the rest stays
        pending, due.
        """
        pending = self._pending[table]
        taken: list[TableRows] = []
        rows = 0
        while pending.parts and rows < self._insert_rows:
            part = pending.parts[0]
            room = self._insert_rows - rows
            if part.row_count > room:  # Arrow slices share the buffers: no copy
                taken.append(TableRows(part.table, part.rows.slice(0, room)))
                pending.parts[0] = TableRows(part.table, part.rows.slice(room))
                rows += room
                break
            taken.append(pending.parts.pop(0))
            rows += part.row_count
        pending.rows -= rows
        if not pending.parts:
            del self._pending[table]
        # Concatenating Arrow tables is cheap (no copy); the GIL-heavy work was done
        # per request, so the insert itself runs with the GIL released.
        return TableRows.concat(taken)

    def _wait_time(self) -> float:
        if not self._pending:
            return self._flush_interval_s
        oldest = min(p.since for p in self._pending.values())
        return max(0.0, oldest + self._flush_interval_s - time.monotonic())

    def _insert_until_done(self, batch: TableRows) -> None:
        delay = 0.1
        while True:
            started = time.perf_counter()
            try:
                self._store.insert(batch)
            except Exception:
                logger.exception("insert into %s failed; retrying in %.1fs", batch.table, delay)
                if self._metrics:
                    self._metrics.failed_flushes.labels(batch.table).inc()
                time.sleep(delay)
                delay = min(delay * 2, _MAX_RETRY_DELAY_S)
                continue
            if self._metrics:
                self._metrics.flush_seconds.observe(time.perf_counter() - started)
                self._metrics.written_rows.labels(batch.table).inc(batch.row_count)
            return

    def _finish(self, written: list[TableRows]) -> None:
        with self._cond:
            self._queued_rows -= sum(batch.row_count for batch in written)
            self._report_depth()
            self._cond.notify_all()

    def _report_depth(self) -> None:
        if self._metrics:
            self._metrics.queue_rows.set(self._queued_rows)
