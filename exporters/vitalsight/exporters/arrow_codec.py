"""Column batches → Arrow tables, the insert format of both stores.

Arrow is compact (a queued row costs its bytes, not Python objects) and both stores take
it: chDB reads it in process, a ClickHouse server receives it as `FORMAT Arrow`.
Timestamps are Arrow `timestamp[ns]`, so DateTime64(9) gets integer nanoseconds.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vitalsight.exporters.map_column import MapColumn
from vitalsight.exporters.repeated_column import RepeatedColumn
from vitalsight.exporters.tables import NANOS, RAW_TABLES

# Python ints convert to int64 ~100x faster than to timestamps; the cast is free.
_INT64_STORAGE = {NANOS: pa.int64(), pa.list_(NANOS): pa.list_(pa.int64())}


def to_arrow(table: str, columns: dict[str, Any]) -> pa.Table:
    """An Arrow table with the raw table's column types."""
    layout = RAW_TABLES[table]
    arrays = [_column(values, layout[name]) for name, values in columns.items()]
    return pa.Table.from_arrays(arrays, names=list(columns))


def _column(values: Any, arrow_type: pa.DataType) -> pa.Array:
    if isinstance(values, RepeatedColumn):
        return _column(values.distinct, arrow_type).take(pa.array(values.rows, pa.int32()))
    if isinstance(values, MapColumn):
        return pa.MapArray.from_arrays(
            pa.array(values.ends, pa.int32()),
            pa.array(values.keys, pa.string()),
            pa.array(values.values, pa.string()),
        ).cast(arrow_type)
    storage = _INT64_STORAGE.get(arrow_type)
    if storage is not None:
        return pa.array(values, type=storage).cast(arrow_type)
    return pa.array(values, type=arrow_type)
