"""The scenario format: validation, relative times, the committed JSON Schema, shipped files."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml

from vitalsight.insights.simulate.scenario import (
    Scenario,
    load_scenario,
    minutes_before_end,
    scenario_json_schema,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "insight-service" / "scenarios").glob("*.yaml"))
MINIMAL = {
    "name": "t",
    "app": "t-app",
    "traffic": {"page_views_per_minute": 10},
    "routes": [{"route": "/", "share": 1, "endpoints": [{"template": "/api/a", "median_ms": 50}]}],
    "releases": [{"version": "1.0"}, {"version": "1.1", "start": "-1h"}],
}


def test_committed_json_schema_is_current() -> None:
    committed = (ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == scenario_json_schema(), "regenerate docs/scenario.schema.json"


@pytest.mark.parametrize(
    ("text", "minutes"), [("0", 0), ("-90m", 90), ("-2h", 120), ("-1.5d", 2160)]
)
def test_relative_times(text: str, minutes: float) -> None:
    assert minutes_before_end(text) == minutes


def test_shipped_scenarios_cover_every_incident_kind_and_quiet_periods() -> None:
    scenarios = [load_scenario(path) for path in SCENARIOS]
    assert len(scenarios) >= 12
    kinds = {incident.kind for s in scenarios for incident in s.incidents}
    assert kinds == {
        "vital_regression",
        "slow_endpoint",
        "bundle_growth",
        "long_tasks",
        "error_spike",
        "drift",
    }
    quiet = [s for s in scenarios if not s.incidents and not s.expect]
    assert len(quiet) >= 2
    # one app per scenario, so an evaluation can share one store
    assert len({s.app for s in scenarios}) == len(scenarios)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"releases": [{"version": "1.0", "start": "-1h"}]}, "first release must be live"),
        (
            {
                "incidents": [
                    {
                        "name": "x",
                        "kind": "slow_endpoint",
                        "start": "-1h",
                        "endpoint": "/api/nope",
                        "add_ms": 10,
                    }
                ]
            },
            "endpoint not defined: /api/nope",
        ),
        (
            {"incidents": [{"name": "x", "kind": "drift", "metric": "LCP", "factor": 2}]},
            "needs a start or a release",
        ),
        (
            {"expect": [{"incident": "ghost", "kind": "regression", "metric": "LCP"}]},
            "incident not defined: ghost",
        ),
        ({"evaluate": {"start": "-3d"}}, "evaluate.start is before the simulated period"),
        (
            {"releases": [{"version": "1.0"}, {"version": "1.1", "start": "2h"}]},
            "String should match",
        ),
    ],
)
def test_invalid_scenarios_say_why(change: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        Scenario.model_validate({**MINIMAL, **change})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        Scenario.model_validate({**MINIMAL, "trafic": {}})


def test_the_worked_example_in_the_docs_is_a_valid_scenario() -> None:
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = Scenario.model_validate(yaml.safe_load(example))
    assert scenario.incidents[0].kind == "slow_endpoint"
    assert scenario.expect[0].cause_kind == "slow_endpoint"
