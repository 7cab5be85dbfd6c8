"""`vitalsight insights eval`: its own temporary serve, a replay, a table and the totals."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner
from tests.insights.simulate_helpers import small_scenario

from vitalsight.service.cli import cli


def test_eval_starts_a_serve_replays_and_prints_the_totals(tmp_path: Path) -> None:
    # a quiet half hour: nothing planted, nothing expected
    scenario = small_scenario(
        name="tiny-quiet",
        app="tiny-quiet",
        days=0.02,
        incidents=[],
        expect=[],
        evaluate={"start": "-5m"},
    )
    path = tmp_path / "quiet.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True)))
    result = CliRunner().invoke(cli, ["insights", "eval", str(path)])
    assert result.exit_code == 0, result.output
    assert "tiny-quiet" in result.output
    assert "recall 1.00 (0/0)" in result.output
    assert "precision" in result.output


def test_eval_with_a_serve_url_needs_its_query_url(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("{}")
    result = CliRunner().invoke(cli, ["insights", "eval", str(path), "--otlp-url", "http://x"])
    assert result.exit_code == 2
    assert "--otlp-url needs --query-url" in result.output
