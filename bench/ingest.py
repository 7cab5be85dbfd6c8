"""Ingest benchmark: `vitalsight serve` on one core, fed OTLP/HTTP protobuf by load processes.

Measures, in one run:

  pipeline   events stored per CPU second of the server (the sustained rate of one core,
             robust to neighbours on a shared machine), events/s through the pipeline
             during the window, acknowledged and stored end to end; p50/p99
             acknowledgement latency, peak RSS and CPU use;
  raw (a)    protobuf decode only (`ExportXServiceRequest.FromString`) over the same
             payloads, in-process on the server's core;
  raw (b)    store insert only (`ChdbStore.insert` of pre-encoded batches of the server's
             flush size) in a subprocess on the server's core (chDB: one directory per
             process);
             both per CPU second, as the pipeline's figure: on a shared machine a
             wall-clock rate measures the neighbours too;
  ratio      pipeline / min(raw a, raw b);

and prints them next to the targets. Nothing is asserted: timings depend on the machine.
All traffic goes to 127.0.0.1. See bench/README.md.

    /work/venv/bin/python bench/ingest.py                 # ~45 s in all
    /work/venv/bin/python bench/ingest.py --duration 120  # longer steady state
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import importlib
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from vitalsight.exporters.batch import TableRows
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_request
from vitalsight.exporters.schema import migrate
from vitalsight.service.config import LimitsConfig
from vitalsight.service.demo import event_count, generate_demo
from vitalsight.service.serve_process import ServeProcess

TARGET_EVENTS_PER_MIN = 1_000_000
AIM_EVENTS_PER_MIN = 2_000_000
TARGET_RAW_RATIO = 0.5
TARGET_P99_MS = 100.0
TARGET_PROCESSOR_COST = 0.30
TARGET_RSS_MB = 400.0

QUERY_USER = "bench"
QUERY_PASSWORD = "bench-password"
HOST = "127.0.0.1"
_DECODERS: dict[str, Any] = {
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/traces": ExportTraceServiceRequest,
}


@dataclass
class Payload:
    path: str  # /v1/logs or /v1/traces
    raw: bytes  # serialized protobuf
    body: bytes  # gzip of raw: what is sent
    events: int


# --- payloads ------------------------------------------------------------------------------


def build_payloads(*, seed: int, sessions: int, sessions_per_request: int) -> list[Payload]:
    """Demo traffic, serialized and gzip-compressed once, before anything is timed."""
    sessions_per_minute = 50
    minutes = max(1, sessions // sessions_per_minute)
    payloads = []
    for request in generate_demo(
        seed=seed,
        minutes=minutes,
        sessions_per_minute=sessions_per_minute,
        sessions_per_request=sessions_per_request,
    ):
        path = "/v1/logs" if isinstance(request, ExportLogsServiceRequest) else "/v1/traces"
        raw = request.SerializeToString()
        payloads.append(Payload(path, raw, gzip.compress(raw, 6), event_count(request)))
    return payloads


# --- raw limit (a): decode ------------------------------------------------------------------


def measure_decode(
    payloads: list[Payload], *, core: int | None, seconds: float
) -> dict[str, float]:
    """Protobuf decode only, in this process, pinned to `core`; and gunzip + decode."""
    previous = _pin_self(core)
    try:
        decode = _rate(payloads, seconds, lambda p: _DECODERS[p.path].FromString(p.raw))
        gunzip_decode = _rate(
            payloads, seconds, lambda p: _DECODERS[p.path].FromString(gzip.decompress(p.body))
        )
    finally:
        _restore_affinity(previous)
    return {"decode": decode, "gunzip_decode": gunzip_decode}


def measure_encode(payloads: list[Payload], *, core: int | None, seconds: float) -> float:
    """Decode + flatten to column batches (the server's Python work before the queue)."""
    previous = _pin_self(core)
    try:

        def work(p: Payload) -> None:
            encode_request(_DECODERS[p.path].FromString(p.raw))

        return _rate(payloads, seconds, work)
    finally:
        _restore_affinity(previous)


def _rate(payloads: list[Payload], seconds: float, work: Any) -> float:
    """Events per CPU second of `work` (this process is single-threaded here), run for
    `seconds` of wall clock."""
    events = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        for payload in payloads:
            work(payload)
            events += payload.events
        if time.perf_counter() - started >= seconds:
            return events / (time.process_time() - cpu_started)


def _pin_self(core: int | None) -> set[int] | None:
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    return previous


def _restore_affinity(previous: set[int] | None) -> None:
    if previous is not None:
        os.sched_setaffinity(0, previous)


# --- raw limit (b): store insert (subprocess) -----------------------------------------------


def insert_worker(args: argparse.Namespace) -> None:
    """Subprocess: pre-encode flush-size Arrow batches (as the writer queues them), then time
    ChdbStore.insert alone."""
    payloads: list[Payload] = pickle.loads(Path(args.payloads).read_bytes())
    encoded = []
    for p in payloads:
        request = _DECODERS[p.path].FromString(p.raw)
        encoded += [batch.to_rows() for batch in encode_request(request).batches]
    # Under load the writer inserts flush-size batches of the busiest table (otel_logs):
    # repeat the payloads until it has two, keeping the payloads' mix of logs and spans.
    per_table: dict[str, list[TableRows]] = {}
    while max((sum(p.row_count for p in parts) for parts in per_table.values()), default=0) < (
        2 * args.flush_rows
    ):
        for batch in encoded:
            per_table.setdefault(batch.table, []).append(batch)
    # Batches of the writer's flush size, as the server inserts them under load.
    batches = [
        part
        for parts in per_table.values()
        for part in _split(TableRows.concat(parts), args.flush_rows)
    ]
    store = ChdbStore(args.data_dir)
    try:
        migrate(store)
        store.insert(batches[0])  # warm up: first-insert costs (parts, MVs) are not the rate
        events = 0
        # CPU seconds of the whole process: chDB's threads (views, parts) included.
        started, cpu_started = time.perf_counter(), time.process_time()
        while time.perf_counter() - started < args.seconds:
            for batch in batches:
                store.insert(batch)
                events += batch.row_count
        cpu = time.process_time() - cpu_started
    finally:
        store.close()
    print(json.dumps({"events": events, "cpu_seconds": cpu, "batch_rows": args.flush_rows}))


def _split(batch: TableRows, rows: int) -> list[TableRows]:
    return [
        TableRows(batch.table, batch.rows.slice(i, rows)) for i in range(0, batch.row_count, rows)
    ]


def measure_insert(
    payload_file: Path, *, core: int | None, seconds: float, flush_rows: int, workdir: Path
) -> float:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "insert",
        "--payloads",
        str(payload_file),
        "--data-dir",
        str(workdir / "insert-only"),
        "--seconds",
        str(seconds),
        "--flush-rows",
        str(flush_rows),
    ]
    out = subprocess.run(
        pinned(command, None if core is None else {core}),
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["events"]) / float(result["cpu_seconds"])


def pinned(command: list[str], cores: set[int] | None) -> list[str]:
    """`command` run on `cores` only (`taskset -c`), or unpinned where taskset is missing."""
    if not cores:
        return command
    taskset = shutil.which("taskset")
    if taskset is None:
        print("warning: taskset not found; processes are not pinned", file=sys.stderr)
        return command
    return [taskset, "-c", ",".join(str(c) for c in sorted(cores)), *command]


# --- load workers (subprocesses) ------------------------------------------------------------


def load_worker(args: argparse.Namespace) -> None:
    """Subprocess: one keep-alive connection from `start` for warmup+duration: closed loop,
    or paced to `rate` events/min across all loaders (latency then counts from each
    request's scheduled time, so a stalled server cannot hide its backlog)."""
    payloads: list[Payload] = pickle.loads(Path(args.payloads).read_bytes())
    host, port = args.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    measure_from = args.start + args.warmup
    stop_at = measure_from + args.duration
    latencies: list[float] = []
    acked_window = acked_total = refused = errors = 0
    index = args.index * 7  # workers start at different payloads
    while time.time() < args.start:
        time.sleep(0.001)
    per_loader_eps = args.rate / 60 / args.loaders if args.rate else 0.0
    scheduled = time.time()
    while time.time() < stop_at:
        p = payloads[index % len(payloads)]
        index += 1
        if per_loader_eps:
            scheduled += p.events / per_loader_eps
            time.sleep(max(0.0, scheduled - time.time()))
        sent_at = time.time()
        t0 = time.perf_counter() - (max(0.0, sent_at - scheduled) if per_loader_eps else 0.0)
        try:
            conn.request("POST", p.path, body=p.body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            time.sleep(0.05)
            continue
        latency_ms = (time.perf_counter() - t0) * 1000
        if 200 <= response.status < 300:
            acked_total += p.events
            if sent_at >= measure_from and time.time() <= stop_at:
                acked_window += p.events
                latencies.append(latency_ms)
        elif response.status in (429, 503):
            refused += 1
            time.sleep(float(response.getheader("Retry-After") or 1))
        else:
            errors += 1
    conn.close()
    Path(args.out).write_text(
        json.dumps(
            {
                "acked_window": acked_window,
                "acked_total": acked_total,
                "refused": refused,
                "errors": errors,
                "latencies_ms": latencies,
            }
        )
    )


# --- the server -----------------------------------------------------------------------------


def start_server(
    args: argparse.Namespace, data_dir: Path, config: Path | None = None
) -> ServeProcess:
    extra = ["--config", str(config)] if config else []
    for flag, value in (
        ("--flush-rows", args.flush_rows),
        ("--flush-interval", args.flush_interval),
        ("--queue-rows", args.queue_rows),
    ):
        if value is not None:
            extra += [flag, str(value)]
    return ServeProcess(
        data_dir,
        extra,
        query_user=QUERY_USER,
        query_password=QUERY_PASSWORD,
        wrapper=pinned([], {args.server_core}),
        log_level="WARNING",
    ).start()


def stored_events(server: ServeProcess) -> int:
    host, port = server.query_url.removeprefix("http://").rsplit(":", 1)
    client = clickhouse_connect.get_client(
        host=host, port=int(port), username=QUERY_USER, password=QUERY_PASSWORD
    )
    try:
        rows = client.query(
            "SELECT (SELECT count() FROM otel_logs) + (SELECT count() FROM otel_traces)"
        ).result_rows
        return int(rows[0][0])
    finally:
        client.close()


@dataclass
class WriterStats:
    """From the server's /metrics: what its writer inserted, in how many inserts, how long."""

    rows: int = 0
    inserts: int = 0
    seconds: float = 0.0

    @property
    def mean_batch_rows(self) -> int:
        return round(self.rows / self.inserts) if self.inserts else 0


def metric_totals(server: ServeProcess) -> dict[str, float]:
    """The server's /metrics, each sample name summed over its labels."""
    host, port = server.http_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def backlog(server: ServeProcess) -> int:
    """Items acknowledged but not yet written: the ingest queue's plus the writer's."""
    totals = metric_totals(server)
    return int(
        totals.get("vitalsight_ingest_queue_items", 0) + totals.get("vitalsight_queue_rows", 0)
    )


def processed_items(server: ServeProcess) -> int:
    """Items the server's pipeline has taken through the processors and the encoding and
    handed to the writer (`vitalsight_received_items_total`, counted after the pipeline)."""
    return int(metric_totals(server).get("vitalsight_received_items_total", 0))


def writer_stats(server: ServeProcess) -> WriterStats:
    totals = metric_totals(server)
    return WriterStats(
        rows=int(totals.get("vitalsight_written_rows_total", 0)),
        inserts=int(totals.get("vitalsight_flush_seconds_count", 0)),
        seconds=totals.get("vitalsight_flush_seconds_sum", 0.0),
    )


def proc_status_kb(pid: int, *names: str) -> dict[str, int]:
    """The kB fields `names` of /proc/PID/status (e.g. VmHWM); empty without /proc."""
    status = Path(f"/proc/{pid}/status")
    fields = (
        (line.partition(":") for line in status.read_text().splitlines()) if status.exists() else ()
    )
    return {name: int(value.split()[0]) for name, _, value in fields if name in names}


def peak_rss_kb(pid: int) -> int:
    """The server's peak RSS: `VmHWM` from /proc (the kernel's high-water mark); without
    /proc, psutil's current RSS (a lower bound)."""
    if hwm := proc_status_kb(pid, "VmHWM"):
        return hwm["VmHWM"]
    try:
        psutil: Any = importlib.import_module("psutil")  # optional
    except ImportError:
        return 0
    return int(psutil.Process(pid).memory_info().rss) // 1024


def rss_split_kb(pid: int) -> tuple[int, int]:
    """(anonymous, file-backed) resident kB of `pid` now; (0, 0) without /proc. File-backed
    pages are mostly chDB's library code, mapped from disk and reclaimable; anonymous pages
    are the heap: queues, batches, chDB's working memory."""
    kb = proc_status_kb(pid, "RssAnon", "RssFile")
    return kb.get("RssAnon", 0), kb.get("RssFile", 0)


@dataclass
class MemoryPeaks:
    """The largest anonymous and file-backed RSS seen while sampling (each at its own time)."""

    anon_kb: int = 0
    file_kb: int = 0


class MemorySampler:
    """Samples `rss_split_kb` every `interval` s in a thread: VmHWM gives the total's peak
    but not what it is made of."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peaks = MemoryPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> MemoryPeaks:
        self._thread.start()
        return self.peaks

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            anon, file = rss_split_kb(self.pid)
            self.peaks.anon_kb = max(self.peaks.anon_kb, anon)
            self.peaks.file_kb = max(self.peaks.file_kb, file)


def core_busy_seconds(core: int) -> float:
    """CPU seconds core `core` spent on anything but idle (and I/O wait), all processes;
    with the server's CPU seconds it tells what neighbours took of the server's core."""
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == f"cpu{core}":
            ticks = [int(value) for value in fields[1:9]]
            return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the run --------------------------------------------------------------------------------


@dataclass
class PipelineResult:
    acked_window: int
    processed_window: int  # taken through the pipeline during the window
    acked_total: int
    stored_total: int  # of those, stored (less what the processors dropped)
    window_s: float
    stored_after_s: float | None  # seconds from load start until everything acked was stored
    latencies_ms: list[float]
    refused: int
    errors: int
    peak_rss_kb: int
    idle_rss_kb: tuple[int, int]  # (anonymous, file-backed) after start-up, before the load
    peaks: MemoryPeaks
    server_cpu: float  # share of one core during the window
    neighbours_cpu: float  # share of the server's core other processes took in the window
    cpu_run_s: float  # the server's CPU seconds from load start until all was stored
    writer: WriterStats

    @property
    def acked_rate(self) -> float:
        return self.acked_window / self.window_s

    @property
    def stored_rate(self) -> float:
        """Everything acknowledged over the time until it was all stored: queues that filled
        during the window (the ingest queue acknowledges on enqueue) are paid back here."""
        return self.stored_total / self.stored_after_s if self.stored_after_s else float("nan")

    @property
    def per_cpu_second(self) -> float:
        """Events stored per CPU second the server spent receiving, processing and storing
        them (load start until all stored): what one core sustains, however busy the
        neighbours on a shared machine kept it, and whatever the queues did meanwhile."""
        return self.stored_total / self.cpu_run_s if self.stored_after_s else float("nan")

    @property
    def processed_rate(self) -> float:
        return self.processed_window / self.window_s

    @property
    def sustained_rate(self) -> float:
        """Events per CPU second of the server (`per_cpu_second`), else (nothing stored in
        time) the pipeline's rate during the window. Not the acknowledged rate: the ingest
        queue acknowledges on enqueue, and closed-loop loaders honouring Retry-After admit in
        bursts, so a window's admissions swing with the queue's level (up to
        `limits.queue_rows`, ~10 s of traffic)."""
        rate = self.per_cpu_second
        return self.processed_rate if math.isnan(rate) else rate


def run_pipeline(
    args: argparse.Namespace,
    payload_file: Path,
    workdir: Path,
    *,
    rate: float = 0.0,
    config: Path | None = None,
) -> PipelineResult:
    """One server, fresh data directory; closed-loop load, or paced at `rate` events/min;
    `config` is a serve configuration file (e.g. the processors to run)."""
    name = f"serve-{rate:.0f}-{config.stem if config else 'default'}"
    server = start_server(args, workdir / name, config)
    sampler = MemorySampler(server.pid)
    try:
        idle_rss = rss_split_kb(server.pid)
        peaks = sampler.start()
        baseline = stored_events(server)
        cpu_at_start = cpu_seconds(server.pid)
        start = time.time() + 1.0
        outs = [workdir / f"load-{i}.json" for i in range(args.loaders)]
        loaders = [
            subprocess.Popen(
                pinned(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        "load",
                        "--payloads",
                        str(payload_file),
                        "--url",
                        server.http_url,
                        "--start",
                        repr(start),
                        "--warmup",
                        str(args.warmup),
                        "--duration",
                        str(args.duration),
                        "--index",
                        str(i),
                        "--rate",
                        str(rate),
                        "--loaders",
                        str(args.loaders),
                        "--out",
                        str(out),
                    ],
                    args.loader_cores,
                )
            )
            for i, out in enumerate(outs)
        ]
        time.sleep(max(0.0, start + args.warmup - time.time()))
        cpu_at_window = cpu_seconds(server.pid)
        core_at_window = core_busy_seconds(args.server_core)
        processed_at_window = processed_items(server)
        time.sleep(max(0.0, start + args.warmup + args.duration - time.time()))
        cpu_window = cpu_seconds(server.pid) - cpu_at_window
        core_window = core_busy_seconds(args.server_core) - core_at_window
        processed_window = processed_items(server) - processed_at_window
        for loader in loaders:
            if loader.wait(120) != 0:
                raise RuntimeError("a load worker failed")
        results = [json.loads(out.read_text()) for out in outs]
        acked_total = sum(r["acked_total"] for r in results)
        stored_after = None
        stored_total = 0
        cpu_run = float("nan")
        deadline = time.time() + args.drain_timeout
        while time.time() < deadline:
            # Drained: nothing acknowledged is left queued or unwritten (records the
            # processors drop, e.g. dedup when two loaders replay one payload, never arrive).
            # /metrics is cheap; a count() through the query endpoint would cost the server
            # CPU on every poll.
            if backlog(server) == 0:
                stored_after = time.time() - start
                cpu_run = cpu_seconds(server.pid) - cpu_at_start
                stored_total = stored_events(server) - baseline
                break
            time.sleep(0.1)
        peak_rss = peak_rss_kb(server.pid)
        writer = writer_stats(server)
    finally:
        sampler.stop()
        code = server.stop()
    if code != 0:
        print("".join(server.output[-30:]), file=sys.stderr)
    return PipelineResult(
        acked_window=sum(r["acked_window"] for r in results),
        processed_window=processed_window,
        acked_total=acked_total,
        stored_total=stored_total,
        window_s=args.duration,
        stored_after_s=stored_after,
        latencies_ms=[lat for r in results for lat in r["latencies_ms"]],
        refused=sum(r["refused"] for r in results),
        errors=sum(r["errors"] for r in results),
        peak_rss_kb=peak_rss,
        idle_rss_kb=idle_rss,
        peaks=peaks,
        server_cpu=cpu_window / args.duration,
        neighbours_cpu=max(0.0, core_window - cpu_window) / args.duration,
        cpu_run_s=cpu_run,
        writer=writer,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _mark(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def report(
    *,
    args: argparse.Namespace,
    payloads: list[Payload],
    raw: dict[str, float],
    insert_rate: float,
    encode_rate: float,
    insert_batch_rows: int,
    result: PipelineResult,
    paced: PipelineResult | None,
    with_processors: PipelineResult | None = None,
) -> None:
    events = sum(p.events for p in payloads)
    body_bytes = sum(len(p.body) for p in payloads)
    sustained = result.sustained_rate
    limit = min(raw["decode"], insert_rate)
    ratio = sustained / limit
    p50 = percentile(result.latencies_ms, 0.5)
    p99 = percentile(result.latencies_ms, 0.99)
    rss_mb = result.peak_rss_kb / 1024
    slo = paced or result  # the latency target applies at the offered target rate

    print()
    print("vitalsight ingest benchmark")
    print(
        f"  payloads       {len(payloads)} OTLP/HTTP protobuf+gzip requests, {events:,} events "
        f"({events / len(payloads):,.0f}/request, {body_bytes / len(payloads) / 1024:,.0f} KiB "
        f"gzip, {sum(len(p.raw) for p in payloads) / events:,.0f} B/event raw)"
    )
    print(
        f"  host           {os.cpu_count()} cores; 1-min load average {args.load_before:.2f} "
        f"before the run (other work on the server's core skews every figure)"
    )
    print(
        f"  server         pinned to core {args.server_core}; loaders: {args.loaders} processes "
        f"on cores {sorted(args.loader_cores) if args.loader_cores else 'any'}; "
        f"warmup {args.warmup:g} s, window {args.duration:g} s"
    )
    print()
    print("  pipeline (vitalsight serve, one core)")
    _print_rates(result, sustained, args)
    print(
        f"    ack latency       p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
        f"({len(result.latencies_ms):,} requests; {result.refused} refused 429/503, "
        f"{result.errors} errors)"
    )
    print(
        f"    server            peak RSS {rss_mb:6.0f} MB   CPU {result.server_cpu:.0%} of one "
        f"core during the window (other processes took {result.neighbours_cpu:.0%} of it)"
    )
    _print_memory(result)
    if paced is not None:
        paced_rate = paced.acked_window / paced.window_s * 60
        print(
            f"    paced run         {args.paced_rate:,.0f} events/min offered, "
            f"{paced_rate:,.0f} acknowledged: ack p50 {percentile(paced.latencies_ms, 0.5):.1f} ms"
            f"   p99 {percentile(paced.latencies_ms, 0.99):.1f} ms   peak RSS "
            f"{paced.peak_rss_kb / 1024:.0f} MB ({paced.refused} refused; server CPU "
            f"{paced.server_cpu:.0%} of its core, other processes {paced.neighbours_cpu:.0%})"
        )
    if with_processors is not None:
        _print_processors_run(with_processors)
    w = result.writer
    if w.inserts:
        print(
            f"    server's writer   {w.inserts} inserts, {w.mean_batch_rows:,} rows each on "
            f"average, {w.seconds:.1f} s inserting ({w.rows / w.seconds:,.0f} rows/s while "
            "inserting)"
        )
    print()
    print("  raw limits (same payloads, same core; events per CPU second, as the sustained rate)")
    print(f"    (a) protobuf decode only   {raw['decode']:12,.0f} events/s")
    print(f"        gunzip + decode        {raw['gunzip_decode']:12,.0f} events/s  (information)")
    print(
        f"        decode + encode        {encode_rate:12,.0f} events/s  (information: the "
        "server's Python work per event)"
    )
    print(
        f"    (b) store insert only      {insert_rate:12,.0f} events/s  (ChdbStore.insert, "
        f"{insert_batch_rows:,}-row batches, materialized views included)"
    )
    print(f"    pipeline / min(a, b)       {ratio:12.0%}")
    print()
    print("  targets")
    print(
        f"    [{_mark(sustained * 60 >= TARGET_EVENTS_PER_MIN)}] sustained >= "
        f"{TARGET_EVENTS_PER_MIN:,} events/min on one core (aim {AIM_EVENTS_PER_MIN:,}): "
        f"{sustained * 60:,.0f}"
    )
    print(
        f"    [{_mark(ratio >= TARGET_RAW_RATIO)}] >= {TARGET_RAW_RATIO:.0%} of the raw limit: "
        f"{ratio:.0%}"
    )
    slo_p99 = percentile(slo.latencies_ms, 0.99)
    where = "at the paced rate" if paced else "at saturation"
    print(
        f"    [{_mark(slo_p99 < TARGET_P99_MS)}] p99 ack < {TARGET_P99_MS:.0f} ms {where}: "
        f"{slo_p99:.1f} ms"
    )
    print(
        f"    [{_mark(rss_mb < TARGET_RSS_MB)}] peak RSS < {TARGET_RSS_MB:.0f} MB: {rss_mb:.0f} MB"
    )
    if with_processors is not None:
        _print_processors_target(with_processors.sustained_rate, sustained, args)


def _print_memory(result: PipelineResult) -> None:
    idle_anon, idle_file = (kb / 1024 for kb in result.idle_rss_kb)
    print(
        f"    memory            idle before the load {idle_anon + idle_file:.0f} MB "
        f"({idle_anon:.0f} anonymous + {idle_file:.0f} file-backed); under load at most "
        f"{result.peaks.anon_kb / 1024:.0f} MB anonymous and {result.peaks.file_kb / 1024:.0f} MB "
        "file-backed (mostly chDB's library code, mapped from disk: the floor with the store "
        "in process)"
    )


def _print_processors_target(on: float, off: float, args: argparse.Namespace) -> None:
    kept = on / off if off else float("nan")
    print(
        f"    [{_mark(kept >= 1 - TARGET_PROCESSOR_COST)}] processors cost <= "
        f"{TARGET_PROCESSOR_COST:.0%} of throughput: on {on * 60:,.0f} events/min = "
        f"{kept:.0%} of off ({args.processors_config})"
    )


def _print_rates(result: PipelineResult, sustained: float, args: argparse.Namespace) -> None:
    ack_rate, stored_rate = result.acked_rate, result.stored_rate
    print(
        f"    sustained, 1 core {sustained:12,.0f} events/s  {sustained * 60:14,.0f} events/min"
        f"  (stored per server CPU second, {result.cpu_run_s:.1f} CPU s from load start "
        "until all was stored)"
    )
    processed = result.processed_rate
    print(
        f"    through pipeline  {processed:12,.0f} events/s  {processed * 60:14,.0f} events/min"
        "  (processed during the window, wall clock)"
    )
    print(f"    acknowledged      {ack_rate:12,.0f} events/s  {ack_rate * 60:14,.0f} events/min")
    if result.stored_after_s:
        print(
            f"    stored end to end {stored_rate:12,.0f} events/s  {stored_rate * 60:14,.0f} "
            f"events/min  ({result.acked_total:,} acked events all queryable "
            f"{result.stored_after_s:.1f} s after load start)"
        )
    else:
        print(
            f"    stored end to end  NOT all acknowledged events were queryable within "
            f"{args.drain_timeout:g} s of the end of load"
        )


def _print_processors_run(on: PipelineResult) -> None:
    print(
        f"    processors on     {on.sustained_rate * 60:,.0f} per CPU minute, "
        f"{on.processed_rate * 60:,.0f} through the pipeline, "
        f"{on.acked_rate * 60:,.0f} acknowledged, "
        f"{on.stored_rate * 60:,.0f} stored end to end events/min "
        f"({on.acked_total - on.stored_total:,} dropped by the processors); "
        f"{on.refused} refused 429/503; CPU {on.server_cpu:.0%} of one core"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=20.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=3.0, help="load before the window, s")
    parser.add_argument("--loaders", type=int, default=4, help="load processes (1 conn each)")
    parser.add_argument("--sessions", type=int, default=1000, help="demo sessions to encode")
    parser.add_argument(
        "--sessions-per-request",
        type=int,
        default=50,
        help="sessions per OTLP request (50 ≈ 1,300 events, a collector batch)",
    )
    parser.add_argument("--raw-seconds", type=float, default=5.0, help="time per raw limit, s")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument(
        "--flush-rows", type=int, default=None, help="serve --flush-rows (default: the server's)"
    )
    parser.add_argument("--flush-interval", type=float, default=None, help="serve --flush-interval")
    parser.add_argument("--queue-rows", type=int, default=None, help="serve --queue-rows")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=60.0,
        help="wait this long after the load for acked events to be stored",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=TARGET_EVENTS_PER_MIN,
        help="second run: offer this many events/min and measure ack latency there (0: skip)",
    )
    parser.add_argument(
        "--baseline-config",
        type=Path,
        default=Path(__file__).with_name("no-processors.yaml"),
        help="serve config of the saturated and paced runs (default: no processors)",
    )
    parser.add_argument(
        "--processors-config",
        type=Path,
        default=None,
        help="serve config with processors: a third run prints their throughput cost",
    )
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument(
        "--raw-only", action="store_true", help="measure the raw limits only (no server)"
    )
    # internal: the subprocess roles
    parser.add_argument("--worker", choices=("load", "insert"), help=argparse.SUPPRESS)
    parser.add_argument("--payloads", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:  # a subprocess, already pinned by the parent
        return args
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.server_core not in cores and cores:
        parser.error(f"--server-core {args.server_core} is not available (cores {cores})")
    if args.flush_rows is None:
        args.flush_rows = LimitsConfig().flush_rows
    others = set(cores) - {args.server_core}
    args.loader_cores = others or None  # a one-core machine: loaders share the server's core
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker == "load":
        load_worker(args)
        return
    if args.worker == "insert":
        insert_worker(args)
        return
    args.load_before = os.getloadavg()[0]
    if args.load_before > 0.5:
        print(
            f"warning: 1-min load average is {args.load_before:.2f}: other processes are "
            "running; the figures will be low and noisy",
            file=sys.stderr,
        )
    workdir = Path(tempfile.mkdtemp(prefix="vitalsight-bench-"))
    try:
        print(f"building payloads ({args.sessions} demo sessions) ...", flush=True)
        payloads = build_payloads(
            seed=args.seed, sessions=args.sessions, sessions_per_request=args.sessions_per_request
        )
        payload_file = workdir / "payloads.pickle"
        payload_file.write_bytes(pickle.dumps(payloads))
        if not args.loader_cores:
            print("warning: one core only; loaders share it with the server", file=sys.stderr)
        result = paced = with_processors = None
        batch_rows = args.flush_rows
        if not args.raw_only:
            print(
                f"pipeline: vitalsight serve + {args.loaders} loaders for "
                f"{args.warmup:g} + {args.duration:g} s ...",
                flush=True,
            )
            result = run_pipeline(args, payload_file, workdir, config=args.baseline_config)
            if args.paced_rate:
                print(f"paced: {args.paced_rate:,.0f} events/min offered ...", flush=True)
                paced = run_pipeline(
                    args, payload_file, workdir, rate=args.paced_rate, config=args.baseline_config
                )
            if args.processors_config:
                print(f"processors on: {args.processors_config} ...", flush=True)
                with_processors = run_pipeline(
                    args, payload_file, workdir, config=args.processors_config
                )
            # The writer inserts what piled up while it was busy, often more than flush-rows:
            # time the store at the batch size the server really used.
            batch_rows = result.writer.mean_batch_rows or args.flush_rows
        print("raw limit (a): protobuf decode ...", flush=True)
        raw = measure_decode(payloads, core=args.server_core, seconds=args.raw_seconds)
        encode_rate = measure_encode(payloads, core=args.server_core, seconds=args.raw_seconds)
        print(
            f"raw limit (b): store insert of {batch_rows:,}-row batches (subprocess) ...",
            flush=True,
        )
        insert_rate = measure_insert(
            payload_file,
            core=args.server_core,
            seconds=args.raw_seconds,
            flush_rows=batch_rows,
            workdir=workdir,
        )
        if result is None:
            print(
                f"(a) decode {raw['decode']:,.0f}/s, "
                f"gunzip+decode {raw['gunzip_decode']:,.0f}/s, "
                f"decode+encode {encode_rate:,.0f}/s, (b) insert {insert_rate:,.0f}/s "
                f"({sum(p.events for p in payloads):,} events in {len(payloads)} payloads)"
            )
            return
        report(
            args=args,
            payloads=payloads,
            raw=raw,
            insert_rate=insert_rate,
            encode_rate=encode_rate,
            insert_batch_rows=batch_rows,
            result=result,
            paced=paced if args.paced_rate else None,
            with_processors=with_processors,
        )
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
