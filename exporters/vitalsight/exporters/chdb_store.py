"""The embedded store: chDB (in-process ClickHouse) with its data in a local directory.

chDB allows one data directory per process; this store owns the process's connection.
Inserts go through Arrow (chDB's fastest path), which never turns an epoch into text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import chdb
import pyarrow as pa

from vitalsight.exporters.batch import TableRows
from vitalsight.exporters.store import DEFAULT_DATABASE

logger = logging.getLogger(__name__)

# Inserts run at a lower CPU priority (nice), so the receivers answering senders on the same
# core preempt them: acknowledgement latency stays low while a large batch is inserted.
INSERT_THREAD_NICENESS = 10


class ChdbStore:
    """chDB connection on one data directory, shared by the writer and the query endpoint."""

    kind = "chdb"

    def __init__(self, data_dir: str | Path, *, database: str = DEFAULT_DATABASE) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = database
        self._lock = threading.Lock()  # chDB runs one statement at a time per connection
        self._conn: Any = chdb.connect(str(self.data_dir))
        self._conn.query(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._conn.query(f"USE {database}")
        self._closed = False

    def command(self, sql: str) -> None:
        self.query(sql, output_format="TabSeparated")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        table = pa.ipc.open_stream(self.query(sql, output_format="ArrowStream")).read_all()
        return [tuple(row.values()) for row in table.to_pylist()]

    def query(
        self,
        sql: str,
        *,
        output_format: str = "TabSeparated",
        params: Mapping[str, str] | None = None,
    ) -> bytes:
        """Run any statement and return its output in a ClickHouse format, as bytes.

        ``params`` fills ``{name:Type}`` placeholders; values are text in ClickHouse's Escaped
        format, as in the HTTP interface's ``param_<name>``.
        """
        with self._lock:
            try:
                result = self._conn.query(sql, output_format, params=dict(params or {}))
            except Exception:
                self._drain()
                raise
        return bytes(result.bytes()) if result is not None else b""

    def _drain(self) -> None:
        # chDB 4.4 keeps the output a failed statement had already written (its first blocks,
        # or an earlier statement of a multi-statement text) and prepends it to the next
        # successful result. One throwaway statement takes it, so the next caller's result
        # is its own.
        try:
            self._conn.query("SELECT 1", "TabSeparated")
        except Exception:  # the original error is the one worth raising
            logger.warning("chDB did not answer after a failed statement", exc_info=True)

    def insert(self, batch: TableRows) -> None:
        arrow_table = batch.rows
        columns = ", ".join(f"`{name}`" for name in arrow_table.column_names)
        with self._lock:
            # chDB's Python() table function reads the local variable by name.
            self._conn.query(
                f"INSERT INTO {batch.table} ({columns}) SELECT * FROM Python(arrow_table) "
                f"SETTINGS os_thread_priority = {INSERT_THREAD_NICENESS}"
            )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._conn.close()
