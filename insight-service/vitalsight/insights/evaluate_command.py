"""`vitalsight insights eval SCENARIO.yaml...`: score the engine on scenarios.

Only the command; the work is in `vitalsight.insights.evaluate`, imported when the command
runs so that other `vitalsight` commands do not load the engine's numeric stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click


@click.command("eval")
@click.argument(
    "scenario_paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True)
)
@click.option("--otlp-url", help="Use this running serve (else a temporary one is started).")
@click.option("--query-url", help="Its ClickHouse HTTP query endpoint (with --otlp-url).")
@click.option("--user", default="vitalsight", show_default=True)
@click.option("--password", default="", help="Query endpoint password (with --otlp-url).")
@click.option("--api-key", help="Sent as X-Vitalsight-Key when the serve requires one.")
def eval_command(
    scenario_paths: tuple[Path, ...],
    otlp_url: str | None,
    query_url: str | None,
    user: str,
    password: str,
    api_key: str | None,
) -> None:
    """Score the insight engine on SCENARIO.yaml files: precision, recall, cause, delay."""
    from vitalsight.exporters.reader import connect_reader  # noqa: PLC0415
    from vitalsight.insights.evaluate import evaluate_scenarios, render_totals  # noqa: PLC0415
    from vitalsight.insights.simulate.local_serve import (  # noqa: PLC0415
        QUERY_PASSWORD,
        QUERY_USER,
        LocalServe,
    )

    end = datetime.now(UTC)
    if otlp_url:
        if not query_url:
            raise click.UsageError("--otlp-url needs --query-url")
        reader = connect_reader(query_url, username=user, password=password)
        scores = evaluate_scenarios(
            scenario_paths, end=end, otlp_url=otlp_url, reader=reader, api_key=api_key
        )
        reader.close()
        render_totals(scores)
        return
    with LocalServe() as serve:
        reader = connect_reader(serve.query_url, username=QUERY_USER, password=QUERY_PASSWORD)
        scores = evaluate_scenarios(scenario_paths, end=end, otlp_url=serve.otlp_url, reader=reader)
        reader.close()
    render_totals(scores)
