"""A Map(String, String) column as the encoder fills it and Arrow takes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class MapColumn:
    """A Map(String, String) column held flat: every row's keys and values appended to two
    lists, and where each row ends. Arrow takes it as three plain arrays, instead of
    converting a list of (key, value) tuples per row."""

    keys: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=lambda: [0])  # row i is ends[i]:ends[i + 1]

    def __len__(self) -> int:
        return len(self.ends) - 1

    def add_row(self, keys: Sequence[str], values: Sequence[str]) -> None:
        """One row; `keys` and `values` of the same length."""
        self.keys.extend(keys)
        self.values.extend(values)
        self.ends.append(len(self.keys))

    def append(self, pairs: Sequence[tuple[str, str]]) -> None:
        """One row from (key, value) pairs (as lists of rows are appended to)."""
        self.add_row([key for key, _ in pairs], [value for _, value in pairs])

    def __getitem__(self, row: int) -> list[tuple[str, str]]:
        start, end = self.ends[row], self.ends[row + 1]
        return list(zip(self.keys[start:end], self.values[start:end], strict=True))
