"""`dedup`: drop replays of the same log record or span within a time window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vitalsight.processors.base import validate_config
from vitalsight.processors.dedup.config import DedupConfig
from vitalsight.processors.dedup.processor import DedupProcessor, DedupStats

__all__ = ["DedupConfig", "DedupProcessor", "DedupStats", "build"]


def build(config: Mapping[str, Any] | None) -> DedupProcessor:
    """Validate `config` (raises ProcessorConfigError) and return a ready processor."""
    return DedupProcessor(validate_config("dedup", DedupConfig, config))
