"""Assembling the processor pipeline from configuration.

Each processor package exposes `build(config) -> Processor`. The pipeline runs them in the
configured order, like a collector pipeline's `processors:` list.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from vitalsight.processors.base import Processor, ProcessorConfigError

# The order matters: scrub before anything is stored or grouped; enrich uses the client
# address before scrub would mask it, so enrich drops it itself; sample last, so the rate
# it records applies to what is stored.
KNOWN_PROCESSORS = ("enrich", "scrub", "dedup", "errors", "sample")


def build_processors(
    order: Sequence[str],
    configs: Mapping[str, Mapping[str, Any] | None],
    *,
    registry: CollectorRegistry | None = None,
) -> list[Processor]:
    """The processors named in `order`, each built from its section of `configs`; those that
    report metrics of their own (scrub's redaction counts) register them on `registry`."""
    unknown = sorted(set(order) - set(KNOWN_PROCESSORS))
    if unknown:
        raise ProcessorConfigError(
            f"pipeline: unknown processor {', '.join(unknown)}; "
            f"known: {', '.join(KNOWN_PROCESSORS)}"
        )
    unused = sorted(set(configs) - set(order))
    if unused:
        raise ProcessorConfigError(
            f"processors: {', '.join(unused)} configured but not in the pipeline"
        )
    processors = []
    for name in order:
        build = importlib.import_module(f"vitalsight.processors.{name}").build
        if registry is not None and "registry" in inspect.signature(build).parameters:
            processors.append(build(configs.get(name), registry=registry))
        else:
            processors.append(build(configs.get(name)))
    return processors
