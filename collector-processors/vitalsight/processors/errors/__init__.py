"""`errors` processor: stack parsing, source map symbolication and fingerprinting.

`build(config)` validates a config mapping (see `config.ErrorsConfig`) and returns the
processor; `upload_sourcemaps` fills the store the processor reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vitalsight.processors.base import validate_config
from vitalsight.processors.errors.config import ErrorsConfig
from vitalsight.processors.errors.processor import ErrorsProcessor
from vitalsight.processors.errors.sourcemaps import (
    SourceMapError,
    SourceMapStore,
    upload_sourcemaps,
)

NAME = "errors"

__all__ = [
    "NAME",
    "ErrorsConfig",
    "ErrorsProcessor",
    "SourceMapError",
    "SourceMapStore",
    "build",
    "upload_sourcemaps",
]


def build(config: Mapping[str, Any] | None) -> ErrorsProcessor:
    """Validate `config` and return a ready errors processor."""
    return ErrorsProcessor(validate_config(NAME, ErrorsConfig, config))
