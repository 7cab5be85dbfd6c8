"""`vitalsight serve`: receivers → pipeline → exporter → store, plus the query endpoint.

Start-up applies migrations and retention before any port opens, so a sender never gets
an acknowledgement for data the schema cannot hold. Shut-down closes the receivers first,
then processes every acknowledged request (the ingest queue), flushes every row, then closes
the store.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pyarrow as pa
from aiohttp import web

from vitalsight.exporters.exporter import ClickHouseExporter
from vitalsight.exporters.query_endpoint import QueryStore, create_query_app
from vitalsight.exporters.retention import apply_retention
from vitalsight.exporters.schema import migrate
from vitalsight.exporters.server_store import ClickHouseServerStore
from vitalsight.exporters.store import Store
from vitalsight.exporters.writer import BatchWriter
from vitalsight.processors.base import Processor
from vitalsight.processors.pipeline import IngestPipeline
from vitalsight.processors.registry import ProcessorStatsCollector, build_processors
from vitalsight.processors.sample import SampleProcessor
from vitalsight.processors.sample.boost_feed import BoostFeed
from vitalsight.receivers.client_address import ClientAddressPolicy
from vitalsight.receivers.ingest_queue import IngestQueue
from vitalsight.receivers.otlp_grpc import create_grpc_server
from vitalsight.receivers.otlp_http import create_otlp_app
from vitalsight.service.config import QUERY_PASSWORD_FILE, ServeConfig
from vitalsight.service.selfmetrics import SelfMetrics

logger = logging.getLogger(__name__)


GRPC_GRACE_S = 5.0
GC_GEN0_THRESHOLD = 20_000
# The processor that turns the client address into coarse geo and then drops it; without it
# in the pipeline the address is never stamped, so no IP is stored.
ADDRESS_CONSUMER = "enrich"


@dataclass(frozen=True)
class Listening:
    otlp_http: str
    otlp_grpc: str
    query: str | None  # None with a ClickHouse server: query the server itself


def open_store(config: ServeConfig) -> Store:
    """The writer's store: a ClickHouse server when a URL is configured, else chDB."""
    if config.clickhouse_url:
        return ClickHouseServerStore(config.clickhouse_url, database=config.database)
    # Imported here: with a ClickHouse server the process never loads chDB's library.
    from vitalsight.exporters.chdb_store import ChdbStore  # noqa: PLC0415

    return ChdbStore(config.data_dir, database=config.database)


def query_password(config: ServeConfig) -> str:
    """The configured password, or one generated once and kept in the data directory."""
    if config.query_password:
        return config.query_password
    path = Path(config.data_dir) / QUERY_PASSWORD_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return password


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class VitalsightServer:
    """Everything `vitalsight serve` runs, startable and stoppable from one event loop."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.metrics = SelfMetrics()
        self._store: Store | None = None
        self._exporter: ClickHouseExporter | None = None
        self._ingest_queue: IngestQueue | None = None
        self._otlp_runner: web.AppRunner | None = None
        self._query_runner: web.AppRunner | None = None
        self._grpc: grpc.aio.Server | None = None
        self._boost_feed: asyncio.Task[None] | None = None
        self._stop_boost_feed = asyncio.Event()

    async def start(self) -> Listening:
        config = self.config
        processors = build_processors(  # fail before any I/O
            config.pipeline, config.processors, registry=self.metrics.registry
        )
        self.metrics.registry.register(
            ProcessorStatsCollector(dict(zip(config.pipeline, processors, strict=True)))
        )
        store = self._store = open_store(config)
        migrate(store)
        apply_retention(
            store, raw_days=config.retention.raw_days, rollup_days=config.retention.rollup_days
        )
        limits = config.limits
        writer = BatchWriter(
            store,
            queue_rows=limits.queue_rows,
            flush_rows=limits.flush_rows,
            insert_rows=limits.insert_rows,
            flush_interval_s=limits.flush_interval_s,
            metrics=self.metrics,
        )
        self._exporter = ClickHouseExporter(writer, wait_for_room=True)
        pipeline = self._ingest_queue = IngestQueue(
            IngestPipeline(self._exporter, processors=processors, metrics=self.metrics),
            lambda: writer.queued_rows,
            capacity=limits.queue_rows,
            metrics=self.metrics,
        )
        client_address = (
            ClientAddressPolicy(config.trust_forwarded_for)
            if ADDRESS_CONSUMER in config.pipeline
            else None
        )
        otlp_app = create_otlp_app(
            pipeline,
            limits=limits,
            api_keys=config.api_keys,
            cors_origins=config.cors_allowed_origins,
            metrics=self.metrics,
            client_address=client_address,
        )
        self._otlp_runner, http_port = await self._serve_app(otlp_app, config.http_port)
        self._grpc, grpc_port = create_grpc_server(
            pipeline,
            address=f"{config.host}:{config.grpc_port}",
            max_message_bytes=limits.max_decompressed_bytes,
            api_keys=config.api_keys,
            client_address=client_address,
        )
        await self._grpc.start()
        self._start_boost_feed(processors)
        query_url = None
        if isinstance(store, QueryStore):  # the embedded store: nothing else can query it
            app = create_query_app(store, user=config.query_user, password=query_password(config))
            self._query_runner, query_port = await self._serve_app(app, config.query_port)
            query_url = f"http://{config.host}:{query_port}"
        return Listening(
            f"http://{config.host}:{http_port}", f"{config.host}:{grpc_port}", query_url
        )

    async def _serve_app(self, app: web.Application, port: int) -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = _bind(self.config.host, port)
        await web.SockSite(runner, sock).start()
        return runner, int(sock.getsockname()[1])

    def _start_boost_feed(self, processors: list[Processor]) -> None:
        for processor in processors:
            if isinstance(processor, SampleProcessor) and processor.config.boosts_url:
                config = processor.config
                feed = BoostFeed(processor, config.boosts_url, config.boosts_refresh_seconds)
                self._boost_feed = asyncio.create_task(feed.run(self._stop_boost_feed))

    async def stop(self) -> None:
        """Stop receiving, flush what was acknowledged, close the store."""
        if self._boost_feed is not None:
            self._stop_boost_feed.set()
            self._boost_feed.cancel()  # a fetch under way need not finish
            # return_exceptions: whatever ended the feed must not stop the flush below
            await asyncio.gather(self._boost_feed, return_exceptions=True)
        if self._grpc is not None:
            await self._grpc.stop(GRPC_GRACE_S)
        if self._otlp_runner is not None:
            await self._otlp_runner.cleanup()
        if self._ingest_queue is not None:
            await asyncio.to_thread(self._ingest_queue.close)
        if self._exporter is not None:
            await asyncio.to_thread(self._exporter.shutdown)
        if self._query_runner is not None:
            await self._query_runner.cleanup()
        if self._store is not None:
            self._store.close()


async def serve_until_signalled(config: ServeConfig, announce: Callable[[Listening], None]) -> None:
    # Each request's columns are Arrow buffers, queued until inserted. pyarrow's default pool
    # (mimalloc) kept their freed pages: ~90-120 MB more peak RSS than the system allocator
    # under load, at no measurable throughput cost (bench/README.md, "Where the memory goes").
    pa.set_memory_pool(pa.system_memory_pool())
    server = VitalsightServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        announce(await server.start())
        # Start-up objects (modules, schema, app) never die: keep them out of the collector's
        # scans so the collections that ingest triggers stay short.
        gc.freeze()
        # Ingest allocates protobuf wrappers by the million and almost no cycles: at the default
        # gen-0 threshold (700) young collections took ~15% of the processors' time.
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
        await stop.wait()
    finally:
        await server.stop()
