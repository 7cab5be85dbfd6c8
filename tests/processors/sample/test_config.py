"""The sample processor's configuration: the tested example, README examples, and one
invalid example per validation rule with its exact error text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vitalsight.processors.base import ProcessorConfigError
from vitalsight.processors.sample import SampleProcessor, build
from vitalsight.processors.sample.config import SampleConfig

PACKAGE = Path(__file__).parents[3] / "collector-processors/vitalsight/processors/sample"
TESTDATA = PACKAGE / "testdata"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)

INVALID = {
    "invalid_rate_above_one.yaml": "sample: rate: Input should be less than or equal to 1",
    "invalid_rate_zero.yaml": "sample: rate: Input should be greater than 0",
    "invalid_unknown_key.yaml": "sample: sample_rate: Extra inputs are not permitted",
    "invalid_app_route_rate.yaml": (
        "sample: apps.shop-web.routes./checkout: Input should be less than or equal to 1"
    ),
    "invalid_route_without_slash.yaml": (
        "sample: routes: route 'checkout' must start with '/' "
        "(a route template such as /products/:id)"
    ),
    "invalid_adaptive_floor.yaml": "sample: adaptive.floor: Input should be greater than 0",
    "invalid_adaptive_target.yaml": (
        "sample: adaptive.target_events_per_second: Input should be greater than 0"
    ),
    "invalid_adaptive_window.yaml": (
        "sample: adaptive.window_seconds: Input should be greater than 0"
    ),
    "invalid_adaptive_max_routes.yaml": (
        "sample: adaptive.max_routes: Input should be greater than or equal to 1"
    ),
    "invalid_error_sessions.yaml": (
        "sample: error_sessions: Input should be greater than or equal to 0"
    ),
    "invalid_boosts_refresh_seconds.yaml": (
        "sample: boosts_refresh_seconds: Input should be greater than 0"
    ),
    "invalid_boosts_url.yaml": (
        "sample: boosts_url: 'localhost:8000/sampling/boosts' must be an http:// or https:// "
        "URL (or empty: off)"
    ),
    "invalid_without_session.yaml": (
        "sample: without_session: Input should be 'trace_id' or 'keep'"
    ),
}


def load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_is_refused_with_its_message(name: str) -> None:
    with pytest.raises(ProcessorConfigError) as raised:
        build(load(TESTDATA / name))  # type: ignore[arg-type]
    assert str(raised.value) == INVALID[name]


def test_every_invalid_example_is_tested() -> None:
    assert {p.name for p in TESTDATA.glob("invalid_*.yaml")} == set(INVALID)


def test_defaults() -> None:
    processor = build(None)
    assert isinstance(processor, SampleProcessor)
    assert processor.config == SampleConfig()
    assert processor.config.rate == 0.1
    assert processor.config.keep_errors and processor.config.keep_poor_vitals
    assert not processor.config.adaptive.enabled
    assert processor.config.boosts_url == "" and processor.config.boosts_refresh_seconds == 30


def test_example_config_builds_with_its_values() -> None:
    config = build(load(TESTDATA / "config.yaml")).config  # type: ignore[arg-type]
    assert config.hash_seed == "shop-2026"
    assert config.apps["shop-web"].routes == {"/checkout": 1.0}
    assert config.routes == {"/health": 0.001}
    assert config.adaptive.enabled and config.adaptive.floor == 0.01
    assert config.boosts_url == "http://insights:8000/sampling/boosts"


def test_readme_shows_the_tested_config_and_examples_that_build() -> None:
    blocks = YAML_BLOCK.findall((PACKAGE / "README.md").read_text())
    assert blocks[0] == (TESTDATA / "config.yaml").read_text()
    assert len(blocks) >= 5
    for block in blocks:
        build(yaml.safe_load(block))
