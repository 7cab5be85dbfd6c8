"""The writer-side store interface, implemented by the embedded and the server store.

Only the writer knows which store it has; readers use the ClickHouse HTTP protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from vitalsight.exporters.batch import TableRows

# Here, not beside chDB: readers and the server store need the name without loading chDB's
# 555 MB library (~230 MB resident once imported).
DEFAULT_DATABASE = "vitalsight"


class Store(Protocol):
    """Where the exporter writes. Both implementations run the same SQL."""

    kind: str
    database: str

    def command(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, ALTER)."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small query and return its rows (schema bookkeeping only)."""

    def insert(self, batch: TableRows) -> None:
        """Insert one table's rows (Arrow) with the store's own transport."""

    def close(self) -> None:
        """Release the store; idempotent."""
