"""scrub config: the documented example loads, and each invalid example fails with its
exact message (like collector-contrib's testdata/invalid_*.yaml tests)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from vitalsight.processors import scrub
from vitalsight.processors.base import ProcessorConfigError
from vitalsight.processors.scrub import ScrubProcessor, build
from vitalsight.processors.scrub.config import KINDS, ScrubConfig

PACKAGE = Path(scrub.__file__).parent
TESTDATA = PACKAGE / "testdata"

INVALID: dict[str, str] = {
    "unknown_kind": "scrub: detect: unknown kind 'ssn' "
    "(allowed: api_key, bearer, card, email, iban, ip, jwt, phone, secret_param)",
    "unknown_field": "scrub: mask_everything: Extra inputs are not permitted",
    "negative_cache_size": "scrub: cache_size: Input should be greater than or equal to 0",
    "bad_param_name": "scrub: secret_params: 'api key' is not a parameter name "
    "(letters, digits, '_', '-', '.', '[]')",
    "allowed_secret_param": "scrub: allowed_query_params: 'token' is also in "
    "secret_params; a secret parameter cannot be allowed",
    "empty_secret_key": "scrub: secret_keys: attribute keys must not be empty",
    "pattern_regex": "scrub: patterns.0.regex: invalid regular expression 'CUST-(\\d+': "
    "missing ), unterminated subpattern at position 5",
    "pattern_empty_match": "scrub: patterns.0.regex: '\\d*' matches the empty string",
    "pattern_builtin_name": "scrub: patterns.0.name: 'email' is a built-in kind; "
    "choose another name",
    "pattern_duplicate_name": "scrub: patterns: pattern name 'customer_id' is used twice",
    "url_filter_regex": "scrub: url_filters.shop-web.deny: invalid regular expression "
    "'[admin': unterminated character set at position 0",
}


def load(name: str) -> Any:
    return yaml.safe_load((TESTDATA / name).read_text())


def test_every_invalid_file_has_a_test() -> None:
    files = {p.name.removeprefix("invalid_").removesuffix(".yaml") for p in TESTDATA.iterdir()}
    files.discard("config")
    assert files == set(INVALID)


@pytest.mark.parametrize("reason", sorted(INVALID))
def test_invalid_config_exact_message(reason: str) -> None:
    with pytest.raises(ProcessorConfigError) as excinfo:
        build(load(f"invalid_{reason}.yaml"))
    assert str(excinfo.value) == INVALID[reason]


def test_example_config_loads() -> None:
    processor = build(load("config.yaml"))
    assert isinstance(processor, ScrubProcessor)
    config = processor.config
    assert config.allowed_query_params == ["utm_source", "utm_medium", "utm_campaign", "page"]
    assert "reset_token" in config.secret_params
    assert [p.name for p in config.patterns] == ["customer_id"]
    assert set(config.url_filters) == {"*", "checkout-web"}


def test_defaults() -> None:
    assert build(None).config == ScrubConfig()
    assert build({}).config.detect == list(KINDS)
    assert "session.id" in ScrubConfig().never_touch


def _yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", markdown, flags=re.DOTALL)


def test_readme_example_is_the_tested_config() -> None:
    blocks = _yaml_blocks((PACKAGE / "README.md").read_text())
    assert blocks[0] == (TESTDATA / "config.yaml").read_text()


def test_every_readme_example_is_valid() -> None:
    blocks = _yaml_blocks((PACKAGE / "README.md").read_text())
    assert len(blocks) >= 6
    for block in blocks:
        build(yaml.safe_load(block))
