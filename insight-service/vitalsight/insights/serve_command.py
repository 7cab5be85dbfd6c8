"""`vitalsight insights serve`: the sidecar process (REST API + the cycle loop).

Only the command; the wiring lives in `sidecar.py`, imported when the command runs so that
other `vitalsight` commands do not load FastAPI, uvicorn and the Anthropic SDK.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

QUERY_PASSWORD_FILE = "query-password"  # where `vitalsight serve` keeps a generated one


@click.command("serve")
@click.option("--query-url", help="ClickHouse HTTP endpoint (vitalsight's query port or a server).")
@click.option("--query-user", help="[default: vitalsight]")
@click.option("--query-password", help="[default: read from DATA_DIR/query-password]")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="`vitalsight serve`'s data directory, to read its generated query password.",
)
@click.option("--database", help="[default: vitalsight]")
@click.option("--otlp-url", help="OTLP/HTTP receiver the cards are sent to.")
@click.option("--otlp-api-key", help="X-Vitalsight-Key, when the receiver requires one.")
@click.option(
    "--grafana-url", help="Grafana base URL (annotations and links); none: no annotations."
)
@click.option("--grafana-token", help="Grafana service account token (annotations:write).")
@click.option("--anthropic-model", help="Claude model for summaries (needs ANTHROPIC_API_KEY).")
@click.option("--app", help="Watch only this app (service.name).")
@click.option("--environment", help="Watch only this environment.")
@click.option("--interval", "interval_s", type=float, help="Seconds between cycles. [default: 60]")
@click.option("--host", help="API address. [default: 127.0.0.1]")
@click.option("--port", type=int, help="API port (0: any free port). [default: 8090]")
def serve(data_dir: Path | None, **flags: Any) -> None:
    """Watch the RUM data and publish incident cards; serve them over HTTP."""
    if flags["query_password"] is None and data_dir is not None:
        password_file = data_dir / QUERY_PASSWORD_FILE
        if password_file.exists():
            flags["query_password"] = password_file.read_text(encoding="utf-8").strip()
    from vitalsight.insights.service_config import ServiceConfig  # noqa: PLC0415
    from vitalsight.insights.sidecar import run  # noqa: PLC0415

    try:
        config = ServiceConfig.load(os.environ, flags)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    run(config)
