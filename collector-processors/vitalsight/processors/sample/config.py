"""Configuration of the `sample` processor: every field with its default in one place.

Rates are probabilities of keeping a session, in (0, 1]. A rate of 0 is not allowed: a kept
record is re-weighted by 1 / rate, and "drop everything" is better done by not sending.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_RATE = 0.1
DEFAULT_ERROR_SESSIONS = 100_000
DEFAULT_TARGET_EVENTS_PER_SECOND = 50.0
DEFAULT_FLOOR = 0.01
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_ROUTES = 10_000
DEFAULT_BOOSTS_REFRESH_SECONDS = 30.0

Rate = Annotated[float, Field(gt=0, le=1)]


def _check_routes(routes: dict[str, float]) -> dict[str, float]:
    for route in routes:
        if not route.startswith("/"):
            raise ValueError(
                f"route {route!r} must start with '/' (a route template such as /products/:id)"
            )
    return routes


class AppRates(BaseModel):
    """Rates for one app (`service.name`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Rate | None = None
    """The app's session rate. Default: none (the top-level `rate` applies)."""

    routes: dict[str, Rate] = Field(default_factory=dict)
    """Session rate per route (`browser.page.route`) of this app; the most specific rule."""

    _routes_start_with_slash = field_validator("routes")(_check_routes)


class AdaptiveConfig(BaseModel):
    """Lowering the rate of very-high-traffic routes (per instance, see README)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    """Off by default: adaptive rates depend on the traffic each replica sees, so replicas no
    longer take exactly the same decisions (each record still carries its true rate)."""

    target_events_per_second: float = Field(default=DEFAULT_TARGET_EVENTS_PER_SECOND, gt=0)
    """Events per second per (app, route) this instance aims to keep; > 0. Default 50."""

    floor: Rate = DEFAULT_FLOOR
    """The rate is never lowered below this, so low-traffic pages keep data; (0, 1].
    Default 0.01."""

    window_seconds: float = Field(default=DEFAULT_WINDOW_SECONDS, gt=0)
    """Sliding window over which the observed events/s is measured; > 0. Default 60."""

    max_routes: int = Field(default=DEFAULT_MAX_ROUTES, ge=1)
    """(app, route) pairs tracked at most (least recently seen evicted); an untracked route
    is not lowered (fails open: keeps more). Default 10000."""


class SampleConfig(BaseModel):
    """The `sample` processor's configuration (see README.md for the precedence of rates)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Rate = DEFAULT_RATE
    """Share of sessions kept when no more specific rule applies; (0, 1]. Default 0.1."""

    apps: dict[str, AppRates] = Field(default_factory=dict)
    """Per app (`service.name`): its `rate` and per-route `routes` rates. Default: none."""

    routes: dict[str, Rate] = Field(default_factory=dict)
    """Per route (`browser.page.route`) in every app. Default: none."""

    hash_seed: str = ""
    """Mixed into the session hash. Every replica MUST use the same value (they then agree);
    change it to sample a different set of sessions. Default "" (empty)."""

    keep_errors: bool = True
    """Keep every error record (exception events; spans with an exception event, ERROR status
    or an HTTP 5xx status) at rate 1. Default true."""

    keep_poor_vitals: bool = True
    """Keep every web vital rated `poor` at rate 1 (tail keep of bad experiences).
    Default true."""

    error_sessions: int = Field(default=DEFAULT_ERROR_SESSIONS, ge=0)
    """How many session ids that had an error are remembered (LRU) to keep the rest of those
    sessions at rate 1. Per instance and best effort; 0 disables. Default 100000."""

    without_session: Literal["trace_id", "keep"] = "trace_id"
    """Records without `session.id`: `trace_id` samples them by their trace id at the
    resolved rate (kept when there is no trace id either); `keep` keeps them all at rate 1.
    Default trace_id."""

    adaptive: AdaptiveConfig = Field(default_factory=AdaptiveConfig)
    """Lowering of very-high-traffic routes. Default: disabled."""

    boosts_url: str = ""
    """GET {app: [routes]}, e.g. the insight service's /sampling/boosts; every listed route
    is kept at rate 1. Empty = off (the default). Fails open: if unreachable, boosts lapse
    and the configured rates apply. http:// or https:// only."""

    boosts_refresh_seconds: float = Field(default=DEFAULT_BOOSTS_REFRESH_SECONDS, gt=0)
    """How often `boosts_url` is fetched; a fetched boost lasts twice this long, so one
    missed fetch does not end it; > 0. Default 30."""

    _routes_start_with_slash = field_validator("routes")(_check_routes)

    @field_validator("boosts_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} must be an http:// or https:// URL (or empty: off)")
        return url
