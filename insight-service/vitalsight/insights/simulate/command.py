"""`vitalsight simulate SCENARIO.yaml`: send a scenario's traffic through the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import pydantic

from vitalsight.insights.simulate.scenario import load_scenario
from vitalsight.insights.simulate.send import DEFAULT_MAX_RETRIES, send_scenario
from vitalsight.service.demo_send import DemoSendError


@click.command()
@click.argument("scenario_path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--otlp-url",
    default="http://127.0.0.1:4318",
    show_default=True,
    help="vitalsight's OTLP/HTTP endpoint.",
)
@click.option("--api-key", help="Sent as X-Vitalsight-Key when the server requires one.")
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="End of the simulated period, UTC.  [default: now]",
)
@click.option(
    "--max-retries",
    default=DEFAULT_MAX_RETRIES,
    show_default=True,
    help="Retries per request on 503 (after Retry-After) or a connection error.",
)
def simulate(
    scenario_path: Path,
    otlp_url: str,
    api_key: str | None,
    end: datetime | None,
    max_retries: int,
) -> None:
    """Generate SCENARIO.yaml's labelled traffic and send it (docs/scenarios.md)."""
    try:
        scenario = load_scenario(scenario_path)
    except pydantic.ValidationError as exc:
        raise click.UsageError(f"{scenario_path}: {exc}") from exc
    end = end.replace(tzinfo=UTC) if end else datetime.now(UTC)
    try:
        summary = send_scenario(
            scenario, otlp_url, end=end, api_key=api_key, max_retries=max_retries
        )
    except DemoSendError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{scenario.name}: {summary.describe()}")
