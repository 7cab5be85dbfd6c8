"""Configuration of the errors processor: typed, with every default in one place."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Where uploaded source maps live (`<root>/<app>/<release>/<minified file>.map`). None turns
#: symbolication off; the processor still parses stacks and fingerprints errors.
DEFAULT_SOURCEMAPS_DIR: str | None = None
#: In-app frames that make up the fingerprint (see README, "Fingerprint").
DEFAULT_FINGERPRINT_FRAMES = 3
#: Parsed source maps kept in memory (LRU), per (app, release, file).
DEFAULT_CACHE_SIZE = 64
#: Frames parsed from one stack; browsers send 10 (V8's default Error.stackTraceLimit) to ~100.
DEFAULT_MAX_FRAMES = 50
#: Resource/record attributes naming the app and release a source map was uploaded for.
DEFAULT_APP_ATTRIBUTE = "service.name"
DEFAULT_RELEASE_ATTRIBUTE = "service.version"

MAX_FINGERPRINT_FRAMES = 10
MAX_CACHE_SIZE = 4096
MAX_MAX_FRAMES = 500


class ErrorsConfig(BaseModel):
    """Settings of the `errors` processor.

    Every field fails open: a missing source map, an unreadable one or a stack in an unknown
    format leaves the record as it came (minified stack kept) and still gives it a fingerprint.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sourcemaps_dir: str | None = Field(
        default=DEFAULT_SOURCEMAPS_DIR,
        description=(
            "Root of the source map store, laid out `<root>/<app>/<release>/<file>.map` by "
            "`vitalsight sourcemaps upload`. Default: none (no symbolication). Any non-empty "
            "path; it need not exist yet (maps uploaded later are found). Fails open: an "
            "error whose map is missing keeps its minified frames."
        ),
    )
    fingerprint_frames: int = Field(
        default=DEFAULT_FINGERPRINT_FRAMES,
        description=(
            "How many top in-app frames go into the fingerprint. Default 3; 0 to "
            f"{MAX_FINGERPRINT_FRAMES}. 0 groups by error type and normalized message only."
        ),
    )
    cache_size: int = Field(
        default=DEFAULT_CACHE_SIZE,
        description=(
            "Parsed source maps kept in memory (least recently used evicted). Default 64; "
            f"1 to {MAX_CACHE_SIZE}. A map costs a few times its file size in memory."
        ),
    )
    max_frames: int = Field(
        default=DEFAULT_MAX_FRAMES,
        description=(
            "Frames parsed and symbolicated per stack; the rest are ignored (bounds the "
            f"work per record). Default 50; 1 to {MAX_MAX_FRAMES}."
        ),
    )
    app_attribute: str = Field(
        default=DEFAULT_APP_ATTRIBUTE,
        description=(
            "Attribute (record, else span, else resource) naming the app whose maps to use. "
            "Default `service.name`. Any non-empty attribute name."
        ),
    )
    release_attribute: str = Field(
        default=DEFAULT_RELEASE_ATTRIBUTE,
        description=(
            "Attribute naming the release (the `--release` of the upload). Default "
            "`service.version`. Any non-empty attribute name."
        ),
    )

    @field_validator("sourcemaps_dir")
    @classmethod
    def _non_empty_dir(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a non-empty path (leave it out to turn symbolication off)")
        return value

    @field_validator("fingerprint_frames")
    @classmethod
    def _fingerprint_frames_range(cls, value: int) -> int:
        if not 0 <= value <= MAX_FINGERPRINT_FRAMES:
            raise ValueError(f"must be between 0 and {MAX_FINGERPRINT_FRAMES}, got {value}")
        return value

    @field_validator("cache_size")
    @classmethod
    def _cache_size_range(cls, value: int) -> int:
        if not 1 <= value <= MAX_CACHE_SIZE:
            raise ValueError(f"must be between 1 and {MAX_CACHE_SIZE}, got {value}")
        return value

    @field_validator("max_frames")
    @classmethod
    def _max_frames_range(cls, value: int) -> int:
        if not 1 <= value <= MAX_MAX_FRAMES:
            raise ValueError(f"must be between 1 and {MAX_MAX_FRAMES}, got {value}")
        return value

    @field_validator("app_attribute", "release_attribute")
    @classmethod
    def _non_empty_attribute(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty attribute name")
        return value
