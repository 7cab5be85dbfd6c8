"""Batches: what the encoder produces (columns of Python values) and what the writer queues
and every store inserts (an Arrow table per raw table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from vitalsight.exporters.arrow_codec import to_arrow


@dataclass
class ColumnBatch:
    """Rows for one table, held column by column, as the encoder fills them."""

    table: str
    columns: dict[str, Any] = field(default_factory=dict)  # name → list of values, or MapColumn

    @property
    def row_count(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first)

    def to_rows(self) -> TableRows:
        return TableRows(self.table, to_arrow(self.table, self.columns))


@dataclass(frozen=True)
class TableRows:
    """Rows for one table as Arrow: compact while queued, and the stores' insert format."""

    table: str
    rows: pa.Table

    @property
    def row_count(self) -> int:
        return int(self.rows.num_rows)

    @staticmethod
    def concat(parts: list[TableRows]) -> TableRows:
        return TableRows(parts[0].table, pa.concat_tables([part.rows for part in parts]))
