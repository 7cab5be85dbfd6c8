"""The enrich processor: browser/OS/device from the user agent, coarse geo from the client IP
(then the IP is dropped), and route templates from page URLs. See README.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vitalsight.processors.base import validate_config
from vitalsight.processors.enrich.config import PROCESSOR_NAME, EnrichConfig
from vitalsight.processors.enrich.processor import EnrichProcessor

__all__ = ["EnrichConfig", "EnrichProcessor", "build"]


def build(config: Mapping[str, Any] | None) -> EnrichProcessor:
    """Validate `config` (raises `ProcessorConfigError`) and return a ready processor.

    Loading the geo database (~0.1 s, ~50 MB) and the user agent regexes happens here, not
    on the first request.
    """
    return EnrichProcessor(validate_config(PROCESSOR_NAME, EnrichConfig, config))
