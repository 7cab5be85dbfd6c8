"""A column whose rows repeat a few values: a resource's or a scope's, on each of its records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vitalsight.exporters.map_column import MapColumn


@dataclass
class RepeatedColumn:
    """Each distinct value once, and every row's index into them. A resource's attributes
    (~20 in a browser's) are the same on each of its records: Arrow expands them with one
    `take` in C++ instead of converting every row's copy from Python."""

    distinct: list[Any] | MapColumn = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, row: int) -> Any:
        return self.distinct[self.rows[row]]

    def add(self, value: Any) -> int:
        """A new distinct value (keys and values for a map column); its index."""
        if isinstance(self.distinct, MapColumn):
            self.distinct.add_row(*value)
        else:
            self.distinct.append(value)
        return len(self.distinct) - 1

    def repeat(self, index: int, count: int) -> None:
        """`count` rows of the distinct value `index`."""
        self.rows.extend([index] * count)
