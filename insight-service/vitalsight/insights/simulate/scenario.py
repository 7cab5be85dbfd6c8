"""The scenario file: simulated traffic, the incidents planted in it, the findings expected.

Times inside a scenario are relative to the end of the simulated period (`"-90m"`, `"-2h"`,
`"-1d"`, `"0"`), so the same file replays at any wall-clock time: the simulator ends the
period at (about) real now, which keeps the data inside the retention TTLs.
The JSON Schema of this model is committed as docs/scenario.schema.json.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vitalsight.insights.card import CauseKind, Kind

RELATIVE_TIME_PATTERN = r"^(0|-\d+(\.\d+)?[mhd])$"
RelativeTime = Annotated[
    str,
    Field(
        pattern=RELATIVE_TIME_PATTERN,
        description='Time before the end of the simulated period: "0", "-90m", "-2h", "-1.5d".',
    ),
]
Dimension = Literal["device", "browser", "country", "network"]
VitalName = Literal["LCP", "INP", "CLS", "TTFB", "FCP"]
_UNIT_MINUTES = {"m": 1.0, "h": 60.0, "d": 1440.0}


def minutes_before_end(value: str) -> float:
    """`"-2h"` → 120.0; `"0"` → 0.0."""
    if not re.match(RELATIVE_TIME_PATTERN, value):
        raise ValueError(f"not a relative time: {value!r}")
    if value == "0":
        return 0.0
    return float(value[1:-1]) * _UNIT_MINUTES[value[-1]]


def at(end: datetime, value: str) -> datetime:
    """The absolute time of a relative one, given the end of the simulated period."""
    return end - timedelta(minutes=minutes_before_end(value))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Traffic(_Strict):
    """How many page views, and how they vary over the day and week."""

    page_views_per_minute: float = Field(gt=0, description="Mean over a day (all routes).")
    daily_amplitude: float = Field(
        default=0.4, ge=0, lt=1, description="Peak is (1 + amplitude) * mean, trough (1 - it)."
    )
    peak_hour_utc: int = Field(default=14, ge=0, le=23)
    weekend_factor: float = Field(default=0.8, gt=0, description="Traffic * this on Sat/Sun.")
    noise: float = Field(
        default=0.1, ge=0, le=1, description="Sigma of per-minute log-normal traffic noise."
    )
    sample_rate: float = Field(
        default=1.0, gt=0, le=1, description="SDK session sample rate (errors always kept)."
    )


class Resource(_Strict):
    """A static asset the pages load (bundles, stylesheets)."""

    name: str = Field(description='File name, e.g. "app.js"; served from /static/.')
    initiator_type: Literal["script", "link", "img", "css", "font"] = "script"
    transfer_kb: float = Field(gt=0, description="Compressed size on the wire.")
    render_blocking: bool = Field(
        default=True, description="Whether FCP and LCP wait for it (download and parse)."
    )


class Endpoint(_Strict):
    """An API call a route makes once per page view."""

    template: str = Field(description='URL template, e.g. "/api/search".')
    method: str = "GET"
    median_ms: float = Field(gt=0)
    sigma: float = Field(default=0.4, gt=0, description="Log-normal spread.")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share answering 500.")
    lcp_waits: bool = Field(
        default=False, description="The LCP element renders only after this response."
    )


class Route(_Strict):
    """A page: its share of page views and how it performs before any incident."""

    route: str = Field(description='Route template, e.g. "/product/:id".')
    share: float = Field(gt=0, description="Relative weight among routes.")
    render_ms: float = Field(default=300, gt=0, description="Median LCP render delay after FCP.")
    inp_ms: float = Field(default=120, gt=0, description="Median INP on a desktop.")
    cls: float = Field(default=0.05, ge=0, description="Median CLS when the page shifts.")
    long_tasks: float = Field(default=0.5, ge=0, description="Mean long tasks per page view.")
    resources: list[str] = Field(default_factory=list, description="Names of `resources`.")
    endpoints: list[Endpoint] = Field(default_factory=list)


class Release(_Strict):
    """A release (service.version) and its rollout."""

    version: str
    start: RelativeTime | None = Field(
        default=None, description="When the rollout starts; omitted: live from the beginning."
    )
    rollout_minutes: float = Field(default=20, gt=0, description="Time to reach `final_share`.")
    final_share: float = Field(default=1.0, gt=0, le=1, description="Share of new sessions.")


class ErrorSpec(_Strict):
    """A JavaScript error (one fingerprint) and how often a page view throws it."""

    type: str = "TypeError"
    message: str
    file: str = Field(default="app.js", description="Source file of the top stack frame.")
    line: int = Field(default=1, ge=1)
    function: str = "render"
    rate: float = Field(gt=0, le=1, description="Probability per page view.")


class _Incident(_Strict):
    """What every incident has: a name, when, and which traffic it touches."""

    name: str = Field(description="Referenced by `expect[].incident`.")
    start: RelativeTime | None = Field(
        default=None, description="Start; omitted: the start of `release`'s rollout."
    )
    end: RelativeTime = Field(default="0", description="End (default: the end of the period).")
    release: str | None = Field(default=None, description="Only sessions on this release.")
    routes: list[str] = Field(default_factory=list, description="Only these routes (empty: all).")
    where: dict[Dimension, list[str]] = Field(
        default_factory=dict,
        description="Only this traffic, e.g. {device: [mobile], network: [4g]}.",
    )


class VitalRegression(_Incident):
    """A vital gets slower by a factor (e.g. a release renders the LCP element later)."""

    kind: Literal["vital_regression"]
    metric: VitalName
    factor: float = Field(gt=0, description="Value * factor (1.4 = 40% slower).")


class SlowEndpoint(_Incident):
    """An endpoint gets slower; routes whose LCP waits on it get a slower LCP too."""

    kind: Literal["slow_endpoint"]
    endpoint: str = Field(description="The endpoint's template.")
    add_ms: float = Field(gt=0, description="Median milliseconds added to each call.")


class BundleGrowth(_Incident):
    """A resource grows; download and parse time add to FCP/LCP, most on slow devices."""

    kind: Literal["bundle_growth"]
    resource: str = Field(description="The resource's name.")
    transfer_kb: float = Field(gt=0, description="Its new size on the wire.")


class LongTasks(_Incident):
    """A script adds long tasks (LoAF) that delay interactions: INP rises."""

    kind: Literal["long_tasks"]
    script: str = Field(description='Script file name, e.g. "checkout.js".')
    per_view: float = Field(default=2.0, gt=0, description="Extra long tasks per page view.")
    duration_ms: float = Field(default=180, gt=50, description="Median long task duration.")


class ErrorSpike(_Incident):
    """A new error (one fingerprint) thrown on a share of page views."""

    kind: Literal["error_spike"]
    error: ErrorSpec


class Drift(_Incident):
    """A vital degrades gradually, linearly from factor 1 at `start` to `factor` at `end`."""

    kind: Literal["drift"]
    metric: VitalName
    factor: float = Field(gt=0)


Incident = Annotated[
    VitalRegression | SlowEndpoint | BundleGrowth | LongTasks | ErrorSpike | Drift,
    Field(discriminator="kind"),
]


class ExpectedFinding(_Strict):
    """A card the insight engine should open (matching rules: docs/scenarios.md)."""

    incident: str | None = Field(
        default=None, description="The incident it reports; its start is the change start."
    )
    kind: Kind
    metric: str = Field(description="LCP, INP, CLS, TTFB, FCP, error_rate, request_p95.")
    route: str | None = None
    release: str | None = None
    scope: dict[str, str] = Field(
        default_factory=dict, description="Each given dimension must equal the card's."
    )
    cause_kind: CauseKind | None = Field(default=None, description="Scored as top-1 cause.")
    optional: bool = Field(
        default=False,
        description="A true consequence: a matching card is no false positive, "
        "but recall does not require it.",
    )


class EvaluationWindow(_Strict):
    """The simulated minutes the engine replays, one cycle each."""

    start: RelativeTime = "-3h"
    end: RelativeTime = "0"


class Scenario(_Strict):
    """One simulated app over `days`, with incidents and the findings they should raise."""

    name: str
    description: str = ""
    seed: int = 1
    app: str = Field(description="service.name; unique per scenario so runs can share a store.")
    environment: str = "production"
    host: str = "app.example.com"
    days: float = Field(default=2, gt=0, le=15, description="Length of the simulated history.")
    traffic: Traffic
    resources: list[Resource] = Field(default_factory=list)
    routes: list[Route] = Field(min_length=1)
    releases: list[Release] = Field(min_length=1)
    background_errors: list[ErrorSpec] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    expect: list[ExpectedFinding] = Field(default_factory=list)
    evaluate: EvaluationWindow = EvaluationWindow()

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        resources = {r.name for r in self.resources}
        routes = {r.route for r in self.routes}
        releases = {r.version for r in self.releases}
        endpoints = {e.template for r in self.routes for e in r.endpoints}
        incidents = {i.name for i in self.incidents}
        if self.releases[0].start is not None:
            raise ValueError("the first release must be live from the beginning (no start)")
        for route in self.routes:
            _require(set(route.resources), resources, f"route {route.route} resource")
        for incident in self.incidents:
            _require(set(incident.routes), routes, f"incident {incident.name} route")
            _require(
                {incident.release} if incident.release else set(),
                releases,
                f"incident {incident.name} release",
            )
            if incident.start is None and incident.release is None:
                raise ValueError(f"incident {incident.name} needs a start or a release")
            if isinstance(incident, SlowEndpoint):
                _require({incident.endpoint}, endpoints, f"incident {incident.name} endpoint")
            if isinstance(incident, BundleGrowth):
                _require({incident.resource}, resources, f"incident {incident.name} resource")
        for finding in self.expect:
            _require(
                {finding.incident} if finding.incident else set(),
                incidents,
                "expected finding's incident",
            )
        if minutes_before_end(self.evaluate.start) > self.days * 1440:
            raise ValueError("evaluate.start is before the simulated period")
        return self

    def release(self, version: str) -> Release:
        return next(r for r in self.releases if r.version == version)

    def incident(self, name: str) -> Incident:
        return next(i for i in self.incidents if i.name == name)

    def incident_start(self, incident: Incident, end: datetime) -> datetime:
        """When an incident starts: its own start, else its release's rollout start."""
        if incident.start is not None:
            return at(end, incident.start)
        assert incident.release is not None  # checked by the validator
        release_start = self.release(incident.release).start
        return at(end, release_start or f"-{self.days}d")


def _require(names: set[str], known: set[str], what: str) -> None:
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"{what} not defined: {', '.join(unknown)}")


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario YAML file (raises pydantic.ValidationError)."""
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def scenario_json_schema() -> str:
    """The JSON Schema of the scenario format, as committed in docs/scenario.schema.json."""
    return json.dumps(Scenario.model_json_schema(), indent=2, sort_keys=True) + "\n"
