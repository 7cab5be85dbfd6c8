"""The sidecar's wiring: configuration → reader clients, engine, summariser, publisher,
annotator → FastAPI app served by uvicorn, with the cycle loop as a background task of the
app's lifespan. The listening address is printed once the socket is bound (port 0 picks a
free one).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager, suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
import uvicorn
from fastapi import FastAPI

from vitalsight.exporters.reader import connect_reader
from vitalsight.insights.annotate import GrafanaAnnotator
from vitalsight.insights.api import create_app
from vitalsight.insights.card_reader import CardReader
from vitalsight.insights.engine import EngineSettings, InsightEngine
from vitalsight.insights.metrics import InsightMetrics
from vitalsight.insights.publish import CardPublisher
from vitalsight.insights.service import InsightService
from vitalsight.insights.service_config import ServiceConfig
from vitalsight.insights.summarize import ClaudeSummarizer, Summarizer, TemplateSummarizer
from vitalsight.insights.summarize.claude import reason_kind
from vitalsight.insights.template import render


def run(config: ServiceConfig) -> None:
    with ExitStack() as closing:
        metrics = InsightMetrics()
        service = _service(config, metrics, closing)
        reader = CardReader(_reader(config))
        closing.callback(reader.close)
        lifespan = _loop_lifespan(service, config.interval_s)
        app = create_app(reader, metrics.registry, health=service.health, lifespan=lifespan)
        sock = socket.create_server((config.host, config.port))
        closing.callback(sock.close)
        host, port = sock.getsockname()[:2]
        summaries = "Claude " + config.anthropic_model if config.anthropic_api_key else "template"
        click.echo(
            f"vitalsight insights: reading {_without_credentials(config.query_url)}, "
            f"cards to {_without_credentials(config.otlp_url)}"
        )
        click.echo(
            f"vitalsight insights: summaries {summaries}; "
            f"annotations {config.grafana_url or 'off (no --grafana-url)'}"
        )
        click.echo(
            f"vitalsight insights: API listening on http://{host}:{port}  "
            "(GET /insights /insights/{id} /sampling/boosts /metrics /healthz)"
        )
        click.echo("vitalsight insights: ready")
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        # uvicorn re-raises the SIGINT it handled, after a complete shutdown: exit 0.
        with suppress(KeyboardInterrupt):
            server.run(sockets=[sock])


def _service(config: ServiceConfig, metrics: InsightMetrics, closing: ExitStack) -> InsightService:
    engine_client = _reader(config)
    closing.callback(engine_client.close)
    settings = EngineSettings(
        app=config.app, environment=config.environment, grafana_url=config.grafana_url
    )
    annotator = None
    if config.grafana_url:
        annotator = GrafanaAnnotator(config.grafana_url, ServiceConfig.secret(config.grafana_token))
        closing.callback(annotator.close)
    return InsightService(
        InsightEngine(engine_client, settings),
        _summarizer(config, metrics, closing),
        CardPublisher(config.otlp_url, ServiceConfig.secret(config.otlp_api_key)),
        annotator=annotator,
        metrics=metrics,
    )


def _summarizer(config: ServiceConfig, metrics: InsightMetrics, closing: ExitStack) -> Summarizer:
    api_key = ServiceConfig.secret(config.anthropic_api_key)
    if not api_key:
        return TemplateSummarizer(render)
    claude = ClaudeSummarizer(
        api_key,
        grafana_url=config.grafana_url,
        model=config.anthropic_model,
        base_url=config.anthropic_base_url,
        template=render,
        observer=lambda source, reason: _count_fallback(metrics, reason),
    )
    closing.callback(claude.close)
    return claude


def _count_fallback(metrics: InsightMetrics, reason: str) -> None:
    if reason:
        metrics.summary_fallbacks.labels(reason_kind(reason)).inc()


def _reader(config: ServiceConfig) -> Any:
    return connect_reader(
        config.query_url,
        username=config.query_user,
        password=ServiceConfig.secret(config.query_password),
        database=config.database,
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _loop_lifespan(service: InsightService, interval_s: float) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loop = asyncio.create_task(service.run_forever(interval_s, stop))
        try:
            yield
        finally:
            stop.set()
            await loop

    return lifespan
