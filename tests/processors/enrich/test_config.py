from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from vitalsight.processors import enrich
from vitalsight.processors.base import ProcessorConfigError, validate_config
from vitalsight.processors.enrich.config import EnrichConfig

PACKAGE = Path(enrich.__file__).parent
TESTDATA = PACKAGE / "testdata"

INVALID = {
    "invalid_cache_size.yaml": (
        "enrich: user_agent.cache_size: Input should be greater than or equal to 0"
    ),
    "invalid_overwrite.yaml": (
        "enrich: user_agent.overwrite: Input should be a valid boolean, unable to interpret input"
    ),
    "invalid_unknown_key.yaml": "enrich: geo.country_database: Extra inputs are not permitted",
    "invalid_ip_attributes.yaml": (
        "enrich: geo.ip_attributes: must be a non-empty list of attribute names"
    ),
    "invalid_drop_suffixes.yaml": (
        "enrich: geo.drop_suffixes: an empty suffix would drop every attribute"
    ),
    "invalid_min_token_length.yaml": (
        "enrich: route.min_token_length: Input should be greater than or equal to 8"
    ),
    "invalid_pattern_start.yaml": (
        "enrich: route.patterns: docs-site: 'docs/{section}/{page}': must start with '/'"
    ),
    "invalid_pattern_placeholder.yaml": (
        "enrich: route.patterns: docs-site: '/docs/{1st}/{page}': "
        "placeholder {1st} is not an identifier"
    ),
    "invalid_pattern_duplicate.yaml": (
        "enrich: route.patterns: docs-site: '/docs/{page}/{page}': placeholder names must be unique"
    ),
    "invalid_pattern_segment.yaml": (
        "enrich: route.patterns: docs-site: '/docs/v{version}': "
        "a placeholder must be a whole path segment"
    ),
    "invalid_pattern_unbalanced.yaml": (
        "enrich: route.patterns: docs-site: '/docs/{section': unbalanced '{' or '}'"
    ),
}


def load(name: str) -> Any:
    return yaml.safe_load((TESTDATA / name).read_text())


def test_every_invalid_file_has_a_test() -> None:
    assert {p.name for p in TESTDATA.glob("invalid_*.yaml")} == set(INVALID)


@pytest.mark.parametrize(("name", "message"), sorted(INVALID.items()))
def test_invalid_config_names_field_and_rule(name: str, message: str) -> None:
    with pytest.raises(ProcessorConfigError) as caught:
        enrich.build(load(name))
    assert str(caught.value) == message


def test_testdata_config_builds_a_processor() -> None:
    processor = enrich.build(load("config.yaml"))
    assert processor.config.route.patterns == {"docs-site": ["/docs/{section}/{page}"]}
    assert processor.config.geo.ip_attributes == ["client.address"]


def test_testdata_config_spells_out_the_defaults() -> None:
    config = load("config.yaml")
    del config["route"]["patterns"]
    assert EnrichConfig.model_validate(config) == EnrichConfig()


def test_empty_config_means_defaults() -> None:
    assert validate_config("enrich", EnrichConfig, None) == EnrichConfig()


def _readme_yaml_blocks() -> list[str]:
    text = (PACKAGE / "README.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def test_readme_shows_the_tested_config() -> None:
    assert (TESTDATA / "config.yaml").read_text() in _readme_yaml_blocks()


def test_readme_examples_are_valid() -> None:
    blocks = _readme_yaml_blocks()
    assert len(blocks) >= 4
    checked = 0
    for block in blocks:
        data = yaml.safe_load(block)
        if "receivers" in data:
            continue  # the OTel Collector's configuration, not ours
        if "pipeline" in data:  # `vitalsight serve`'s configuration
            assert "enrich" in data["pipeline"]
            data = data["processors"]["enrich"]
        validate_config("enrich", EnrichConfig, data)
        checked += 1
    assert checked == len(blocks) - 1
