"""A scenario as the OTLP requests a fleet of browsers running our SDK would send.

Sessions start minute by minute at the scenario's seasonal rate; each picks a browser,
country and network (the demo's realistic mixes) and a release (by rollout), then views a
few routes. Each page view yields what sdk-js sends: a page view, the web vitals with
attribution, fetch client spans, resource timing, long tasks and errors. Vitals are built
from their causes (network, bundle download and parse, the API the LCP element waits on,
render and interaction work), so a planted incident moves them the way it would in a
browser and leaves the evidence an explanation needs. Deterministic for a seed and an end.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as OtlpResource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from vitalsight.insights.simulate.scenario import (
    BundleGrowth,
    Drift,
    ErrorSpec,
    ErrorSpike,
    Incident,
    LongTasks,
    Route,
    Scenario,
    SlowEndpoint,
    VitalRegression,
    at,
)
from vitalsight.service.demo import (
    BROWSERS,
    COUNTRIES,
    DEVICE_SLOWDOWN,
    NETWORKS,
    Browser,
    DemoRequest,
    browser_resource,
    rating,
)
from vitalsight.service.otlp_build import SCOPE, AttributeValue, client_span, event, key_values

_MS = 1_000_000
_MINUTE_NS = 60_000_000_000
PAGES_PER_SESSION = 2.5
SESSIONS_PER_REQUEST = 300  # a large batch, as an OTel Collector gateway forwards browsers
# Download speed (KB/s) and round trip (ms) per effective connection type ("" = unknown).
BANDWIDTH_KBPS = {"4g": 1200.0, "3g": 180.0, "2g": 45.0, "slow-2g": 20.0, "": 1500.0}
RTT_MS = {"4g": 70.0, "3g": 280.0, "2g": 800.0, "slow-2g": 1800.0, "": 50.0}
PARSE_MS_PER_KB = 0.25  # desktop script parse/compile per KB on the wire; * device slowdown
CACHED_SHARE = 0.35  # repeat visitors load the bundles from the HTTP cache


def period(scenario: Scenario, end: datetime) -> tuple[datetime, datetime]:
    """The simulated period: `days` ending at `end` (whole minutes, UTC)."""
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    return end - timedelta(days=scenario.days), end


def generate(scenario: Scenario, end: datetime) -> Iterator[DemoRequest]:
    """Yield OTLP requests for the scenario's whole period, in session start order."""
    start, end = period(scenario, end)
    simulator = _Simulator(scenario, end)
    rng = random.Random(scenario.seed)
    pending: list[_Session] = []
    minutes = int((end - start) / timedelta(minutes=1))
    for minute in range(minutes):
        minute_start = start + timedelta(minutes=minute)
        sessions = _poisson(rng, page_views_rate(scenario, minute_start, rng) / PAGES_PER_SESSION)
        for _ in range(sessions):
            session_start = minute_start + timedelta(seconds=rng.random() * 60)
            pending.append(simulator.session(rng, session_start))
            if len(pending) >= SESSIONS_PER_REQUEST:
                yield from _requests(pending)
                pending = []
    if pending:
        yield from _requests(pending)


def page_views_rate(scenario: Scenario, minute: datetime, rng: random.Random) -> float:
    """Expected page views in a minute: daily cycle * weekend * log-normal noise."""
    t = scenario.traffic
    hour = minute.hour + minute.minute / 60
    daily = 1 + t.daily_amplitude * math.cos(2 * math.pi * (hour - t.peak_hour_utc) / 24)
    weekly = t.weekend_factor if minute.weekday() >= 5 else 1.0
    noise = rng.lognormvariate(0, t.noise) if t.noise else 1.0
    return t.page_views_per_minute * daily * weekly * noise


@dataclass
class _Session:
    resource: dict[str, AttributeValue]
    records: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class _Visitor:
    browser: Browser
    country: str
    country_slowdown: float
    network: str
    release: str
    sampled: bool
    session_id: str

    def dimension(self, name: str) -> str:
        values = {
            "device": self.browser.device,
            "browser": self.browser.name,
            "country": self.country,
            "network": self.network,
        }
        return values[name]


class _Simulator:
    def __init__(self, scenario: Scenario, end: datetime) -> None:
        self.scenario = scenario
        self.end = end
        self.end_ns = int(end.timestamp() * 1e9)
        self.routes = [r.route for r in scenario.routes]
        self.route_weights = [r.share for r in scenario.routes]
        self.by_route = {r.route: r for r in scenario.routes}
        self.resources = {r.name: r for r in scenario.resources}
        self.windows = [
            (incident, scenario.incident_start(incident, end), at(end, incident.end))
            for incident in scenario.incidents
        ]
        self.release_starts = [
            (r, at(end, r.start) if r.start else None) for r in reversed(scenario.releases)
        ]

    def session(self, rng: random.Random, start: datetime) -> _Session:
        browser = rng.choices(BROWSERS, [b.weight for b in BROWSERS])[0]
        country, _, slowdown = rng.choices(COUNTRIES, [c[1] for c in COUNTRIES])[0]
        network = ""
        if browser.chromium:  # only Chromium has the Network Information API
            options = NETWORKS[browser.device]
            network = rng.choices([n for n, _ in options], [w for _, w in options])[0]
        visitor = _Visitor(
            browser=browser,
            country=country,
            country_slowdown=slowdown,
            network=network,
            release=self._release(rng, start),
            sampled=rng.random() < self.scenario.traffic.sample_rate,
            session_id=rng.getrandbits(128).to_bytes(16, "big").hex(),
        )
        resource = browser_resource(self.scenario.app, visitor.release, browser, country)
        resource["deployment.environment.name"] = self.scenario.environment
        resource["session.id"] = visitor.session_id
        if network:
            resource["network.connection.subtype"] = network
        session = _Session(resource)
        at_ns = int(start.timestamp() * 1e9)
        pages = 1 + _poisson(rng, PAGES_PER_SESSION - 1)
        for _ in range(pages):
            if at_ns >= self.end_ns:
                break
            route = rng.choices(self.routes, self.route_weights)[0]
            _PageView(self, rng, visitor, session, self.by_route[route], at_ns).emit()
            at_ns += int(rng.lognormvariate(math.log(20_000), 0.6) * _MS)
        return session

    def _release(self, rng: random.Random, start: datetime) -> str:
        for release, release_start in self.release_starts:
            if release_start is None:
                return release.version
            progress = (start - release_start) / timedelta(minutes=release.rollout_minutes)
            if rng.random() < release.final_share * min(1.0, max(0.0, progress)):
                return release.version
        return self.scenario.releases[0].version

    def active(self, visitor: _Visitor, route: str, at_ns: int) -> list[tuple[Incident, float]]:
        """The incidents touching this page view, with their progress (0..1) for drifts."""
        now = datetime.fromtimestamp(at_ns / 1e9, UTC)
        found = []
        for incident, start, end in self.windows:
            if not start <= now < end:
                continue
            if incident.release is not None and incident.release != visitor.release:
                continue
            if incident.routes and route not in incident.routes:
                continue
            if any(visitor.dimension(d) not in values for d, values in incident.where.items()):
                continue
            found.append((incident, (now - start) / (end - start)))
        return found


class _PageView:
    """One page view's records, built from its causes."""

    def __init__(
        self,
        sim: _Simulator,
        rng: random.Random,
        visitor: _Visitor,
        session: _Session,
        route: Route,
        at_ns: int,
    ) -> None:
        self.sim, self.rng, self.v, self.session, self.route = sim, rng, visitor, session, route
        self.at_ns = at_ns
        self.incidents = sim.active(visitor, route.route, at_ns)
        self.device = DEVICE_SLOWDOWN[visitor.browser.device]
        self.context: dict[str, AttributeValue] = {
            "browser.page.view_id": rng.getrandbits(64).to_bytes(8, "big").hex(),
            "browser.page.route": route.route,
            "browser.page.url": f"https://{sim.scenario.host}{route.route}",
            "vitalsight.sample_rate": sim.scenario.traffic.sample_rate,
        }

    def emit(self) -> None:
        api_wait = self._fetches()
        if self.v.sampled:
            ttfb = self._lognormal(160 * self.v.country_slowdown, 0.4) + 2 * RTT_MS[self.v.network]
            blocking = self._resources(ttfb)
            fcp = self._factor("FCP", ttfb + blocking + self._lognormal(120, 0.4) * self.device)
            lcp = fcp + api_wait + self._lognormal(self.route.render_ms, 0.5) * self.device
            self._event("browser.page_view", 0, self._page_view_attributes(ttfb))
            self._vital("TTFB", self._factor("TTFB", ttfb), ttfb, {})
            self._vital("FCP", fcp, fcp, {"time_to_first_byte": round(ttfb, 1)})
            if self.v.browser.lcp:
                lcp = max(fcp, self._factor("LCP", lcp))
                self._vital("LCP", lcp, lcp, {"target": "main img.hero"})
            self._interactions()
        self._errors()

    def _lognormal(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def _factor(self, metric: str, value: float) -> float:
        """A vital after the regressions and drifts that touch it."""
        for incident, progress in self.incidents:
            if isinstance(incident, VitalRegression) and incident.metric == metric:
                value *= incident.factor
            elif isinstance(incident, Drift) and incident.metric == metric:
                value *= 1 + (incident.factor - 1) * progress
        return value

    def _event(self, name: str, offset_ms: float, attributes: Mapping[str, AttributeValue]) -> None:
        record = event(name, self.at_ns + int(offset_ms * _MS), {**self.context, **attributes})
        if record.time_unix_nano < self.sim.end_ns:  # later: not reported yet
            self.session.records.append(record)

    def _vital(
        self, name: str, value: float, offset_ms: float, attribution: Mapping[str, AttributeValue]
    ) -> None:
        value = round(value, 4) if name == "CLS" else round(value, 1)
        attributes: dict[str, AttributeValue] = {
            "browser.web_vital.name": name,
            "browser.web_vital.value": value,
            "browser.web_vital.rating": rating(name, value),
            "browser.web_vital.delta": value,
            "browser.web_vital.id": f"v5-{self.at_ns // _MS}-{self.rng.randrange(10**12)}",
            "browser.web_vital.navigation_type": "navigate",
        }
        for key, item in attribution.items():
            attributes[f"browser.web_vital.attribution.{key}"] = item
        self._event("browser.web_vital", offset_ms, attributes)

    def _page_view_attributes(self, ttfb: float) -> dict[str, AttributeValue]:
        return {
            "browser.page_view.type": "navigation",
            "browser.navigation_timing.ttfb": round(ttfb, 1),
            "browser.navigation_timing.type": "navigate",
        }

    def _resources(self, ttfb: float) -> float:
        """Resource timing of the route's assets; returns the render-blocking time."""
        cached = self.rng.random() < CACHED_SHARE
        blocking = 0.0
        for name in self.route.resources:
            resource = self.sim.resources[name]
            transfer_kb = resource.transfer_kb
            for incident, _ in self.incidents:
                if isinstance(incident, BundleGrowth) and incident.resource == name:
                    transfer_kb = incident.transfer_kb
            wire_kb = 0.0 if cached else transfer_kb
            download = RTT_MS[self.v.network] + wire_kb / BANDWIDTH_KBPS[self.v.network] * 1000
            is_script = resource.initiator_type == "script"
            parse = transfer_kb * PARSE_MS_PER_KB * self.device if is_script else 0.0
            if resource.render_blocking:
                blocking += download + parse
            self._event(
                "browser.resource.timing",
                ttfb + download,
                {
                    "url.full": f"https://{self.sim.scenario.host}/static/{name}",
                    "browser.resource.initiator_type": resource.initiator_type,
                    "browser.resource.transfer_size": int(wire_kb * 1024),
                    "browser.resource.encoded_body_size": int(transfer_kb * 1024),
                    "browser.resource.decoded_body_size": int(transfer_kb * 1024 * 3.4),
                    "browser.resource.duration": round(download, 1),
                    "browser.resource.render_blocking": "blocking"
                    if resource.render_blocking
                    else "non-blocking",
                },
            )
        return blocking

    def _fetches(self) -> float:
        """Client spans of the route's API calls; returns how long the LCP element waits."""
        wait = 0.0
        offset = 150.0
        for endpoint in self.route.endpoints:
            duration = self._lognormal(endpoint.median_ms, endpoint.sigma)
            for incident, _ in self.incidents:
                if isinstance(incident, SlowEndpoint) and incident.endpoint == endpoint.template:
                    duration += self._lognormal(incident.add_ms, 0.25)
            duration += RTT_MS[self.v.network]
            if endpoint.lcp_waits:
                wait = max(wait, duration)
            status = 500 if self.rng.random() < endpoint.error_rate else 200
            if self.v.sampled:
                self._span(endpoint.method, endpoint.template, status, offset, duration)
            offset += self.rng.uniform(0, 100)
        return wait

    def _span(self, method: str, template: str, status: int, offset: float, ms: float) -> None:
        host = self.sim.scenario.host
        attributes: dict[str, AttributeValue] = {
            **self.context,
            "http.request.method": method,
            "url.full": f"https://{host}{template}",
            "url.template": template,
            "server.address": host,
            "http.response.status_code": status,
        }
        if status >= 400:
            attributes["error.type"] = str(status)
        span = client_span(
            trace_id=self.rng.getrandbits(128).to_bytes(16, "big"),
            span_id=self.rng.getrandbits(64).to_bytes(8, "big"),
            name=f"{method} {template}",
            start_ns=self.at_ns + int(offset * _MS),
            duration_ns=int(ms * _MS),
            attributes=attributes,
        )
        if status >= 400:
            span.status.code = Status.STATUS_CODE_ERROR
        if span.end_time_unix_nano < self.sim.end_ns:
            self.session.spans.append(span)

    def _interactions(self) -> None:
        """CLS and INP (when the page is hidden), and the long tasks behind INP."""
        hidden_at = self._lognormal(15_000, 0.5)
        cls = 0.0 if self.rng.random() < 0.45 else self._lognormal(self.route.cls, 0.9)
        self._vital("CLS", self._factor("CLS", cls), hidden_at, {"load_state": "complete"})
        app_script = f"https://{self.sim.scenario.host}/static/app.js"
        for _ in range(_poisson(self.rng, self.route.long_tasks * self.device)):
            self._long_task(app_script, 50 + self._lognormal(40, 0.7) * self.device, hidden_at)
        inp_script, extra = app_script, 0.0
        for incident, _ in self.incidents:
            if isinstance(incident, LongTasks):
                script = f"https://{self.sim.scenario.host}/static/{incident.script}"
                for _ in range(_poisson(self.rng, incident.per_view)):
                    duration = self._lognormal(incident.duration_ms, 0.4) * self.device
                    self._long_task(script, duration, hidden_at)
                    extra = max(extra, duration)
                inp_script = script if extra else inp_script
        if not self.v.browser.inp or self.rng.random() > 0.75:  # no interaction, no INP
            return
        device = self.device**1.3 * 0.75
        input_delay = self._lognormal(self.route.inp_ms * 0.15, 0.8) * device + extra * 0.8
        processing = self._lognormal(self.route.inp_ms * 0.55, 0.6) * device
        presentation = self._lognormal(self.route.inp_ms * 0.3, 0.5) * device
        inp = self._factor("INP", input_delay + processing + presentation)
        attribution: dict[str, AttributeValue] = {
            "input_delay": round(input_delay, 1),
            "processing_duration": round(processing, 1),
            "presentation_delay": round(presentation, 1),
            "script_url": inp_script,
            "load_state": "complete",
        }
        self._vital("INP", inp, hidden_at, attribution)

    def _long_task(self, script: str, duration: float, hidden_at: float) -> None:
        self._event(
            "browser.long_task",
            self.rng.uniform(0, hidden_at),
            {
                "browser.long_task.duration": round(duration, 1),
                "browser.long_task.type": "long-animation-frame",
                "browser.long_task.blocking_duration": round(max(duration - 50, 0), 1),
                "browser.long_task.script_url": script,
                "browser.long_task.invoker": "DOMWindow.onclick",
            },
        )

    def _errors(self) -> None:
        specs: list[ErrorSpec] = list(self.sim.scenario.background_errors)
        specs += [i.error for i, _ in self.incidents if isinstance(i, ErrorSpike)]
        for spec in specs:
            if self.rng.random() < spec.rate:
                self._exception(spec)

    def _exception(self, spec: ErrorSpec) -> None:
        url = f"https://{self.sim.scenario.host}/static/{spec.file}"
        attributes: dict[str, AttributeValue] = {
            "exception.type": spec.type,
            "exception.message": spec.message,
            "exception.stacktrace": f"{spec.type}: {spec.message}\n"
            f"    at {spec.function} ({url}:{spec.line}:{self.rng.randint(1, 80)})",
            "vitalsight.error.source": "error",
            "vitalsight.sample_rate": 1,  # errors are kept in every session (sdk-js)
        }
        before = len(self.session.records)
        self._event("exception", self.rng.uniform(0, 8000), attributes)
        if len(self.session.records) > before:
            record = self.session.records[-1]
            record.severity_number = SeverityNumber.SEVERITY_NUMBER_ERROR
            record.severity_text = "ERROR"


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation: exp(-mean) underflows the product method
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _requests(sessions: Sequence[_Session]) -> Iterator[DemoRequest]:
    logs = [
        ResourceLogs(
            resource=OtlpResource(attributes=key_values(s.resource)),
            scope_logs=[ScopeLogs(scope=SCOPE, log_records=s.records)],
        )
        for s in sessions
        if s.records
    ]
    if logs:
        yield ExportLogsServiceRequest(resource_logs=logs)
    spans = [
        ResourceSpans(
            resource=OtlpResource(attributes=key_values(s.resource)),
            scope_spans=[ScopeSpans(scope=SCOPE, spans=s.spans)],
        )
        for s in sessions
        if s.spans
    ]
    if spans:
        yield ExportTraceServiceRequest(resource_spans=spans)
