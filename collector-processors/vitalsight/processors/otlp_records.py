"""Walking OTLP requests and editing attributes in place, for processors.

Processors work on the decoded protobuf requests (the same objects the exporter encodes),
so a change made here is what gets stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Record = Any  # a LogRecord or a Span
Resource = Any


def log_records(request: Any) -> Iterator[tuple[Resource, Record]]:
    """(resource, log record) pairs of an ExportLogsServiceRequest."""
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                yield resource_logs.resource, record


def spans(request: Any) -> Iterator[tuple[Resource, Record]]:
    """(resource, span) pairs of an ExportTraceServiceRequest."""
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield resource_spans.resource, span


def get_str(attributes: Any, key: str) -> str | None:
    """A string attribute's value (other scalar types stringified), or None if absent."""
    for kv in attributes:
        if kv.key == key:
            value = kv.value
            kind = value.WhichOneof("value")
            if kind == "string_value":
                return str(value.string_value)
            if kind in ("int_value", "double_value", "bool_value"):
                return str(getattr(value, kind))
            return None
    return None


def set_str(attributes: Any, key: str, value: str) -> None:
    """Set (or add) a string attribute."""
    for kv in attributes:
        if kv.key == key:
            kv.value.CopyFrom(AnyValue(string_value=value))
            return
    attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))


def remove(attributes: Any, key: str) -> bool:
    """Delete an attribute; True if it was there."""
    for index, kv in enumerate(attributes):
        if kv.key == key:
            del attributes[index]
            return True
    return False


def lookup(record: Record, resource: Resource, key: str) -> str | None:
    """A context attribute as the schema reads it: the record's, else the resource's."""
    value = get_str(record.attributes, key)
    return value if value is not None else get_str(resource.attributes, key)


def prune_empty(resources: Any, scopes_field: str, records_field: str) -> None:
    """Remove scopes left without records, then resources left without scopes (after a
    processor dropped records), so the exporter sees no empty containers."""
    for r_index in range(len(resources) - 1, -1, -1):
        scopes = getattr(resources[r_index], scopes_field)
        for s_index in range(len(scopes) - 1, -1, -1):
            if not getattr(scopes[s_index], records_field):
                del scopes[s_index]
        if not scopes:
            del resources[r_index]
