"""The dedup processor's configuration: the tested example, README examples, and one
invalid example per validation rule with its exact error text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vitalsight.processors.base import ProcessorConfigError
from vitalsight.processors.dedup import DedupProcessor, build
from vitalsight.processors.dedup.config import DEFAULT_KEY_ATTRIBUTES, DedupConfig

PACKAGE = Path(__file__).parents[3] / "collector-processors/vitalsight/processors/dedup"
TESTDATA = PACKAGE / "testdata"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)

INVALID = {
    "invalid_window.yaml": "dedup: window_seconds: Input should be greater than 0",
    "invalid_max_entries.yaml": ("dedup: max_entries: Input should be greater than or equal to 1"),
    "invalid_empty_key_attribute.yaml": (
        "dedup: key_attributes: attribute names must not be empty"
    ),
    "invalid_repeated_key_attribute.yaml": ("dedup: key_attributes: repeated attribute url.full"),
    "invalid_unknown_key.yaml": "dedup: window: Extra inputs are not permitted",
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


def test_defaults_and_example_agree() -> None:
    processor = build(None)
    assert isinstance(processor, DedupProcessor)
    assert processor.config == DedupConfig()
    example = build(load(TESTDATA / "config.yaml")).config  # type: ignore[arg-type]
    assert example.window_seconds == 300 and example.max_entries == 100_000
    assert example.key_attributes == DEFAULT_KEY_ATTRIBUTES


def test_readme_shows_the_tested_config_and_examples_that_build() -> None:
    blocks = YAML_BLOCK.findall((PACKAGE / "README.md").read_text())
    assert blocks[0] == (TESTDATA / "config.yaml").read_text()
    assert len(blocks) >= 3
    for block in blocks:
        build(yaml.safe_load(block))
