"""Sending the demo traffic: OTLP/HTTP protobuf (gzip) with the standard library,
honouring `Retry-After` on 429/503 as the OTLP/HTTP specification asks."""

from __future__ import annotations

import gzip
import http.client
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from vitalsight.service.demo import (
    DEFAULT_MINUTES,
    DEFAULT_SEED,
    DEFAULT_SESSIONS_PER_MINUTE,
    DEFAULT_SESSIONS_PER_REQUEST,
    SDK_VERSION,
    DemoRequest,
    event_count,
    generate_demo,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 5
MAX_RETRY_AFTER_S = 30.0
API_KEY_HEADER = "x-vitalsight-key"  # what sdk-js sends (Options.apiKey)


class DemoSendError(Exception):
    """The receiver refused the demo traffic or could not be reached; the message says why."""


@dataclass
class DemoSummary:
    """What `send_demo()` sent and how the receiver answered."""

    requests: int = 0
    log_records: int = 0
    spans: int = 0
    bytes_sent: int = 0  # gzip-compressed request bodies
    retries: int = 0  # 429/503 answers and connection errors that were retried
    rejected: int = 0  # records the receiver reported as rejected (partial success)
    elapsed_s: float = 0.0
    first_timestamp_ns: int = 0
    last_timestamp_ns: int = 0

    @property
    def events(self) -> int:
        return self.log_records + self.spans

    def describe(self) -> str:
        """One line for the CLI: what was sent, over which time range, how it went."""
        span_s = (self.last_timestamp_ns - self.first_timestamp_ns) / 1e9
        text = (
            f"sent {self.events:,} events ({self.log_records:,} log records, {self.spans:,} "
            f"spans) in {self.requests:,} requests, {self.bytes_sent / 1e6:.1f} MB gzip, "
            f"covering {span_s / 60:.0f} min of traffic, in {self.elapsed_s:.1f} s"
        )
        if self.retries:
            text += f"; {self.retries} retries"
        if self.rejected:
            text += f"; {self.rejected:,} records rejected by the receiver"
        return text


def encode_request(request: DemoRequest) -> tuple[str, bytes]:
    """The OTLP/HTTP path and the gzip-compressed protobuf body of a request."""
    path = "/v1/logs" if isinstance(request, ExportLogsServiceRequest) else "/v1/traces"
    return path, gzip.compress(request.SerializeToString(), compresslevel=6, mtime=0)


def send_demo(
    endpoint: str,
    *,
    api_key: str | None = None,
    seed: int = DEFAULT_SEED,
    minutes: int = DEFAULT_MINUTES,
    sessions_per_minute: int = DEFAULT_SESSIONS_PER_MINUTE,
    start_ns: int | None = None,
    sessions_per_request: int = DEFAULT_SESSIONS_PER_REQUEST,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    on_request: Callable[[DemoSummary], None] | None = None,
) -> DemoSummary:
    """Generate demo traffic (see `generate_demo`) and post it to an OTLP/HTTP receiver.

    Args:
        endpoint: base URL of the receiver, e.g. `http://127.0.0.1:4318`; requests go to
            `{endpoint}/v1/logs` and `{endpoint}/v1/traces`.
        api_key: sent as the `x-vitalsight-key` header, as sdk-js does.
        timeout_s: socket timeout per request.
        max_retries: retries per request after 429/503 (waiting `Retry-After`, at most
            30 s) or a connection error (exponential backoff).
        on_request: called with the running summary after each accepted request (progress).

    Returns:
        Counts of what was accepted. Raises `DemoSendError` when the receiver answers
        another error status (a bad key or request is the same for every request) or stays
        unreachable or busy after `max_retries`.
    """
    summary = DemoSummary()
    started = time.monotonic()
    with Poster(endpoint, api_key=api_key, timeout_s=timeout_s) as poster:
        for request in generate_demo(
            seed=seed,
            minutes=minutes,
            sessions_per_minute=sessions_per_minute,
            start_ns=start_ns,
            sessions_per_request=sessions_per_request,
        ):
            path, body = encode_request(request)
            response, retries = poster.post(path, body, max_retries=max_retries)
            summary.retries += retries
            summary.requests += 1
            summary.bytes_sent += len(body)
            count = event_count(request)
            if isinstance(request, ExportLogsServiceRequest):
                summary.log_records += count
                summary.rejected += _rejected_logs(response)
            else:
                summary.spans += count
                summary.rejected += _rejected_spans(response)
            _track_time(summary, request)
            if on_request is not None:
                on_request(summary)
    summary.elapsed_s = time.monotonic() - started
    return summary


def _track_time(summary: DemoSummary, request: DemoRequest) -> None:
    if isinstance(request, ExportLogsServiceRequest):
        times: Iterable[int] = (
            r.time_unix_nano
            for rl in request.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        )
    else:
        times = (
            s.start_time_unix_nano
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        )
    for t in times:
        if not summary.first_timestamp_ns or t < summary.first_timestamp_ns:
            summary.first_timestamp_ns = t
        summary.last_timestamp_ns = max(summary.last_timestamp_ns, t)


def _rejected_logs(body: bytes) -> int:
    try:
        return int(ExportLogsServiceResponse.FromString(body).partial_success.rejected_log_records)
    except Exception:  # a JSON or empty body: nothing to report
        return 0


def _rejected_spans(body: bytes) -> int:
    try:
        return int(ExportTraceServiceResponse.FromString(body).partial_success.rejected_spans)
    except Exception:
        return 0


def retry_after_seconds(value: str | None, *, default: float = 1.0) -> float:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date),
    bounded to [0, 30]."""
    if not value:
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class Poster:
    """One keep-alive HTTP connection to the receiver, reopened after errors."""

    def __init__(self, endpoint: str, *, api_key: str | None, timeout_s: float) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._query = f"?{parts.query}" if parts.query else ""
        self._timeout = timeout_s
        self._headers = {
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
            "Accept": "application/x-protobuf",
            "User-Agent": f"vitalsight-demo/{SDK_VERSION}",
        }
        if api_key:
            self._headers[API_KEY_HEADER] = api_key
        self._conn: http.client.HTTPConnection | None = None
        self.endpoint = endpoint

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def post(self, path: str, body: bytes, *, max_retries: int) -> tuple[bytes, int]:
        """POST and return (response body, retries used)."""
        url = f"{self._prefix}{path}{self._query}"
        retries = 0
        backoff = 0.25
        while True:
            try:
                conn = self._connection()
                conn.request("POST", url, body=body, headers=self._headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if retries >= max_retries:
                    raise DemoSendError(f"cannot reach {self.endpoint}{path}: {exc}") from exc
                retries += 1
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if 200 <= response.status < 300:
                return payload, retries
            if response.status in (429, 503) and retries < max_retries:
                wait = retry_after_seconds(response.getheader("Retry-After"))
                logger.info("receiver busy (%d), retrying in %.1f s", response.status, wait)
                retries += 1
                time.sleep(wait)
                continue
            detail = payload[:300].decode("utf-8", "replace").strip()
            raise DemoSendError(
                f"{self.endpoint}{path} answered {response.status} {response.reason}"
                + (f": {detail}" if detail else "")
            )
