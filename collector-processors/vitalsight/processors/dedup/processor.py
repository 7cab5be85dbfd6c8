"""Dropping replays of the same record (a retried export, a collector that sent twice).

Ids are remembered by arrival time for `window_seconds`, at most `max_entries` of them, in
insertion order, so both memory and per-record work are bounded (an OrderedDict; expiry and
eviction pop from its front).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from vitalsight.processors.dedup.config import DedupConfig
from vitalsight.processors.otlp_records import prune_empty
from vitalsight.receivers.signals import LOGS, TRACES, Signal

SESSION_ID = "session.id"
EVENT_NAME = "event.name"
WEB_VITAL_EVENT = "browser.web_vital"
VITAL_ID = "browser.web_vital.id"
VITAL_NAME = "browser.web_vital.name"
VITAL_VALUE = "browser.web_vital.value"
_SEPARATOR = "\x1f"


@dataclass
class DedupStats:
    """What the processor did since it started (records and ids)."""

    seen: int = 0
    dropped: int = 0  # replays within the window
    unkeyed: int = 0  # records without a usable id, passed through
    expired: int = 0  # ids forgotten because the window passed
    evicted: int = 0  # ids forgotten early because of `max_entries`


def _text(value: AnyValue | None) -> str:
    if value is None:
        return ""
    text = value.string_value
    if text:  # the common case, without the cost of WhichOneof
        return str(text)
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind in ("int_value", "double_value", "bool_value"):
        return str(getattr(value, kind))
    return ""


class DedupProcessor:
    """See README.md. Thread-safe."""

    def __init__(self, config: DedupConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.stats = DedupStats()
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._key_attributes = config.key_attributes
        self._wanted = frozenset(
            {SESSION_ID, EVENT_NAME, VITAL_ID, VITAL_NAME, VITAL_VALUE, *config.key_attributes}
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Record ids remembered now."""
        return len(self._seen)

    def counters(self) -> dict[str, int]:
        """What it did since start-up, by outcome, for the server's /metrics."""
        return {name: int(value) for name, value in vars(self.stats).items()}

    def process(self, signal: Signal, request: Any) -> Any:
        """Drop replayed log records and spans from the request, in place.

        Metrics pass through unchanged.
        """
        if signal is LOGS:
            self._process(request.resource_logs, "scope_logs", "log_records", self._log_id)
        elif signal is TRACES:
            self._process(request.resource_spans, "scope_spans", "spans", _span_id)
        return request

    def _process(
        self,
        resources: Any,
        scopes_field: str,
        records_field: str,
        record_id: Callable[[Any, dict[str, AnyValue]], bytes | None],
    ) -> None:
        with self._lock:
            now = self._clock()
            self._expire(now)
            seen, stats, limit = self._seen, self.stats, self.config.max_entries
            for resource_x in resources:
                res = self._attrs(resource_x.resource.attributes)
                for scope in getattr(resource_x, scopes_field):
                    records = getattr(scope, records_field)
                    dropped: list[int] = []
                    for index, record in enumerate(records):
                        stats.seen += 1
                        key = record_id(record, res)
                        if key is None:
                            stats.unkeyed += 1
                        elif key in seen:
                            stats.dropped += 1
                            dropped.append(index)
                        else:
                            seen[key] = now
                            if len(seen) > limit:
                                seen.popitem(last=False)
                                stats.evicted += 1
                    for index in reversed(dropped):
                        del records[index]
        prune_empty(resources, scopes_field, records_field)

    def _expire(self, now: float) -> None:
        oldest = now - self.config.window_seconds
        seen = self._seen
        while seen:
            key, first_seen = next(iter(seen.items()))
            if first_seen > oldest:
                break
            del seen[key]
            self.stats.expired += 1

    def _attrs(self, attributes: Iterable[KeyValue]) -> dict[str, AnyValue]:
        wanted = self._wanted
        return {kv.key: kv.value for kv in attributes if kv.key in wanted}

    def _log_id(self, record: Any, res: dict[str, AnyValue]) -> bytes | None:
        attrs = self._attrs(record.attributes)
        name = record.event_name or _text(attrs.get(EVENT_NAME))
        vital_id = _text(attrs.get(VITAL_ID)) if name == WEB_VITAL_EVENT else ""
        if vital_id:
            # web-vitals reuses a metric's id for updated values (reportAllChanges), so the
            # value is part of the id: only an identical report is a replay.
            parts = ["v", vital_id, _text(attrs.get(VITAL_NAME)), _text(attrs.get(VITAL_VALUE))]
        else:
            session = _text(attrs.get(SESSION_ID)) or _text(res.get(SESSION_ID))
            timestamp = record.time_unix_nano or record.observed_time_unix_nano
            if not session and not timestamp:
                return None  # nothing tells two such records apart: keep (fail open)
            parts = ["r", session, name, str(timestamp)]
            parts.extend(_text(attrs.get(key)) for key in self._key_attributes)
        data = _SEPARATOR.join(parts).encode()
        return hashlib.blake2b(data, digest_size=16).digest()


def _span_id(span: Any, res: dict[str, AnyValue]) -> bytes | None:
    span_id = bytes(span.span_id)
    if not span_id.strip(b"\0"):
        return None
    return b"s" + bytes(span.trace_id) + span_id
