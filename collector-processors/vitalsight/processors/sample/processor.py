"""Deterministic head sampling by session, with tail keeps of errors and poor vitals.

A session is kept when `hash(hash_seed, session.id)` (blake2b, 64 bits) falls below
`rate * 2**64`, so every replica with the same `hash_seed` takes the same decision without
coordination, and the sessions kept at a lower rate are a subset of those kept at a higher
one. Each kept record gets `vitalsight.sample_rate` = the probability it had of being kept
(times any rate the sender already applied), which the rum_* facts re-weight by 1 / rate
(docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vitalsight.processors.request_view import (
    Keys,
    PlanCache,
    RequestView,
    ScopeView,
    last_positions,
    scalar_text,
)
from vitalsight.processors.sample.config import SampleConfig
from vitalsight.receivers.signals import TRACES, Signal

SAMPLE_RATE = "vitalsight.sample_rate"
SESSION_ID = "session.id"
ROUTE = "browser.page.route"
APP = "service.name"
RELEASE = "service.version"
EVENT_NAME = "event.name"
EXCEPTION_EVENT = "exception"
WEB_VITAL_EVENT = "browser.web_vital"

# web.dev thresholds (needs-improvement above the first, poor above the second), the same
# the rum_vitals view applies when the sender gave no rating (ARCHITECTURE.md, "Schema").
POOR_ABOVE = {"LCP": 4000.0, "INP": 500.0, "CLS": 0.25, "FCP": 3000.0, "TTFB": 1800.0, "FID": 300.0}

_NORMAL, _ERROR, _POOR = 0, 1, 2  # record kinds
_STATUS_CODE_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
_SPACE = 2**64
_WANTED = frozenset(
    {
        SAMPLE_RATE,
        SESSION_ID,
        ROUTE,
        APP,
        RELEASE,
        EVENT_NAME,
        "exception.type",
        "browser.web_vital.rating",
        "browser.web_vital.name",
        "browser.web_vital.value",
        "http.response.status_code",
        "http.status_code",
    }
)
_BUCKETS = 10  # sliding-window resolution: window / 10


# (record, its attributes, session id, app, route, release, kind, position of the record's
# own sample rate, the resource's sample rate)
_Item = tuple[Any, Any, str, str, str, str, int, int | None, float | None]


@dataclass(frozen=True)
class Boost:
    """A temporary raise of the rate (e.g. while an incident is open)."""

    app: str
    route: str | None
    release: str | None
    rate: float
    until: float  # Unix seconds

    def matches(self, app: str, route: str, release: str) -> bool:
        return (
            self.app == app
            and (self.route is None or self.route == route)
            and (self.release is None or self.release == release)
        )


@dataclass
class SampleStats:
    """What the processor did since it started (records)."""

    seen: int = 0
    kept_sampled: int = 0  # kept by the session hash
    kept_error: int = 0  # error records, rate 1
    kept_poor_vital: int = 0  # web vitals rated poor, rate 1
    kept_error_session: int = 0  # later records of a session that had an error, rate 1
    kept_unkeyed: int = 0  # no session id and no trace id, rate 1
    dropped: int = 0


@dataclass
class _Traffic:
    """Events per (app, route) in a sliding window of `_BUCKETS` buckets."""

    buckets: deque[list[int]] = field(default_factory=deque)  # [bucket number, count]
    total: int = 0


def _text(attributes: Any, index: int | None) -> str | None:
    """The value at `index` as text (None when absent or neither string nor scalar)."""
    return None if index is None else scalar_text(attributes[index].value)


def _walked_text(attributes: Any, texts: list[str], index: int | None) -> str | None:
    """`_text`, from the walk's `texts` where the value is a non-empty string."""
    if index is None:
        return None
    return texts[index] or scalar_text(attributes[index].value)


def _text_or(value: Any, default: str) -> str:
    """`_text(…) or default` for a value that is there."""
    return value.string_value or scalar_text(value) or default


def _number(attributes: Any, index: int | None) -> float | None:
    return None if index is None else _value_number(attributes[index].value)


def _value_number(value: Any) -> float | None:
    kind = value.WhichOneof("value")
    if kind in ("int_value", "double_value"):
        return float(getattr(value, kind))
    if kind == "string_value":
        try:
            return float(value.string_value)
        except ValueError:
            return None
    return None


def _make_plan(shape: Keys) -> dict[str, int]:
    """Positions of the keys the decision reads (the last occurrence, as a dict keeps)."""
    return {key: index for key, index in last_positions(shape).items() if key in _WANTED}


def _format_rate(rate: float) -> str:
    return f"{rate:.6g}"


def _quantize(rate: float) -> float:
    # The decision and the recorded attribute use the same 6-significant-digit rate, so the
    # weight 1 / rate read back from the attribute is the probability actually applied.
    return float(_format_rate(rate))


class SampleProcessor:
    """See README.md. Thread-safe; `boost()` may be called from another thread."""

    def __init__(self, config: SampleConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.stats = SampleStats()
        self._clock = clock
        self._seed = config.hash_seed.encode()
        self._apps = config.apps
        self._routes = config.routes
        self._boosts: tuple[Boost, ...] = ()
        self._error_sessions: OrderedDict[str, None] = OrderedDict()
        self._traffic: OrderedDict[tuple[str, str], _Traffic] = OrderedDict()
        self._lock = threading.Lock()
        self._plan = PlanCache(_make_plan).get

    # -- public API ------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """What it did since start-up, by outcome, for the server's /metrics."""
        return {name: int(value) for name, value in vars(self.stats).items()}

    def process(self, signal: Signal, request: Any) -> Any:
        """Drop the records of unsampled sessions from a logs or traces request, in place.

        Metrics pass through unchanged (they do not feed the rum_* facts).
        """
        if RequestView.supports(signal):
            self.process_view(RequestView(signal, request))
        return request

    def process_view(self, view: RequestView) -> None:
        """Sample a logs or traces request read by the pipeline (see request_view)."""
        with self._lock:
            now = self._clock()
            if self._boosts:
                self._boosts = tuple(b for b in self._boosts if b.until > now)
            scopes, traffic = self._classify(view)
            if self.config.adaptive.enabled:
                self._count(traffic, now)
            decide = _Decider(self, now)
            for scope, items in scopes:
                scope.delete(
                    [index for index, item in enumerate(items) if not decide(scope, index, *item)]
                )
        view.prune_empty()

    def boost(
        self,
        app: str,
        route: str | None = None,
        release: str | None = None,
        *,
        rate: float,
        until: float | datetime,
    ) -> Boost:
        """Raise the rate of `app` (optionally one route and/or release) until `until`.

        The effective rate is the highest of the matching boosts and the configured rate;
        an expired boost is forgotten. `until` is Unix seconds or an aware datetime.
        """
        if not app:
            raise ValueError("boost: app must not be empty")
        if not 0 < rate <= 1:
            raise ValueError(f"boost: rate must be in (0, 1], got {rate}")
        deadline = until.timestamp() if isinstance(until, datetime) else float(until)
        added = Boost(app, route, release, _quantize(rate), deadline)
        with self._lock:
            self._boosts = (*self._boosts, added)
        return added

    def replace_boosts(self, boosts: Iterable[Boost]) -> None:
        """Make `boosts` the whole set (e.g. the routes the insight service lists now)."""
        replacement = tuple(boosts)
        with self._lock:
            self._boosts = replacement

    def clear_boosts(self) -> None:
        """Forget every boost (e.g. when the incident closed early)."""
        with self._lock:
            self._boosts = ()

    def active_boosts(self) -> tuple[Boost, ...]:
        now = self._clock()
        return tuple(b for b in self._boosts if b.until > now)

    def rate_for(self, app: str, route: str = "", release: str = "") -> float:
        """The session rate a record of this app/route/release gets now."""
        with self._lock:
            return self._rate(app, route, release, self._clock())

    def keeps(self, key: str | bytes, rate: float) -> bool:
        """Whether a session (or trace) id is kept at `rate`: the same on every replica."""
        return self._hash(key.encode() if isinstance(key, str) else key) < int(rate * _SPACE)

    # -- internals -------------------------------------------------------------------------

    def _hash(self, key: bytes) -> int:
        digest = hashlib.blake2b(key, digest_size=8, key=self._seed).digest()
        return int.from_bytes(digest, "big")

    def _classify(
        self, view: RequestView
    ) -> tuple[list[tuple[ScopeView, list[_Item]]], Counter[tuple[str, str]]]:
        """Pass 1: classify every record and learn the error sessions of the request first,
        so the order of records within a request does not matter; count traffic."""
        remember = bool(self.config.error_sessions)
        spans = view.signal is TRACES
        scopes: list[tuple[ScopeView, list[_Item]]] = []
        traffic: Counter[tuple[str, str]] = Counter()
        count = self.config.adaptive.enabled  # traffic feeds only the adaptive rate
        plans = self._plan
        for resource in view.resources:
            res = resource.attributes
            # The last occurrence of a repeated key counts, as it would in a dict.
            res_plan = self._plan(resource.shape)
            app = _text(res, res_plan.get(APP)) or ""
            release = _text(res, res_plan.get(RELEASE)) or ""
            res_session = _text(res, res_plan.get(SESSION_ID)) or ""
            res_route = _text(res, res_plan.get(ROUTE)) or ""
            res_rate = _number(res, res_plan.get(SAMPLE_RATE))
            for scope in resource.scopes:
                items: list[_Item] = []
                shapes, attributes, walked = scope.shapes, scope.attributes, scope.texts
                for index, record in enumerate(scope.records):
                    plan = plans(shapes[index])
                    attrs, texts = attributes[index], walked[index]
                    at = plan.get(SESSION_ID)
                    session = (
                        res_session
                        if at is None
                        else texts[at] or _text_or(attrs[at].value, res_session)
                    )
                    at = plan.get(ROUTE)
                    route = (
                        res_route
                        if at is None
                        else texts[at] or _text_or(attrs[at].value, res_route)
                    )
                    if spans:
                        kind = _span_kind(record, attrs, plan)
                    else:
                        kind = _log_kind(record, attrs, texts, plan)
                    if kind == _ERROR and session and remember:
                        self._remember_error_session(session)
                    if count:
                        traffic[(app, route)] += 1
                    own_rate = plan.get(SAMPLE_RATE)
                    items.append(
                        (record, attrs, session, app, route, release, kind, own_rate, res_rate)
                    )
                scopes.append((scope, items))
        return scopes, traffic

    def _rate(self, app: str, route: str, release: str, now: float) -> float:
        app_rates = self._apps.get(app)
        if app_rates is not None and route in app_rates.routes:
            rate = app_rates.routes[route]
        elif route in self._routes:
            rate = self._routes[route]
        elif app_rates is not None and app_rates.rate is not None:
            rate = app_rates.rate
        else:
            rate = self.config.rate
        if self.config.adaptive.enabled:
            rate = min(rate, self._adaptive_rate(app, route, now))
        for boost in self._boosts:
            if boost.until > now and boost.matches(app, route, release):
                rate = max(rate, boost.rate)
        return _quantize(rate)

    def _adaptive_rate(self, app: str, route: str, now: float) -> float:
        adaptive = self.config.adaptive
        traffic = self._traffic.get((app, route))
        if traffic is None:
            return 1.0
        self._expire(traffic, now)
        if not traffic.total:
            return 1.0
        observed = traffic.total / adaptive.window_seconds
        return min(1.0, max(adaptive.floor, adaptive.target_events_per_second / observed))

    def _count(self, traffic: Counter[tuple[str, str]], now: float) -> None:
        adaptive = self.config.adaptive
        bucket = int(now / (adaptive.window_seconds / _BUCKETS))
        for key, count in traffic.items():
            entry = self._traffic.get(key)
            if entry is None:
                entry = self._traffic[key] = _Traffic()
                while len(self._traffic) > adaptive.max_routes:
                    self._traffic.popitem(last=False)
            else:
                self._traffic.move_to_end(key)
            if entry.buckets and entry.buckets[-1][0] == bucket:
                entry.buckets[-1][1] += count
            else:
                entry.buckets.append([bucket, count])
            entry.total += count
            self._expire(entry, now)

    def _expire(self, traffic: _Traffic, now: float) -> None:
        oldest = int(now / (self.config.adaptive.window_seconds / _BUCKETS)) - _BUCKETS + 1
        while traffic.buckets and traffic.buckets[0][0] < oldest:
            traffic.total -= traffic.buckets.popleft()[1]

    def _remember_error_session(self, session: str) -> None:
        sessions = self._error_sessions
        if session in sessions:
            sessions.move_to_end(session)
            return
        sessions[session] = None
        if len(sessions) > self.config.error_sessions:
            sessions.popitem(last=False)


class _Decider:
    """Pass 2: keep or drop one record, and stamp the rate of a kept one."""

    def __init__(self, processor: SampleProcessor, now: float) -> None:
        self._p = processor
        self._now = now
        config = processor.config
        self._keep_errors = config.keep_errors
        self._keep_poor = config.keep_poor_vitals
        self._without_session = config.without_session
        self._error_sessions = processor._error_sessions
        self._stats = processor.stats
        # (app, route, release) → (rate, hash threshold); key → hash
        self._rates: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._hashes: dict[bytes, int] = {}

    def __call__(
        self,
        scope: ScopeView,
        index: int,
        record: Any,
        attrs: Any,
        session: str,
        app: str,
        route: str,
        release: str,
        kind: int,
        own_rate: int | None,
        res_rate: float | None,
    ) -> bool:
        stats = self._stats
        stats.seen += 1
        rate = 1.0
        if kind == _ERROR and self._keep_errors:
            stats.kept_error += 1
        elif kind == _POOR and self._keep_poor:
            stats.kept_poor_vital += 1
        elif session and session in self._error_sessions:
            stats.kept_error_session += 1
        else:
            key = session.encode() if session else _trace_key(record, self._without_session)
            if key is None:
                stats.kept_unkeyed += 1
            else:
                rate_key = (app, route, release)
                known = self._rates.get(rate_key)
                if known is None:
                    rate = self._p._rate(app, route, release, self._now)
                    known = self._rates[rate_key] = (rate, int(rate * _SPACE))
                rate, threshold = known
                hashed = self._hashes.get(key)
                if hashed is None:
                    hashed = self._hashes[key] = self._p._hash(key)
                if hashed >= threshold:
                    stats.dropped += 1
                    return False
                stats.kept_sampled += 1
        _set_rate(scope, index, attrs, rate, own_rate, res_rate)
        return True


def _log_kind(record: Any, attrs: Any, texts: list[str], plan: dict[str, int]) -> int:
    name = record.event_name or _walked_text(attrs, texts, plan.get(EVENT_NAME)) or ""
    if name == EXCEPTION_EVENT or (not name and "exception.type" in plan):
        return _ERROR  # the rum_errors view's rule for log records
    if name == WEB_VITAL_EVENT:
        rating = _walked_text(attrs, texts, plan.get("browser.web_vital.rating"))
        if rating:
            return _POOR if rating.lower() == "poor" else _NORMAL
        vital = (_text(attrs, plan.get("browser.web_vital.name")) or "").upper()
        value = _number(attrs, plan.get("browser.web_vital.value"))
        threshold = POOR_ABOVE.get(vital)
        if threshold is not None and value is not None and value > threshold:
            return _POOR
    return _NORMAL


def _span_kind(span: Any, attrs: Any, plan: dict[str, int]) -> int:
    if span.status.code == _STATUS_CODE_ERROR:
        return _ERROR
    status_at = plan.get("http.response.status_code")
    if status_at is None:
        status_at = plan.get("http.status_code")
    status = _number(attrs, status_at)
    if status is not None and status >= 500:
        return _ERROR
    if any(event.name == EXCEPTION_EVENT for event in span.events):
        return _ERROR
    return _NORMAL


def _trace_key(record: Any, without_session: str) -> bytes | None:
    if without_session != "trace_id":
        return None
    trace_id = bytes(record.trace_id)
    return trace_id if trace_id.strip(b"\0") else None


def _set_rate(
    scope: ScopeView,
    index: int,
    attrs: Any,
    rate: float,
    own_rate: int | None,
    res_rate: float | None,
) -> None:
    # A sender that sampled already (e.g. sdk-js `sampleRate`) set its rate (on the record,
    # else on the resource); the record was kept with the product of both probabilities.
    value = None if own_rate is None else attrs[own_rate].value
    existing = res_rate if value is None else _value_number(value)
    if existing is not None and 0 < existing < 1:
        rate *= existing
    text = _RATE_TEXTS.get(rate)
    if text is None:
        if len(_RATE_TEXTS) >= _RATE_TEXTS_CACHED:
            _RATE_TEXTS.clear()
        text = _RATE_TEXTS[rate] = _format_rate(rate)
    if value is not None:
        # Edited in place, found by the first pass: no second walk over the attributes.
        value.string_value = text  # (clears the oneof's other members)
        return
    scope.append_str(index, SAMPLE_RATE, text)


# Rates repeat (a few configured rates times the SDK's): formatted once each.
_RATE_TEXTS: dict[float, str] = {}
_RATE_TEXTS_CACHED = 1024
