from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vitalsight.processors.base import ProcessorConfigError
from vitalsight.processors.errors import ErrorsConfig, ErrorsProcessor, build

PACKAGE = Path(__file__).parents[3] / "collector-processors/vitalsight/processors/errors"
TESTDATA = PACKAGE / "testdata"

EXPECTED_ERRORS = {
    "invalid_app_attribute.yaml": "errors: app_attribute: must be a non-empty attribute name",
    "invalid_cache_size.yaml": "errors: cache_size: must be between 1 and 4096, got 0",
    "invalid_fingerprint_frames.yaml": (
        "errors: fingerprint_frames: must be between 0 and 10, got 11"
    ),
    "invalid_fingerprint_frames_type.yaml": (
        "errors: fingerprint_frames: Input should be a valid integer, "
        "unable to parse string as an integer"
    ),
    "invalid_max_frames.yaml": "errors: max_frames: must be between 1 and 500, got 0",
    "invalid_release_attribute.yaml": (
        "errors: release_attribute: must be a non-empty attribute name"
    ),
    "invalid_sourcemaps_dir.yaml": (
        "errors: sourcemaps_dir: must be a non-empty path (leave it out to turn symbolication off)"
    ),
    "invalid_unknown_field.yaml": "errors: sourcemap_dir: Extra inputs are not permitted",
}


def test_every_invalid_file_has_an_expected_error() -> None:
    assert {p.name for p in TESTDATA.glob("invalid_*.yaml")} == set(EXPECTED_ERRORS)


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_invalid_config_gives_the_exact_error(name: str) -> None:
    with pytest.raises(ProcessorConfigError) as raised:
        build(yaml.safe_load((TESTDATA / name).read_text()))
    assert str(raised.value) == EXPECTED_ERRORS[name]


def test_all_failures_are_reported_at_once() -> None:
    with pytest.raises(ProcessorConfigError) as raised:
        build({"cache_size": 0, "max_frames": 0})
    assert str(raised.value) == (
        "errors: cache_size: must be between 1 and 4096, got 0; "
        "errors: max_frames: must be between 1 and 500, got 0"
    )


def test_testdata_config_builds() -> None:
    processor = build(yaml.safe_load((TESTDATA / "config.yaml").read_text()))
    assert isinstance(processor, ErrorsProcessor)
    assert processor.config.sourcemaps_dir == "/var/lib/vitalsight/sourcemaps"
    assert processor.store is not None
    assert processor.store.root == Path("/var/lib/vitalsight/sourcemaps")


def test_defaults_turn_symbolication_off() -> None:
    processor = build(None)
    assert processor.config == ErrorsConfig()
    assert processor.store is None
    assert processor.config.fingerprint_frames == 3


def test_readme_yaml_blocks_are_the_config_and_valid_examples() -> None:
    readme = (PACKAGE / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert blocks[0] == (TESTDATA / "config.yaml").read_text()
    for block in blocks:
        build(yaml.safe_load(block))
