"""ClickHouse Native output for HTTP clients that send ``client_protocol_version``.

A ClickHouse server shapes its Native HTTP output by the ``client_protocol_version``
request parameter (ClickHouse PR #46360): above 0 every block starts with a BlockInfo, from
revision 54454 every column carries a "custom serialization" byte after its type, and from
54480 the BlockInfo has a third field. chDB always writes revision 0 (no BlockInfo, no byte).
clickhouse-go (the Grafana datasource's driver) sends its TCP protocol revision and decodes
by it; clickhouse-connect probes with 54405 and then expects a BlockInfo in every block.

``to_protocol_revision`` rewrites chDB's Native bytes for a revision. Finding where one
column's data ends needs the size of every value, so it walks the data by type; types whose
layout is not fixed by their name (AggregateFunction, Variant, Dynamic, JSON) are refused with
``NativeFormatError`` rather than guessed. ``header_block`` writes the zero-row block that
carries column names and types, which chDB omits when a result is empty.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

# src/Core/ProtocolDefines.h
DBMS_MIN_REVISION_WITH_LOW_CARDINALITY_TYPE = 54405
DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION = 54454
DBMS_MIN_REVISION_WITH_OUT_OF_ORDER_BUCKETS_IN_AGGREGATION = 54480

_FIXED_SIZES: dict[str, int] = {
    "UInt8": 1,
    "Int8": 1,
    "Bool": 1,
    "Enum8": 1,
    "Nothing": 1,
    "UInt16": 2,
    "Int16": 2,
    "Enum16": 2,
    "Date": 2,
    "BFloat16": 2,
    "UInt32": 4,
    "Int32": 4,
    "Float32": 4,
    "Date32": 4,
    "DateTime": 4,
    "IPv4": 4,
    "Time": 4,
    "Decimal32": 4,
    "UInt64": 8,
    "Int64": 8,
    "Float64": 8,
    "DateTime64": 8,
    "Time64": 8,
    "Decimal64": 8,
    "UInt128": 16,
    "Int128": 16,
    "UUID": 16,
    "IPv6": 16,
    "Decimal128": 16,
    "UInt256": 32,
    "Int256": 32,
    "Decimal256": 32,
}

# Geo types are aliases of tuples and arrays (src/DataTypes/DataTypeCustomGeo.cpp).
_ALIASES: dict[str, str] = {
    "Point": "Tuple(Float64, Float64)",
    "Ring": "Array(Point)",
    "LineString": "Array(Point)",
    "MultiLineString": "Array(LineString)",
    "Polygon": "Array(Ring)",
    "MultiPolygon": "Array(Polygon)",
}

# LowCardinality index serialization flags (SerializationLowCardinality.cpp).
_LC_NEED_GLOBAL_DICTIONARY = 1 << 8
_LC_HAS_ADDITIONAL_KEYS = 1 << 9
_LC_INDEX_SIZES = (1, 2, 4, 8)


class NativeFormatError(Exception):
    """The Native bytes cannot be rewritten (unsupported type or malformed data)."""


class _Type:
    __slots__ = ("args", "name")

    def __init__(self, name: str, args: list[_Type]) -> None:
        self.name = name
        self.args = args


def _split_args(text: str) -> list[str]:
    """Split a type's argument list at top-level commas (quotes and brackets respected)."""
    args: list[str] = []
    depth, start, i = 0, 0, 0
    quote = ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'`\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    args.append(text[start:].strip())
    return [a for a in args if a]


def _strip_element_name(arg: str) -> str:
    """``name Type`` (a named Tuple element) -> ``Type``."""
    if arg.startswith("`"):
        end = 1
        while end < len(arg):
            if arg[end] == "\\":
                end += 2
                continue
            if arg[end] == "`":
                break
            end += 1
        return arg[end + 1 :].strip()
    head, sep, rest = arg.partition(" ")
    if sep and "(" not in head:
        return rest.strip()
    return arg


def _decimal(inner: str) -> _Type:
    precision = int(_split_args(inner)[0])
    size = 4 if precision <= 9 else 8 if precision <= 18 else 16 if precision <= 38 else 32
    return _Type(f"Decimal{size * 8}", [])


def _tuple(inner: str) -> _Type:
    return _Type("Tuple", [parse_type(_strip_element_name(a)) for a in _split_args(inner)])


_BUILDERS: dict[str, Callable[[str], _Type]] = {
    "Array": lambda inner: _Type("Array", [parse_type(inner)]),
    "Nullable": lambda inner: _Type("Nullable", [parse_type(inner)]),
    "LowCardinality": lambda inner: _Type("LowCardinality", [parse_type(inner)]),
    "Map": lambda inner: _Type("Map", [parse_type(a) for a in _split_args(inner)]),
    "Tuple": _tuple,
    "Nested": lambda inner: _Type("Array", [_tuple(inner)]),
    "SimpleAggregateFunction": lambda inner: parse_type(_split_args(inner)[-1]),
    "Decimal": _decimal,
    "FixedString": lambda inner: _Type("FixedString", [_Type(inner.strip(), [])]),
}


def parse_type(text: str) -> _Type:
    """Parse a ClickHouse type name into the tree the data walk needs."""
    text = text.strip()
    text = _ALIASES.get(text, text)
    name, paren, rest = text.partition("(")
    if not paren:
        return _Type(text, [])
    if not rest.endswith(")"):
        raise NativeFormatError(f"cannot parse type {text!r}")
    builder = _BUILDERS.get(name)
    # DateTime('tz'), DateTime64(3, 'tz'), Enum8(...), Time64(p): the size is in the name.
    return builder(rest[:-1]) if builder else _Type(name, [])


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def varint(self) -> int:
        result, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise NativeFormatError("truncated Native data")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7

    def uint64(self) -> int:
        value: int = struct.unpack_from("<Q", self.data, self.pos)[0]
        self.pos += 8
        return value

    def skip(self, size: int) -> None:
        self.pos += size
        if self.pos > len(self.data):
            raise NativeFormatError("truncated Native data")

    def string(self) -> bytes:
        size = self.varint()
        start = self.pos
        self.skip(size)
        return self.data[start : self.pos]


def _skip_prefix(reader: _Reader, t: _Type) -> None:
    # serializeBinaryBulkStatePrefix: written for the whole column before its data.
    if t.name == "LowCardinality":
        reader.skip(8)  # key version
    elif t.name in ("Array", "Nullable", "Tuple", "Map"):
        for arg in t.args:
            _skip_prefix(reader, arg)
    elif t.name in ("Variant", "Dynamic", "JSON", "Object", "AggregateFunction", "QBit"):
        raise NativeFormatError(
            f"columns of type {t.name} cannot be sent with client_protocol_version; "
            "cast them (e.g. toString, finalizeAggregation)"
        )


def _skip_data(reader: _Reader, t: _Type, rows: int) -> None:
    if rows == 0:
        return
    size = _FIXED_SIZES.get(t.name, 8 if t.name.startswith("Interval") else None)
    if size is not None:
        reader.skip(rows * size)
        return
    skip = _SKIPPERS.get(t.name)
    if skip is None:
        raise NativeFormatError(
            f"columns of type {t.name} cannot be sent with client_protocol_version; "
            "cast them (e.g. toString)"
        )
    skip(reader, t, rows)


def _skip_strings(reader: _Reader, t: _Type, rows: int) -> None:
    for _ in range(rows):
        reader.skip(reader.varint())


def _skip_nullable(reader: _Reader, t: _Type, rows: int) -> None:
    reader.skip(rows)  # null map
    _skip_data(reader, t.args[0], rows)


def _skip_array(reader: _Reader, t: _Type, rows: int) -> None:
    # Offsets are cumulative: the last one is the number of nested values. A Map is an
    # Array(Tuple(keys, values)).
    reader.skip((rows - 1) * 8)
    total = reader.uint64()
    for arg in t.args:
        _skip_data(reader, arg, total)


def _skip_tuple(reader: _Reader, t: _Type, rows: int) -> None:
    for arg in t.args:
        _skip_data(reader, arg, rows)


_SKIPPERS: dict[str, Callable[[_Reader, _Type, int], None]] = {
    "String": _skip_strings,
    "FixedString": lambda reader, t, rows: reader.skip(rows * int(t.args[0].name)),
    "Nullable": _skip_nullable,
    "Array": _skip_array,
    "Map": _skip_array,
    "Tuple": _skip_tuple,
    "LowCardinality": lambda reader, t, rows: _skip_low_cardinality(reader, t.args[0], rows),
}


def _skip_low_cardinality(reader: _Reader, inner: _Type, rows: int) -> None:
    keys_type = inner.args[0] if inner.name == "Nullable" else inner
    remaining = rows
    while remaining > 0:
        flags = reader.uint64()
        if flags & _LC_NEED_GLOBAL_DICTIONARY and not flags & _LC_HAS_ADDITIONAL_KEYS:
            raise NativeFormatError("LowCardinality with a global dictionary is not supported")
        if flags & _LC_HAS_ADDITIONAL_KEYS:
            _skip_data(reader, keys_type, reader.uint64())
        count = reader.uint64()
        index_type = flags & 0xFF
        if index_type >= len(_LC_INDEX_SIZES) or count == 0:
            raise NativeFormatError("malformed LowCardinality column")
        reader.skip(count * _LC_INDEX_SIZES[index_type])
        remaining -= count


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string(value: bytes) -> bytes:
    return _varint(len(value)) + value


def block_info(revision: int) -> bytes:
    """BlockInfo of a plain data block as BlockInfo::write writes it for ``revision``."""
    out = b"\x01\x00\x02" + struct.pack("<i", -1)  # is_overflows = 0, bucket_num = -1
    if revision >= DBMS_MIN_REVISION_WITH_OUT_OF_ORDER_BUCKETS_IN_AGGREGATION:
        out += b"\x03\x00"  # out_of_order_buckets = []
    return out + b"\x00"


def to_protocol_revision(data: bytes, revision: int) -> bytes:
    """Rewrite revision-0 Native bytes (as chDB writes them) for a client's revision."""
    if revision <= 0 or not data:
        return data
    custom_byte = revision >= DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION
    info = block_info(revision)
    reader = _Reader(data)
    out: list[bytes] = []
    while reader.pos < len(data):
        columns = reader.varint()
        rows = reader.varint()
        out += [info, _varint(columns), _varint(rows)]
        for _ in range(columns):
            start = reader.pos
            reader.string()  # name
            type_name = reader.string()
            out.append(data[start : reader.pos])
            if custom_byte:
                out.append(b"\x00")
            start = reader.pos
            if rows:
                column_type = parse_type(type_name.decode())
                _skip_prefix(reader, column_type)
                _skip_data(reader, column_type, rows)
            out.append(data[start : reader.pos])
    return b"".join(out)


def header_block(columns: Sequence[tuple[str, str]], revision: int) -> bytes:
    """A zero-row Native block naming the columns (what ClickHouse sends for an empty result)."""
    out = [block_info(revision)] if revision > 0 else []
    out += [_varint(len(columns)), _varint(0)]
    for name, type_name in columns:
        out += [_string(name.encode()), _string(type_name.encode())]
        if revision >= DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION:
            out.append(b"\x00")
    return b"".join(out)
