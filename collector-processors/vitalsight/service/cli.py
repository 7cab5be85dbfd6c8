"""The `vitalsight` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import click

from vitalsight.exporters.reader import DEFAULT_QUERY_URL
from vitalsight.processors.base import ProcessorConfigError
from vitalsight.service.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_QUERY_PORT,
    DEFAULT_QUERY_USER,
    QUERY_PASSWORD_FILE,
    ConfigError,
    load_config,
)


@click.group(context_settings={"auto_envvar_prefix": "VITALSIGHT"})
@click.option("--log-level", default="INFO", show_default=True, help="Python logging level.")
def cli(log_level: str) -> None:
    """vitalsight: frontend real-user monitoring on OpenTelemetry, ClickHouse and Grafana."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML configuration file (flags and VITALSIGHT_* variables override it).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Embedded store directory.  [default: ./vitalsight-data]",
)
@click.option(
    "--clickhouse-url",
    help="Write to a ClickHouse server instead of embedded chDB: "
    "http(s)://user:password@host:8123/database",
)
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1]")
@click.option("--http-port", type=int, help=f"OTLP/HTTP port.  [default: {DEFAULT_HTTP_PORT}]")
@click.option("--grpc-port", type=int, help=f"OTLP/gRPC port.  [default: {DEFAULT_GRPC_PORT}]")
@click.option(
    "--query-port",
    type=int,
    help=f"ClickHouse-compatible query port (embedded store).  [default: {DEFAULT_QUERY_PORT}]",
)
@click.option("--query-user", help="Query endpoint user.  [default: vitalsight]")
@click.option(
    "--query-password",
    help="Query endpoint password.  [default: generated once, kept in DATA_DIR/query-password]",
)
@click.option(
    "--api-key", "api_keys", multiple=True, help="Accept only senders with this key (repeatable)."
)
@click.option("--queue-rows", type=int, help="Ingest queue capacity in rows (503 when full).")
@click.option("--flush-rows", type=int, help="Insert a table's batch at this many rows.")
@click.option(
    "--flush-interval", type=float, help="...or when its oldest row is this many seconds old."
)
@click.option("--retention-days", type=int, help="TTL of raw and fact tables.  [default: 30]")
@click.option(
    "--rollup-retention-days", type=int, help="TTL of per-minute rollups.  [default: 395]"
)
def serve(config_path: Path | None, **flags: Any) -> None:
    """Receive OTLP from browsers and collectors, store it, answer queries."""
    # Imported here so that other commands do not load the store and server stack.
    from vitalsight.service.serve import Listening, serve_until_signalled  # noqa: PLC0415

    overrides = _serve_overrides(flags)
    try:
        config = load_config(config_path, overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc

    def announce(listening: Listening) -> None:
        store = (config.clickhouse_url and "ClickHouse server") or f"chDB at {config.data_dir}"
        click.echo(f"vitalsight: store {store}, database {config.database}")
        click.echo(f"vitalsight: processors {', '.join(config.pipeline) or 'none'}")
        click.echo(
            f"vitalsight: OTLP/HTTP listening on {listening.otlp_http}  "
            "(POST /v1/traces /v1/metrics /v1/logs; GET /metrics)"
        )
        click.echo(f"vitalsight: OTLP/gRPC listening on {listening.otlp_grpc}")
        if listening.query:
            click.echo(
                f"vitalsight: ClickHouse HTTP query endpoint on {listening.query}  "
                f"(user {config.query_user}, read-only)"
            )
        click.echo("vitalsight: ready", err=False)
        sys.stdout.flush()

    try:
        asyncio.run(serve_until_signalled(config, announce))
    except ProcessorConfigError as exc:
        raise click.UsageError(str(exc)) from exc


@cli.command()
@click.option(
    "--endpoint",
    default="http://127.0.0.1:4318",
    show_default=True,
    help="vitalsight's OTLP/HTTP endpoint (or any OTLP/HTTP receiver).",
)
@click.option("--api-key", help="Sent as X-Vitalsight-Key when the server requires one.")
@click.option("--minutes", default=30, show_default=True, help="Minutes of traffic, ending now.")
@click.option("--sessions-per-minute", default=20, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Same seed, same traffic.")
def demo(
    endpoint: str, api_key: str | None, minutes: int, sessions_per_minute: int, seed: int
) -> None:
    """Send realistic synthetic RUM traffic through the OTLP/HTTP receiver."""
    from vitalsight.service.demo_send import DemoSendError, send_demo  # noqa: PLC0415

    try:
        summary = send_demo(
            endpoint,
            api_key=api_key,
            seed=seed,
            minutes=minutes,
            sessions_per_minute=sessions_per_minute,
        )
    except DemoSendError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())


@cli.command()
@click.option(
    "--url",
    default=DEFAULT_QUERY_URL,
    show_default=True,
    help="ClickHouse HTTP endpoint: vitalsight's query port, or your ClickHouse server.",
)
@click.option("--user", default=DEFAULT_QUERY_USER, show_default=True)
@click.option("--password", help="[default: read from DATA_DIR/query-password]")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where `vitalsight serve` keeps the generated query password.",
)
@click.option("--database", default="vitalsight", show_default=True)
@click.option("--app", help="Only this app (service.name).")
@click.option(
    "--since", "since_minutes", default=60, show_default=True, help="Report on the last N minutes."
)
def report(
    url: str,
    user: str,
    password: str | None,
    data_dir: Path,
    database: str,
    app: str | None,
    since_minutes: int,
) -> None:
    """Print p75 vitals, error rates and slow endpoints per route."""
    from rich.console import Console  # noqa: PLC0415

    from vitalsight.exporters.reader import connect_reader  # noqa: PLC0415
    from vitalsight.service.report import build_report, render_report  # noqa: PLC0415

    if password is None:
        password_file = data_dir / QUERY_PASSWORD_FILE
        if not password_file.exists():
            raise click.UsageError(f"no --password and no {password_file}")
        password = password_file.read_text(encoding="utf-8").strip()
    client = connect_reader(url, username=user, password=password, database=database)
    try:
        render_report(build_report(client, app=app, since_minutes=since_minutes), Console())
    finally:
        client.close()


@cli.group()
def sourcemaps() -> None:
    """Source maps for symbolicating minified stack traces (the errors processor)."""


@sourcemaps.command("upload")
@click.option("--app", required=True, help="The app (service.name) the bundle belongs to.")
@click.option("--release", required=True, help="The release (service.version) it was built as.")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(DEFAULT_DATA_DIR) / "sourcemaps",
    show_default=True,
    help="The errors processor's sourcemaps_dir.",
)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
def sourcemaps_upload(app: str, release: str, store_dir: Path, directory: Path) -> None:
    """Store DIRECTORY's *.map files (and their minified files) for APP at RELEASE."""
    from vitalsight.processors.errors import SourceMapError, upload_sourcemaps  # noqa: PLC0415

    try:
        written = upload_sourcemaps(store_dir, app, release, directory)
    except SourceMapError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"stored {path}")


def _serve_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    renamed = {
        "queue_rows": "limits.queue_rows",
        "flush_rows": "limits.flush_rows",
        "flush_interval": "limits.flush_interval_s",
        "retention_days": "retention.raw_days",
        "rollup_retention_days": "retention.rollup_days",
    }
    return {renamed.get(name, name): value for name, value in flags.items()}


def _register_subcommands() -> None:
    """Commands that live beside the code they drive (grafana/, alert-rules, insight-service/)."""
    from vitalsight.grafana.cli import alerts, grafana  # noqa: PLC0415
    from vitalsight.insights.cli import insights  # noqa: PLC0415
    from vitalsight.insights.simulate.command import simulate  # noqa: PLC0415

    cli.add_command(insights)
    cli.add_command(simulate)
    cli.add_command(grafana)
    cli.add_command(alerts)


_register_subcommands()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
