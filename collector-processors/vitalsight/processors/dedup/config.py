"""Configuration of the `dedup` processor: every field with its default in one place."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_WINDOW_SECONDS = 300.0
DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_KEY_ATTRIBUTES = (
    "browser.page.view_id",
    "exception.type",
    "exception.message",
    "url.full",
    "browser.long_task.duration",
    "browser.resource.duration",
)


class DedupConfig(BaseModel):
    """The `dedup` processor's configuration (see README.md for how record ids are made)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_seconds: float = Field(default=DEFAULT_WINDOW_SECONDS, gt=0)
    """How long (arrival time, seconds) a record id is remembered; a replay arriving later
    is kept. > 0. Default 300 (covers the SDK's and a collector's retries)."""

    max_entries: int = Field(default=DEFAULT_MAX_ENTRIES, ge=1)
    """Record ids remembered at most; the oldest is forgotten first. Bounds memory
    (~150-200 bytes per entry: 100000 ≈ 20 MB). A forgotten id fails open: its replay is kept.
    >= 1. Default 100000."""

    key_attributes: tuple[str, ...] = DEFAULT_KEY_ATTRIBUTES
    """Attributes that, with session id, event name and timestamp, identify a log record that
    is not a web vital. Non-empty, distinct names. Default: page view id, exception type and
    message, url.full, long task and resource durations."""

    @field_validator("key_attributes")
    @classmethod
    def _distinct_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name for name in names):
            raise ValueError("attribute names must not be empty")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"repeated attribute {', '.join(repeated)}")
        return names
