"""A decoded logs or traces request walked once, shared by every processor of the pipeline.

Most of a processor's cost is finding attributes: upb builds a Python object for every
KeyValue and key it hands out, and each processor needs to know which keys every record
has. So the pipeline reads each record's and each resource's keys once, as a tuple (its
"shape"), and every processor works from the shapes: it works out once per distinct shape
(an SDK sends a handful) where the attributes it cares about are (`PlanCache`), then reads
only those values, by position, from the protobuf message. Values are never copied, so what
a processor reads is always what the request holds.

The shapes stay true only if every change to the keys of record or resource attributes
goes through the view (`append_str`, `set_str`, `delete_attributes`), and records are
deleted through `ScopeView.delete`. Editing values in place (`attributes[i].value`) needs
nothing. Log bodies, span names, events and links, scope attributes and metrics are not part
of the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from vitalsight.receivers.signals import LOGS, TRACES, Signal

Shape = tuple[str, ...]  # an attribute list's keys, in order
PlanT = TypeVar("PlanT")

SCALARS = frozenset({"int_value", "double_value", "bool_value"})


def shape_of(attributes: Any) -> Shape:
    """The keys of a repeated KeyValue, in order."""
    return tuple([kv.key for kv in attributes])


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


def last_positions(shape: Shape) -> dict[str, int]:
    """Key → position of its last occurrence (as a dict built from the pairs would keep)."""
    return dict(zip(shape, range(len(shape)), strict=True))


def first_position(shape: Shape, key: str) -> int | None:
    return shape.index(key) if key in shape else None


class PlanCache(Generic[PlanT]):
    """What a processor worked out for a shape, for the shapes seen lately (bounded)."""

    def __init__(self, make: Callable[[Shape], PlanT], size: int = 1024) -> None:
        self._make = make
        self._size = size
        self._plans: dict[Shape, PlanT] = {}

    def __call__(self, shape: Shape) -> PlanT:
        plan = self._plans.get(shape)
        if plan is None:
            if len(self._plans) >= self._size:
                self._plans.clear()  # unusual senders: start over rather than grow
            plan = self._plans[shape] = self._make(shape)
        return plan


class _Attributed:
    """Key edits of one attribute list that keep its shape true."""

    def _append(self, attributes: Any, shape: Shape, key: str, text: str) -> Shape:
        attributes.append(KeyValue(key=key, value=AnyValue(string_value=text)))
        return (*shape, key)

    def _set(self, attributes: Any, shape: Shape, key: str, text: str) -> Shape:
        """Like `otlp_records.set_str`: replace the first `key`'s value, or add the key."""
        if key in shape:
            attributes[shape.index(key)].value.string_value = text  # clears other members
            return shape
        return self._append(attributes, shape, key, text)

    def _delete(self, attributes: Any, shape: Shape, indexes: Sequence[int]) -> Shape:
        for index in reversed(indexes):
            del attributes[index]
        dropped = set(indexes)
        return tuple(key for index, key in enumerate(shape) if index not in dropped)


class ScopeView(_Attributed):
    """A scope's records (log records or spans) and their shapes, in order."""

    __slots__ = ("_repeated", "message", "records", "scope", "shapes")

    def __init__(self, message: Any, repeated: Any) -> None:
        self.message = message  # ScopeLogs / ScopeSpans
        self.scope = message.scope
        self._repeated = repeated
        self.records: list[Any] = list(repeated)
        self.shapes: list[Shape] = [tuple([kv.key for kv in r.attributes]) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def delete(self, indexes: Sequence[int]) -> None:
        """Delete the records at `indexes` (ascending) from the request and the view."""
        repeated = self._repeated
        for index in reversed(indexes):
            del repeated[index]
            del self.records[index]
            del self.shapes[index]

    def append_str(self, index: int, key: str, text: str) -> None:
        """Add `key` = `text` to the attributes of record `index`."""
        attributes = self.records[index].attributes
        self.shapes[index] = self._append(attributes, self.shapes[index], key, text)

    def set_str(self, index: int, key: str, text: str) -> None:
        """Set the first `key` of record `index` to `text`, or add it."""
        attributes = self.records[index].attributes
        self.shapes[index] = self._set(attributes, self.shapes[index], key, text)

    def delete_attributes(self, index: int, positions: Sequence[int]) -> None:
        """Remove the attributes at `positions` (ascending) of record `index`."""
        attributes = self.records[index].attributes
        self.shapes[index] = self._delete(attributes, self.shapes[index], positions)


class ResourceView(_Attributed):
    """A ResourceLogs / ResourceSpans: its resource's attribute shape and its scopes."""

    __slots__ = ("attributes", "message", "resource", "scopes", "shape")

    def __init__(self, message: Any, scopes: list[ScopeView]) -> None:
        self.message = message
        self.resource = message.resource
        self.attributes = self.resource.attributes
        self.shape = shape_of(self.attributes)
        self.scopes = scopes

    def record_count(self) -> int:
        return sum(len(scope) for scope in self.scopes)

    def get_str(self, key: str) -> str | None:
        """The first `key`'s value as text (`scalar_text`), or None."""
        index = first_position(self.shape, key)
        return None if index is None else scalar_text(self.attributes[index].value)

    def append_str(self, key: str, text: str) -> None:
        self.shape = self._append(self.attributes, self.shape, key, text)

    def set_str(self, key: str, text: str) -> None:
        self.shape = self._set(self.attributes, self.shape, key, text)

    def delete_attributes(self, positions: Sequence[int]) -> None:
        self.shape = self._delete(self.attributes, self.shape, positions)


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
