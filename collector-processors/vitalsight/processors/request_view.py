"""A decoded logs or traces request walked once, shared by every processor of the pipeline.

Most of a processor's cost is finding attributes: upb builds a Python object for every
KeyValue and key it hands out, and each processor needs to know which keys every record
has. So the pipeline reads each record's and each resource's keys once, as a tuple (its
"shape"), and every processor works from the shapes: it works out once per distinct shape
(an SDK sends a handful) where the attributes it cares about are (`PlanCache`), then reads
only those values, by position, from the protobuf message. Values are never copied, so what
a processor reads is always what the request holds.

The same walk reads every attribute's `string_value` ("texts", "" for a value that is not a
non-empty string): processors read those instead of the message, and the exporter encodes
the records from keys and texts (`walked_attributes`) rather than reading every attribute a
second time.

Shapes and texts stay true only if every change to record or resource attributes goes
through the view: keys with `append_str`, `set_str`, `delete_attributes`; a value edited in
place (`attributes[i].value`) must be written to `texts[i]` too. Records are deleted through
`ScopeView.delete`. Log bodies, span names, events and links, scope attributes and metrics
are not part of the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from vitalsight.exporters.encode import (
    KeyValues,
    WalkedAttributes,
    any_value_to_str,
    read_key_values,
)
from vitalsight.receivers.signals import LOGS, TRACES, Signal

Keys = tuple[str, ...]  # an attribute list's keys, in order
PlanT = TypeVar("PlanT")

SCALARS = frozenset({"int_value", "double_value", "bool_value"})


class Shape:
    """The keys of an attribute list, interned (`shape_for`): the records that have the same
    keys in the same order share one Shape, and the plans processors work out for it."""

    __slots__ = ("appended", "keys", "plans")

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.plans: dict[object, Any] = {}  # PlanCache token → plan
        self.appended: dict[str, Shape] = {}  # key → the shape with that key added

    def plus(self, key: str) -> Shape:
        """The shape with `key` added at the end (processors add the same keys to many
        records: sample's rate, enrich's fields)."""
        shape = self.appended.get(key)
        if shape is None:
            shape = self.appended[key] = shape_for((*self.keys, key))
        return shape

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self.keys


_SHAPES: dict[Keys, Shape] = {}
_SHAPES_KEPT = 4096  # distinct shapes remembered (an SDK sends a handful)


def shape_for(keys: Keys) -> Shape:
    """The interned Shape of `keys`."""
    shape = _SHAPES.get(keys)
    if shape is None:
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()  # unusual senders: start over rather than grow
        shape = _SHAPES[keys] = Shape(keys)
    return shape


def read_attributes(attributes: Any) -> tuple[Shape, list[str]]:
    """The Shape and the texts (each value's `string_value`) of a repeated KeyValue, in
    one pass: upb builds one wrapper per KeyValue."""
    pairs = [(kv.key, kv.value.string_value) for kv in attributes]
    keys = tuple([pair[0] for pair in pairs])
    return _SHAPES.get(keys) or shape_for(keys), [pair[1] for pair in pairs]


def flatten_walked(attributes: Any, shape: Shape, texts: list[str]) -> KeyValues:
    """Keys and string values as `encode.read_key_values` makes them, from what the walk
    read: only values that are not non-empty strings are read again."""
    if len(texts) != len(attributes):  # changed behind the view's back: read it all
        return read_key_values(attributes)
    values = texts.copy()
    for index, text in enumerate(texts):
        if not text:  # mostly numbers (vital values, sizes, status codes)
            values[index] = any_value_to_str(attributes[index].value)
    return shape.keys, values


def scalar_text(value: Any) -> str | None:
    """An AnyValue as text: a string as is, a number or boolean through `str` (`True`,
    `1.5`), None for anything else (like `otlp_records.get_str`)."""
    text = value.string_value
    if text:  # the common case, without the cost of WhichOneof
        return str(text)
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return ""
    if kind in SCALARS:
        return str(getattr(value, kind))
    return None


def last_positions(keys: Keys) -> dict[str, int]:
    """Key → position of its last occurrence (as a dict built from the pairs would keep)."""
    return dict(zip(keys, range(len(keys)), strict=True))


class PlanCache(Generic[PlanT]):
    """What one processor works out per shape, kept on the shape: `get(shape)` costs a
    dict lookup once the shape was seen."""

    def __init__(self, make: Callable[[Keys], PlanT]) -> None:
        self._make = make
        self._token = object()  # not the cache itself: shapes must not keep processors

    def get(self, shape: Shape) -> PlanT:
        plan: PlanT | None = shape.plans.get(self._token)
        if plan is None:
            plan = shape.plans[self._token] = self._make(shape.keys)
        return plan


class _Attributed:
    """Edits of one attribute list that keep its shape and texts true."""

    def _append(
        self, attributes: Any, shape: Shape, texts: list[str], key: str, text: str
    ) -> Shape:
        attributes.add(key=key).value.string_value = text  # cheaper than building a KeyValue
        texts.append(text)
        return shape.plus(key)

    def _set(self, attributes: Any, shape: Shape, texts: list[str], key: str, text: str) -> Shape:
        """Like `otlp_records.set_str`: replace the first `key`'s value, or add the key."""
        keys = shape.keys
        if key in keys:
            index = keys.index(key)
            attributes[index].value.string_value = text  # clears other members
            texts[index] = text
            return shape
        return self._append(attributes, shape, texts, key, text)

    def _delete(
        self, attributes: Any, shape: Shape, texts: list[str], indexes: Sequence[int]
    ) -> Shape:
        for index in reversed(indexes):
            del attributes[index]
            del texts[index]
        dropped = set(indexes)
        return shape_for(tuple(key for index, key in enumerate(shape.keys) if index not in dropped))


class ScopeView(_Attributed):
    """A scope's records (log records or spans), their attribute lists and shapes, in order."""

    __slots__ = ("_repeated", "attributes", "message", "records", "scope", "shapes", "texts")

    def __init__(self, message: Any, repeated: Any) -> None:
        self.message = message  # ScopeLogs / ScopeSpans
        self.scope = message.scope
        self._repeated = repeated
        self.records: list[Any] = list(repeated)
        # Each record's repeated KeyValue, kept: upb hands out a new wrapper on every access.
        self.attributes: list[Any] = [record.attributes for record in self.records]
        self.shapes: list[Shape] = []
        self.texts: list[list[str]] = []
        for attributes in self.attributes:
            shape, texts = read_attributes(attributes)
            self.shapes.append(shape)
            self.texts.append(texts)

    def __len__(self) -> int:
        return len(self.records)

    def delete(self, indexes: Sequence[int]) -> None:
        """Delete the records at `indexes` (ascending) from the request and the view."""
        repeated = self._repeated
        for index in reversed(indexes):
            del repeated[index]
            del self.records[index]
            del self.attributes[index]
            del self.shapes[index]
            del self.texts[index]

    def append_str(self, index: int, key: str, text: str) -> None:
        """Add `key` = `text` to the attributes of record `index`."""
        self.shapes[index] = self._append(
            self.attributes[index], self.shapes[index], self.texts[index], key, text
        )

    def set_str(self, index: int, key: str, text: str) -> None:
        """Set the first `key` of record `index` to `text`, or add it."""
        self.shapes[index] = self._set(
            self.attributes[index], self.shapes[index], self.texts[index], key, text
        )

    def delete_attributes(self, index: int, positions: Sequence[int]) -> None:
        """Remove the attributes at `positions` (ascending) of record `index`."""
        self.shapes[index] = self._delete(
            self.attributes[index], self.shapes[index], self.texts[index], positions
        )


class RecordInView:
    """One record's attributes, written through its scope (which keeps the record's shape)."""

    __slots__ = ("index", "scope")

    def __init__(self, scope: ScopeView, index: int) -> None:
        self.scope = scope
        self.index = index

    def set_str(self, key: str, text: str) -> None:
        self.scope.set_str(self.index, key, text)

    def append_str(self, key: str, text: str) -> None:
        self.scope.append_str(self.index, key, text)


class ResourceView(_Attributed):
    """A ResourceLogs / ResourceSpans: its resource's attribute shape and its scopes."""

    __slots__ = ("attributes", "message", "resource", "scopes", "shape", "texts")

    def __init__(self, message: Any, scopes: list[ScopeView]) -> None:
        self.message = message
        self.resource = message.resource
        self.attributes = self.resource.attributes
        self.shape, self.texts = read_attributes(self.attributes)
        self.scopes = scopes

    def record_count(self) -> int:
        return sum(len(scope) for scope in self.scopes)

    def get_str(self, key: str) -> str | None:
        """The first `key`'s value as text (`scalar_text`), or None."""
        keys = self.shape.keys
        if key not in keys:
            return None
        index = keys.index(key)
        return self.texts[index] or scalar_text(self.attributes[index].value)

    def append_str(self, key: str, text: str) -> None:
        self.shape = self._append(self.attributes, self.shape, self.texts, key, text)

    def set_str(self, key: str, text: str) -> None:
        self.shape = self._set(self.attributes, self.shape, self.texts, key, text)

    def delete_attributes(self, positions: Sequence[int]) -> None:
        self.shape = self._delete(self.attributes, self.shape, self.texts, positions)


class RequestView:
    """A logs or traces export request, walked once (see the module docstring)."""

    __slots__ = ("_repeated", "request", "resources", "signal")

    def __init__(self, signal: Signal, request: Any) -> None:
        if signal.name == LOGS.name:
            signal = LOGS
            resources = request.resource_logs
            scopes_field, records_field = "scope_logs", "log_records"
        elif signal.name == TRACES.name:
            signal = TRACES
            resources = request.resource_spans
            scopes_field, records_field = "scope_spans", "spans"
        else:
            raise ValueError(f"no request view for {signal.name}")
        self.signal = signal  # LOGS or TRACES itself, so processors may compare with `is`
        self.request = request
        self._repeated = resources
        self.resources = [
            ResourceView(
                message,
                [
                    ScopeView(scope, getattr(scope, records_field))
                    for scope in getattr(message, scopes_field)
                ],
            )
            for message in resources
        ]

    @staticmethod
    def supports(signal: Signal) -> bool:
        return signal.name in (LOGS.name, TRACES.name)

    def records(self) -> Iterator[tuple[ResourceView, ScopeView, int]]:
        """(resource, scope, index in the scope) of every record, in order."""
        for resource in self.resources:
            for scope in resource.scopes:
                for index in range(len(scope.records)):
                    yield resource, scope, index

    def walked_attributes(self) -> WalkedAttributes:
        """Every resource's and record's attributes as the exporter encodes them, in request
        order, from what the walk read (`flatten_walked`)."""
        resources = []
        records = []
        for resource in self.resources:
            resources.append(flatten_walked(resource.attributes, resource.shape, resource.texts))
            for scope in resource.scopes:
                records.extend(
                    [
                        flatten_walked(attributes, shape, texts)
                        for attributes, shape, texts in zip(
                            scope.attributes, scope.shapes, scope.texts, strict=True
                        )
                    ]
                )
        return WalkedAttributes(resources, records)

    def delete_resources(self, indexes: Sequence[int]) -> None:
        """Delete the resources at `indexes` (ascending) with all their records."""
        for index in reversed(indexes):
            del self._repeated[index]
            del self.resources[index]

    def delete_scopes(self, resource: ResourceView, indexes: Sequence[int]) -> None:
        """Delete `resource`'s scopes at `indexes` (ascending) with all their records."""
        message = resource.message
        scopes = message.scope_logs if self.signal is LOGS else message.scope_spans
        for index in reversed(indexes):
            del scopes[index]
            del resource.scopes[index]

    def prune_empty(self) -> None:
        """Remove scopes left without records, then resources left without scopes."""
        for r_index in range(len(self.resources) - 1, -1, -1):
            resource = self.resources[r_index]
            empty = [index for index, scope in enumerate(resource.scopes) if not scope.records]
            self.delete_scopes(resource, empty)
            if not resource.scopes:
                self.delete_resources([r_index])
