"""`vitalsight serve` configuration: defaults here, a YAML file over them, flags over that.

Environment variables (`VITALSIGHT_<OPTION>`) sit between the file and the flags; click
reads them for every flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vitalsight.exporters.store import DEFAULT_DATABASE
from vitalsight.exporters.writer import (
    DEFAULT_FLUSH_INTERVAL_S,
    DEFAULT_FLUSH_ROWS,
    DEFAULT_INSERT_ROWS,
    DEFAULT_QUEUE_ROWS,
)

DEFAULT_DATA_DIR = Path("vitalsight-data")
DEFAULT_HTTP_PORT = 4318
DEFAULT_GRPC_PORT = 4317
DEFAULT_QUERY_PORT = 8123
DEFAULT_QUERY_USER = "vitalsight"
MiB = 1024 * 1024
DEFAULT_PIPELINE = ("scrub",)  # PII never reaches the store unless a team turns it off
QUERY_PASSWORD_FILE = "query-password"  # in the data directory, when none is configured


class ConfigError(Exception):
    """The configuration file or a flag is invalid; the message says which and why."""


class RetentionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raw_days: int = Field(30, ge=1, description="TTL of raw otel_* tables and rum_* facts")
    rollup_days: int = Field(395, ge=1, description="TTL of the rollups (per minute, hour, day)")


class LimitsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_request_bytes: int = Field(4 * MiB, ge=1024, description="413 above this (as sent)")
    max_decompressed_bytes: int = Field(32 * MiB, ge=1024, description="413 above this")
    queue_rows: int = Field(DEFAULT_QUEUE_ROWS, ge=1, description="503 + Retry-After when full")
    flush_rows: int = Field(DEFAULT_FLUSH_ROWS, ge=1, description="flush a table at this many rows")
    insert_rows: int = Field(
        DEFAULT_INSERT_ROWS,
        ge=1,
        description="no insert is larger (a backlog goes in pieces; at least flush_rows)",
    )
    flush_interval_s: float = Field(
        DEFAULT_FLUSH_INTERVAL_S, gt=0, description="or when the oldest row is this old"
    )
    retry_after_s: int = Field(1, ge=1, description="Retry-After sent with 429/503")


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    clickhouse_url: str | None = Field(
        None, description="http(s)://user:password@host:port/database; unset = embedded chDB"
    )
    database: str = DEFAULT_DATABASE
    host: str = "127.0.0.1"
    http_port: int = DEFAULT_HTTP_PORT
    grpc_port: int = DEFAULT_GRPC_PORT
    query_port: int = DEFAULT_QUERY_PORT
    query_user: str = DEFAULT_QUERY_USER
    query_password: str | None = None
    api_keys: list[str] = Field(default_factory=list, description="empty = no key required")
    cors_allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    trust_forwarded_for: bool = Field(
        False, description="take the client address from X-Forwarded-For (behind a proxy)"
    )
    pipeline: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PIPELINE),
        description="processors to run, in order (see processors/); scrub is on by default",
    )
    processors: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="each processor's configuration, by name"
    )
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)


def load_config(path: Path | None, overrides: dict[str, Any]) -> ServeConfig:
    """The file's settings (if any) with the non-None overrides applied on top."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping")
        data = loaded
    for key, value in overrides.items():
        if value is not None and value != ():
            _set_dotted(data, key, list(value) if isinstance(value, tuple) else value)
    try:
        return ServeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    for parent in parents:
        data = data.setdefault(parent, {})
    data[leaf] = value


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f"{path}: " if path else ""
    problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return where + "; ".join(problems)
