"""What every processor shares: the interface, and config validation with one specific
message per failure (like the collector-contrib processors' `Validate()`).

A processor lives in its own folder (`vitalsight/processors/<name>/`) with `config.py`
(typed config and its defaults), `processor.py` (the logic), `README.md`, and
`testdata/config.yaml` plus one `testdata/invalid_<reason>.yaml` per validation rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from vitalsight.receivers.signals import Signal

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Processor(Protocol):
    """A step between receiver and exporter; returns the (possibly modified) request.

    It may modify the request in place. It must not raise for bad data; a processor that
    must refuse data (fail closed) drops it and counts what it dropped.

    A processor may also offer `process_view(view: RequestView) -> None`: the pipeline then
    hands it the logs and traces already read by the processors before it
    (`vitalsight.processors.request_view`), and it must make every change to record and
    resource attributes, and every record deletion, through that view.
    """

    def process(self, signal: Signal, request: Any) -> Any: ...


class ProcessorConfigError(ValueError):
    """An invalid processor configuration; the message names the processor, field and rule."""


def validate_config(
    processor: str, model: type[ConfigT], data: Mapping[str, Any] | None
) -> ConfigT:
    """Parse `data` into `model`, turning pydantic's errors into one line per failure."""
    try:
        return model.model_validate(dict(data or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "(config)"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{processor}: {field}: {message}")
        raise ProcessorConfigError("; ".join(problems)) from exc
