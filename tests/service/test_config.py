"""Configuration: file, then flags; invalid settings name the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitalsight.service.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vitalsight.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    config = load_config(None, {})
    assert (config.http_port, config.grpc_port, config.query_port) == (4318, 4317, 8123)
    assert config.clickhouse_url is None
    assert config.retention.raw_days == 30 and config.retention.rollup_days == 395


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "http_port: 5000\nlimits:\n  queue_rows: 10\n  flush_rows: 5\n")
    config = load_config(
        path, {"http_port": 6000, "limits.queue_rows": None, "api_keys": ("a", "b")}
    )
    assert config.http_port == 6000
    assert config.limits.queue_rows == 10 and config.limits.flush_rows == 5
    assert config.api_keys == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http_port: [1]\n", "http_port: Input should be a valid integer"),
        (
            "retention:\n  raw_days: 0\n",
            "retention.raw_days: Input should be greater than or equal to 1",
        ),
        (
            "limits:\n  flush_interval_s: 0\n",
            "limits.flush_interval_s: Input should be greater than 0",
        ),
        ("unknown_option: 1\n", "unknown_option: Extra inputs are not permitted"),
        ("- a list\n", "the configuration must be a mapping"),
        ("http_port: [\n", "cannot read configuration"),
    ],
)
def test_invalid_file_names_field_and_reason(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path, {})
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
