"""Assembling the processor pipeline from configuration.

Each processor package exposes `build(config) -> Processor`. The pipeline runs them in the
configured order, like a collector pipeline's `processors:` list.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from vitalsight.processors.base import Processor, ProcessorConfigError

# The order matters: scrub before anything is stored or grouped; enrich uses the client
# address before scrub would mask it, so enrich drops it itself; sample last, so the rate
# it records applies to what is stored.
KNOWN_PROCESSORS = ("enrich", "scrub", "dedup", "errors", "sample")


class ProcessorStatsCollector(Collector):
    """Exports every processor's `counters()` as `vitalsight_processor_events_total`
    {processor, outcome}, read when Prometheus scrapes (nothing on the hot path)."""

    def __init__(self, processors: Mapping[str, Processor]) -> None:
        self._processors = {
            name: processor
            for name, processor in processors.items()
            if callable(getattr(processor, "counters", None))
        }

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "vitalsight_processor_events",
            "What each processor did to the records it saw, by outcome",
            labels=["processor", "outcome"],
        )
        for name, processor in self._processors.items():
            for outcome, value in processor.counters().items():  # type: ignore[attr-defined]
                family.add_metric([name, outcome], value)
        yield family


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
