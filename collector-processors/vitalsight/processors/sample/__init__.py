"""`sample`: deterministic head sampling by session, keeping errors and poor vitals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vitalsight.processors.base import validate_config
from vitalsight.processors.sample.config import SampleConfig
from vitalsight.processors.sample.processor import Boost, SampleProcessor, SampleStats

__all__ = ["Boost", "SampleConfig", "SampleProcessor", "SampleStats", "build"]


def build(config: Mapping[str, Any] | None) -> SampleProcessor:
    """Validate `config` (raises ProcessorConfigError) and return a ready processor."""
    return SampleProcessor(validate_config("sample", SampleConfig, config))
