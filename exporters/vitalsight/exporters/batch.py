"""Column batches: the unit the encoder produces and every store inserts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ColumnBatch:
    """Rows for one table, held column by column (the layout both insert codecs want)."""

    table: str
    columns: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first)

    def extend(self, other: ColumnBatch) -> None:
        """Append another batch of the same table in place."""
        if not self.columns:
            self.columns = {name: list(values) for name, values in other.columns.items()}
            return
        for name, values in other.columns.items():
            self.columns[name].extend(values)
