"""`vitalsight simulate`: the scenario's traffic lands in the fact tables through the receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from click.testing import CliRunner
from tests.insights.simulate_helpers import small_scenario
from tests.serve_process import ServeProcess

from vitalsight.service.cli import cli


def test_simulate_command_sends_the_scenario_ending_at_end(
    server: ServeProcess, tmp_path: Path
) -> None:
    scenario = small_scenario(app="cli-app", days=0.02, evaluate={"start": "-10m"})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True)))
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(path),
            "--otlp-url",
            server.http_url,
            "--end",
            end.strftime("%Y-%m-%dT%H:%M"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("small: sent ")
    views = server.wait_for_count("rum_page_views", 100, where="app = 'cli-app'")
    assert views >= 100
    first, last = server.rows(
        "SELECT min(timestamp), max(timestamp) FROM rum_page_views WHERE app = 'cli-app'"
    )[0]
    assert first.replace(tzinfo=UTC) >= end - timedelta(minutes=29)
    assert last.replace(tzinfo=UTC) < end
    releases = server.rows("SELECT DISTINCT release FROM rum_vitals WHERE app = 'cli-app'")
    assert {r[0] for r in releases} == {"1.1"}  # rolled out an hour before the period


def test_simulate_command_reports_an_invalid_scenario(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\napp: y\n")
    result = CliRunner().invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 2
    assert "traffic" in result.output and "Field required" in result.output


def test_simulate_command_reports_an_unreachable_receiver(tmp_path: Path) -> None:
    scenario = small_scenario(days=0.01, evaluate={"start": "-5m"})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True)))
    result = CliRunner().invoke(
        cli, ["simulate", str(path), "--otlp-url", "http://127.0.0.1:9", "--max-retries", "1"]
    )
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in result.output
