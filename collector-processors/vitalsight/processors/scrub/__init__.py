"""scrub: removes or masks personal data and secrets before anything is stored.

`build(config)` validates a configuration mapping (see `config.ScrubConfig`) and returns a
ready `ScrubProcessor`; pass `registry=` to export its counters to Prometheus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from vitalsight.processors.base import validate_config
from vitalsight.processors.scrub.config import ScrubConfig
from vitalsight.processors.scrub.processor import ScrubProcessor, ScrubStats

NAME = "scrub"

__all__ = ["NAME", "ScrubConfig", "ScrubProcessor", "ScrubStats", "build"]


def build(
    config: Mapping[str, Any] | None = None, *, registry: CollectorRegistry | None = None
) -> ScrubProcessor:
    """A scrub processor for `config` (None or {} = the defaults).

    Raises:
        ProcessorConfigError: one `scrub: <field>: <message>` per invalid field.
    """
    return ScrubProcessor(validate_config(NAME, ScrubConfig, config), registry=registry)
