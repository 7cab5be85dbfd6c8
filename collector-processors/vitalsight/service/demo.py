"""Synthetic real-user traffic for `vitalsight demo`, the ingest benchmark and tests.

`generate_demo()` builds the OTLP requests a fleet of browsers running our SDK would send
(docs/ARCHITECTURE.md, "Data contract"): two apps, SPA and multi-page navigation, the five web
vitals with attribution, fetch client spans, errors, long tasks and resource timing, with
log-normal distributions shaped by device, network and country. It is deterministic for a
seed and a start time.

The traffic tells a story that `vitalsight report` should surface:

- `shop-web` rolls out release 1.2.9 over 1.2.8 during the window, and 1.2.9 regresses LCP
  on `/results` (`REGRESSION`): the result thumbnails render late.
- 1.2.9 also ships a new error on `/results` (`SPIKING_ERROR`) and a bigger `app.js`.
- `/api/recommendations` is the slow endpoint; `POST /api/checkout` fails with 500s now and
  then (and the page reports an unhandled rejection).

`vitalsight.service.demo_send.send_demo()` posts them to a receiver.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.logs.v1.logs_pb2 import (
    LogRecord,
    ResourceLogs,
    ScopeLogs,
    SeverityNumber,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from vitalsight.service.otlp_build import (
    SCOPE,
    AttributeValue,
    client_span,
    event,
    key_values,
)

logger = logging.getLogger(__name__)

DemoRequest = ExportLogsServiceRequest | ExportTraceServiceRequest

DEFAULT_SEED = 7
DEFAULT_MINUTES = 30
DEFAULT_SESSIONS_PER_MINUTE = 20
DEFAULT_SESSIONS_PER_REQUEST = 5
SDK_VERSION = "0.1.0"

_MS = 1_000_000  # nanoseconds per millisecond


@dataclass(frozen=True)
class Regression:
    """A planted LCP regression: `release` renders the LCP element of `route` later."""

    app: str
    route: str
    baseline_release: str
    release: str
    extra_render_delay_ms: float  # median of the added element render delay


REGRESSION = Regression(
    app="shop-web",
    route="/results",
    baseline_release="1.2.8",
    release="1.2.9",
    extra_render_delay_ms=1300.0,
)


@dataclass(frozen=True)
class ErrorKind:
    """One error fingerprint: where it happens, how often per page view, in which releases."""

    type: str
    message: str
    source: str  # vitalsight.error.source
    stack_frame: str  # function name in the top frame
    rate: float  # probability per page view
    routes: tuple[str, ...] = ()  # empty: any route
    releases: tuple[str, ...] = ()  # empty: any release


SPIKING_ERROR = ErrorKind(
    type="TypeError",
    message="Cannot read properties of undefined (reading 'thumbnail')",
    source="error",
    stack_frame="ResultCard.render",
    rate=0.12,
    routes=("/results",),
    releases=("1.2.9",),
)


@dataclass(frozen=True)
class Fetch:
    """An API call a page makes; `{id}` and `{q}` in `path` are filled per call."""

    method: str
    path: str
    template: str
    median_ms: float
    sigma: float = 0.5
    error_rate: float = 0.0
    error_status: int = 500
    not_found_rate: float = 0.0
    probability: float = 1.0


@dataclass(frozen=True)
class RouteProfile:
    """How a page behaves: its LCP element, interaction cost, layout shifts, API calls and
    where users go next (`""` = leave)."""

    route: str
    lcp_element: str
    lcp_image: str  # path on the CDN, "" when the LCP element is text
    render_delay_ms: float  # median element render delay after the resource arrived
    inp_ms: float
    cls: float
    long_tasks: float  # mean long tasks per page view
    fetches: tuple[Fetch, ...]
    next: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class AppProfile:
    """An app: host, releases (the new one rolls out during the window), pages, errors."""

    name: str
    host: str
    api_host: str
    releases: tuple[str, ...]  # (old, new) or (only,)
    share: float  # share of all sessions
    sample_rate: float  # sdk-js `sampleRate`; errors are always kept
    spa: bool  # later page views are route changes
    entry: tuple[tuple[str, float], ...]
    routes: Mapping[str, RouteProfile]
    errors: tuple[ErrorKind, ...]
    bundle_bytes: Mapping[str, int]  # app.js decoded size per release
    capture_query_string: bool = False


_SHOP_ROUTES = {
    "/": RouteProfile(
        route="/",
        lcp_element="section.hero > img.hero-banner",
        lcp_image="/img/hero-summer.avif",
        render_delay_ms=120,
        inp_ms=90,
        cls=0.03,
        long_tasks=0.6,
        fetches=(Fetch("GET", "/api/featured", "/api/featured", 110),),
        next=(("/search", 0.35), ("/product/:id", 0.2), ("/results", 0.1), ("", 0.35)),
    ),
    "/search": RouteProfile(
        route="/search",
        lcp_element="h1.search-title",
        lcp_image="",
        render_delay_ms=60,
        inp_ms=140,
        cls=0.01,
        long_tasks=0.4,
        fetches=(Fetch("GET", "/api/search/suggest?q={q}", "/api/search/suggest", 55, 0.4),),
        next=(("/results", 0.8), ("", 0.2)),
    ),
    "/results": RouteProfile(
        route="/results",
        lcp_element="ul.results > li:nth-child(1) img.result-thumbnail",
        lcp_image="/thumbs/{id}.webp",
        render_delay_ms=150,
        inp_ms=160,
        cls=0.06,
        long_tasks=1.0,
        fetches=(
            Fetch("GET", "/api/search?q={q}&page=1", "/api/search", 260, 0.55, error_rate=0.006),
        ),
        next=(("/product/:id", 0.55), ("/results", 0.1), ("/search", 0.1), ("", 0.25)),
    ),
    "/product/:id": RouteProfile(
        route="/product/:id",
        lcp_element="div.gallery img.product-image",
        lcp_image="/products/{id}/main.avif",
        render_delay_ms=110,
        inp_ms=120,
        cls=0.09,
        long_tasks=0.8,
        fetches=(
            Fetch("GET", "/api/products/{id}", "/api/products/:id", 140, not_found_rate=0.02),
            Fetch(
                "GET",
                "/api/recommendations?product={id}",
                "/api/recommendations",
                1400,
                0.5,
                error_rate=0.02,
                error_status=504,
            ),
        ),
        next=(("/cart", 0.3), ("/results", 0.2), ("/product/:id", 0.1), ("", 0.4)),
    ),
    "/cart": RouteProfile(
        route="/cart",
        lcp_element="table.cart-items",
        lcp_image="",
        render_delay_ms=80,
        inp_ms=110,
        cls=0.02,
        long_tasks=0.3,
        fetches=(Fetch("GET", "/api/cart", "/api/cart", 90),),
        next=(("/checkout", 0.6), ("", 0.4)),
    ),
    "/checkout": RouteProfile(
        route="/checkout",
        lcp_element="form#checkout h2",
        lcp_image="",
        render_delay_ms=90,
        inp_ms=180,
        cls=0.04,
        long_tasks=0.7,
        fetches=(
            Fetch("GET", "/api/cart", "/api/cart", 90),
            Fetch("POST", "/api/checkout", "/api/checkout", 420, 0.45, error_rate=0.04),
        ),
        next=(("", 1.0),),
    ),
}

_DOCS_ROUTES = {
    "/": RouteProfile(
        route="/",
        lcp_element="main h1",
        lcp_image="",
        render_delay_ms=70,
        inp_ms=70,
        cls=0.02,
        long_tasks=0.3,
        fetches=(),
        next=(("/docs/:section/:page", 0.6), ("/search", 0.2), ("/changelog", 0.05), ("", 0.15)),
    ),
    "/docs/:section/:page": RouteProfile(
        route="/docs/:section/:page",
        lcp_element="article.doc p:first-of-type",
        lcp_image="",
        render_delay_ms=90,
        inp_ms=80,
        cls=0.05,
        long_tasks=0.5,
        fetches=(
            Fetch("GET", "/api/docs/{id}/toc", "/api/docs/:id/toc", 70),
            Fetch("POST", "/api/feedback", "/api/feedback", 160, probability=0.05),
        ),
        next=(("/docs/:section/:page", 0.55), ("/search", 0.15), ("", 0.3)),
    ),
    "/search": RouteProfile(
        route="/search",
        lcp_element="input#q",
        lcp_image="",
        render_delay_ms=50,
        inp_ms=150,
        cls=0.01,
        long_tasks=0.6,
        fetches=(Fetch("GET", "/api/docs/search?q={q}", "/api/docs/search", 180, 0.6),),
        next=(("/docs/:section/:page", 0.7), ("", 0.3)),
    ),
    "/changelog": RouteProfile(
        route="/changelog",
        lcp_element="article.changelog h2",
        lcp_image="",
        render_delay_ms=80,
        inp_ms=70,
        cls=0.03,
        long_tasks=0.2,
        fetches=(),
        next=(("/docs/:section/:page", 0.5), ("", 0.5)),
    ),
}

# An unhandled rejection the checkout page reports when `POST /api/checkout` fails.
CHECKOUT_REJECTION = ErrorKind(
    type="Error",
    message="Request failed with status code 500",
    source="unhandledrejection",
    stack_frame="submitOrder",
    rate=0.0,
    routes=("/checkout",),
)

_COMMON_ERRORS = (
    ErrorKind(
        type="Error",
        message="ResizeObserver loop completed with undelivered notifications.",
        source="error",
        stack_frame="",
        rate=0.01,
    ),
    ErrorKind(
        type="ChunkLoadError",
        message="Loading chunk 731 failed.",
        source="unhandledrejection",
        stack_frame="__webpack_require__.f.j",
        rate=0.003,
    ),
)

APPS: tuple[AppProfile, ...] = (
    AppProfile(
        name="shop-web",
        host="shop.example.com",
        api_host="shop.example.com",
        releases=(REGRESSION.baseline_release, REGRESSION.release),
        share=0.7,
        sample_rate=1.0,
        spa=False,
        entry=(("/", 0.55), ("/product/:id", 0.25), ("/search", 0.12), ("/results", 0.08)),
        routes=_SHOP_ROUTES,
        errors=(
            *_COMMON_ERRORS,
            SPIKING_ERROR,
            ErrorKind(
                type="TypeError",
                message="Cannot read properties of null (reading 'price')",
                source="error",
                stack_frame="PriceTag.format",
                rate=0.008,
                routes=("/product/:id", "/cart"),
            ),
        ),
        bundle_bytes={"1.2.8": 412_331, "1.2.9": 538_907},
        capture_query_string=True,
    ),
    AppProfile(
        name="docs-site",
        host="docs.example.com",
        api_host="docs.example.com",
        releases=("3.4.0",),
        share=0.3,
        sample_rate=0.5,
        spa=True,
        entry=(("/", 0.3), ("/docs/:section/:page", 0.6), ("/search", 0.1)),
        routes=_DOCS_ROUTES,
        errors=(
            *_COMMON_ERRORS,
            ErrorKind(
                type="TypeError",
                message="hljs.highlightElement is not a function",
                source="error",
                stack_frame="highlightCodeBlocks",
                rate=0.004,
                routes=("/docs/:section/:page",),
            ),
        ),
        bundle_bytes={"3.4.0": 188_412},
    ),
)


@dataclass(frozen=True)
class Browser:
    """A browser as its user agent and the SDK's `browserContext()` describe it."""

    name: str
    version: str
    os: str
    device: str
    user_agent: str
    weight: float
    chromium: bool  # has userAgentData, Network Information API, INP, LCP
    lcp: bool = True  # Safari reports neither LCP nor INP (web-vitals browser support)
    inp: bool = True
    screen: tuple[int, int, float] = (1920, 1080, 1.0)


BROWSERS: tuple[Browser, ...] = (
    Browser(
        "Chrome",
        "126.0.0.0",
        "Windows",
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        0.26,
        chromium=True,
    ),
    Browser(
        "Chrome",
        "126.0.0.0",
        "macOS",
        "desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        0.08,
        chromium=True,
        screen=(1512, 982, 2.0),
    ),
    Browser(
        "Edge",
        "126.0.0.0",
        "Windows",
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        0.06,
        chromium=True,
    ),
    Browser(
        "Firefox",
        "127.0",
        "Windows",
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        0.05,
        chromium=False,
        inp=False,
    ),
    Browser(
        "Safari",
        "17.5",
        "macOS",
        "desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        0.05,
        chromium=False,
        lcp=False,
        inp=False,
        screen=(1512, 982, 2.0),
    ),
    Browser(
        "Chrome",
        "126.0.6478.71",
        "Android",
        "mobile",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.71 Mobile Safari/537.36",
        0.25,
        chromium=True,
        screen=(412, 915, 2.625),
    ),
    Browser(
        "Samsung Internet",
        "25.0",
        "Android",
        "mobile",
        "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        0.04,
        chromium=True,
        screen=(360, 780, 3.0),
    ),
    Browser(
        "Safari",
        "17.5",
        "iOS",
        "mobile",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        0.14,
        chromium=False,
        lcp=False,
        inp=False,
        screen=(393, 852, 3.0),
    ),
    Browser(
        "Safari",
        "17.5",
        "iOS",
        "tablet",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        0.03,
        chromium=False,
        lcp=False,
        inp=False,
        screen=(820, 1180, 2.0),
    ),
    Browser(
        "Chrome",
        "126.0.6478.71",
        "Android",
        "tablet",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.71 Safari/537.36",
        0.04,
        chromium=True,
        screen=(800, 1280, 2.0),
    ),
)

# (ISO code, share of sessions, TTFB multiplier: distance to the origin in us-east / eu-west)
COUNTRIES: tuple[tuple[str, float, float], ...] = (
    ("US", 0.33, 1.0),
    ("DE", 0.12, 1.05),
    ("GB", 0.10, 1.0),
    ("IN", 0.10, 1.7),
    ("BR", 0.08, 1.5),
    ("FR", 0.07, 1.05),
    ("JP", 0.06, 1.3),
    ("CA", 0.05, 1.0),
    ("AU", 0.05, 1.5),
    ("NG", 0.04, 2.1),
)
LANGUAGES = {
    "US": "en-US",
    "DE": "de-DE",
    "GB": "en-GB",
    "IN": "en-IN",
    "BR": "pt-BR",
    "FR": "fr-FR",
    "JP": "ja-JP",
    "CA": "en-CA",
    "AU": "en-AU",
    "NG": "en-NG",
}
TIMEZONES = {
    "US": "America/New_York",
    "DE": "Europe/Berlin",
    "GB": "Europe/London",
    "IN": "Asia/Kolkata",
    "BR": "America/Sao_Paulo",
    "FR": "Europe/Paris",
    "JP": "Asia/Tokyo",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "NG": "Africa/Lagos",
}

# effectiveType share per device class, and how much slower transfers get on it.
NETWORKS: Mapping[str, tuple[tuple[str, float], ...]] = {
    "desktop": (("4g", 0.97), ("3g", 0.03)),
    "tablet": (("4g", 0.92), ("3g", 0.08)),
    "mobile": (("4g", 0.8), ("3g", 0.15), ("2g", 0.04), ("slow-2g", 0.01)),
}
NETWORK_SLOWDOWN = {"4g": 1.0, "3g": 2.2, "2g": 4.0, "slow-2g": 7.0, "": 1.0}
DEVICE_SLOWDOWN = {"desktop": 1.0, "tablet": 1.25, "mobile": 1.6}

SEARCH_TERMS = (
    "running shoes",
    "rain jacket",
    "headphones",
    "desk lamp",
    "coffee grinder",
    "yoga mat",
    "backpack",
    "sunglasses",
    "water bottle",
    "usb-c cable",
)
DOC_SECTIONS = ("getting-started", "sdk", "collector", "dashboards", "alerts")
DOC_PAGES = ("overview", "install", "configuration", "sampling", "privacy", "troubleshooting")
NAVIGATION_TYPES = (
    ("navigate", 0.88),
    ("reload", 0.06),
    ("back-forward", 0.04),
    ("prerender", 0.02),
)
INVOKERS = (
    "DOMWindow.onclick",
    "Response.json.then",
    "TimerHandler:setTimeout",
    "IntersectionObserver.callback",
    "DOMWindow.onload",
)

# web.dev thresholds (https://web.dev/articles/vitals): (good up to, needs improvement up to)
THRESHOLDS: Mapping[str, tuple[float, float]] = {
    "LCP": (2500, 4000),
    "INP": (200, 500),
    "CLS": (0.1, 0.25),
    "FCP": (1800, 3000),
    "TTFB": (800, 1800),
}


def rating(name: str, value: float) -> str:
    """The web-vitals rating of a value (`good`, `needs-improvement` or `poor`)."""
    good, poor = THRESHOLDS[name]
    if value <= good:
        return "good"
    return "needs-improvement" if value <= poor else "poor"


def event_count(request: DemoRequest) -> int:
    """Log records or spans in a request: what the benchmark counts as events."""
    if isinstance(request, ExportLogsServiceRequest):
        return sum(
            len(scope.log_records) for rl in request.resource_logs for scope in rl.scope_logs
        )
    return sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)


def generate_demo(
    *,
    seed: int = DEFAULT_SEED,
    minutes: int = DEFAULT_MINUTES,
    sessions_per_minute: int = DEFAULT_SESSIONS_PER_MINUTE,
    start_ns: int | None = None,
    sessions_per_request: int = DEFAULT_SESSIONS_PER_REQUEST,
) -> Iterator[DemoRequest]:
    """Yield OTLP requests for `minutes` of traffic, in session start order.

    Args:
        seed: the same seed and `start_ns` give the same requests, byte for byte.
        minutes: length of the window; sessions start uniformly within it.
        sessions_per_minute: sessions starting per minute (exactly this many).
        start_ns: start of the window, Unix epoch ns. Default: `minutes` before now, so the
            traffic ends now. Page views that would fall after the window end are not sent
            (those sessions are still going on).
        sessions_per_request: sessions whose records share one request (one `ResourceLogs`
            per session, as a collector batches browsers). 1 is what a browser sends.

    Yields:
        For each group of sessions an `ExportLogsServiceRequest`, then an
        `ExportTraceServiceRequest` when the sessions made API calls.
    """
    if minutes <= 0 or sessions_per_minute <= 0 or sessions_per_request <= 0:
        raise ValueError("minutes, sessions_per_minute and sessions_per_request must be > 0")
    if start_ns is None:
        start_ns = time.time_ns() - minutes * 60 * 1_000_000_000
    end_ns = start_ns + minutes * 60 * 1_000_000_000
    rng = random.Random(seed)
    pending: list[_Session] = []
    for minute in range(minutes):
        minute_ns = start_ns + minute * 60 * 1_000_000_000
        starts = sorted(minute_ns + int(rng.random() * 60e9) for _ in range(sessions_per_minute))
        for session_start in starts:
            progress = (session_start - start_ns) / (end_ns - start_ns)
            pending.append(_simulate_session(rng, session_start, end_ns, progress))
            if len(pending) == sessions_per_request:
                yield from _requests(pending)
                pending = []
    if pending:
        yield from _requests(pending)


@dataclass
class _Session:
    resource: dict[str, AttributeValue]
    records: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)


def _requests(sessions: Sequence[_Session]) -> Iterator[DemoRequest]:
    logs = [
        ResourceLogs(
            resource=Resource(attributes=key_values(s.resource)),
            scope_logs=[ScopeLogs(scope=SCOPE, log_records=s.records)],
        )
        for s in sessions
        if s.records
    ]
    if logs:
        yield ExportLogsServiceRequest(resource_logs=logs)
    spans = [
        ResourceSpans(
            resource=Resource(attributes=key_values(s.resource)),
            scope_spans=[ScopeSpans(scope=SCOPE, spans=s.spans)],
        )
        for s in sessions
        if s.spans
    ]
    if spans:
        yield ExportTraceServiceRequest(resource_spans=spans)


def _choose(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    names = [name for name, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(names, weights)[0]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _hex(rng: random.Random, nbytes: int) -> str:
    return rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def _release(app: AppProfile, progress: float, rng: random.Random) -> str:
    """The new release rolls out from 15% into the window, reaching 90% of sessions."""
    if len(app.releases) == 1:
        return app.releases[0]
    new_share = min(0.9, max(0.0, (progress - 0.15) * 1.2))
    return app.releases[1] if rng.random() < new_share else app.releases[0]


@dataclass(frozen=True)
class _Visitor:
    app: AppProfile
    release: str
    browser: Browser
    country: str
    country_slowdown: float
    network: str
    sampled: bool
    session_id: str


def _simulate_session(rng: random.Random, start_ns: int, end_ns: int, progress: float) -> _Session:
    app = rng.choices(APPS, [a.share for a in APPS])[0]
    browser = rng.choices(BROWSERS, [b.weight for b in BROWSERS])[0]
    country, _, country_slowdown = rng.choices(COUNTRIES, [c[1] for c in COUNTRIES])[0]
    # Only Chromium has the Network Information API.
    network = _choose(rng, NETWORKS[browser.device]) if browser.chromium else ""
    visitor = _Visitor(
        app=app,
        release=_release(app, progress, rng),
        browser=browser,
        country=country,
        country_slowdown=country_slowdown,
        network=network,
        sampled=rng.random() < app.sample_rate,
        session_id=_hex(rng, 16),
    )
    session = _Session(resource=_resource(visitor))
    route = _choose(rng, app.entry)
    at_ns = start_ns
    for index in range(8):
        dwell_ms = _lognormal(rng, 25_000, 0.8)
        if at_ns >= end_ns:
            break
        _page_view(
            rng, visitor, session, route=route, at_ns=at_ns, dwell_ms=dwell_ms, first=index == 0
        )
        route = _choose(rng, app.routes[route].next)
        if not route:
            break
        at_ns += int(dwell_ms * _MS)
    return session


def _resource(v: _Visitor) -> dict[str, AttributeValue]:
    return browser_resource(v.app.name, v.release, v.browser, v.country)


def browser_resource(app: str, release: str, b: Browser, country: str) -> dict[str, AttributeValue]:
    """The OTLP resource sdk-js sends: the app, then `browserContext()`; geo is added by the
    collector's enrichment, and the demo (and the scenario simulator) plays that part too."""
    width, height, ratio = b.screen
    resource: dict[str, AttributeValue] = {
        "service.name": app,
        "service.version": release,
        "deployment.environment.name": "production",
        "telemetry.sdk.name": "vitalsight",
        "telemetry.sdk.language": "webjs",
        "telemetry.sdk.version": SDK_VERSION,
        "user_agent.original": b.user_agent,
        "user_agent.name": b.name,
        "user_agent.version": b.version,
        "user_agent.os.name": b.os,
    }
    if b.chromium:
        major = b.version.split(".")[0]
        resource["browser.brands"] = f"Chromium {major}, Not.A/Brand 24"
        resource["browser.platform"] = b.os
        resource["browser.mobile"] = b.device == "mobile"
    resource.update(
        {
            "browser.language": LANGUAGES[country],
            "device.type": b.device,
            "browser.screen.width": width,
            "browser.screen.height": height,
            "browser.screen.pixel_ratio": ratio,
            "browser.timezone": TIMEZONES[country],
            "geo.country.iso_code": country,
        }
    )
    return resource


def _fill(template: str, ids: Mapping[str, str]) -> str:
    return template.replace("{id}", ids["id"]).replace("{q}", urllib.parse.quote_plus(ids["q"]))


def _page_path(route: str, rng: random.Random, ids: Mapping[str, str]) -> str:
    if route == "/product/:id":
        return f"/product/{ids['id']}"
    if route == "/docs/:section/:page":
        return f"/docs/{rng.choice(DOC_SECTIONS)}/{rng.choice(DOC_PAGES)}"
    return route


def _page_view(
    rng: random.Random,
    v: _Visitor,
    session: _Session,
    *,
    route: str,
    at_ns: int,
    dwell_ms: float,
    first: bool,
) -> None:
    app = v.app
    profile = app.routes[route]
    ids = {"id": str(rng.randint(1000, 99999)), "q": rng.choice(SEARCH_TERMS)}
    path = _page_path(route, rng, ids)
    soft = app.spa and not first
    context: dict[str, AttributeValue] = {
        "session.id": v.session_id,
        "browser.page.view_id": _hex(rng, 8),
        "browser.page.route": route,
        "browser.page.url": f"https://{app.host}{path}",
        "vitalsight.sample_rate": app.sample_rate,
    }
    if v.network:
        context["network.connection.subtype"] = v.network
        context["network.connection.type"] = "cellular" if v.browser.device == "mobile" else "wifi"
    emit = _Emitter(rng, v, session, context, at_ns)

    if v.sampled:
        timing = _navigation_timing(rng, v) if not soft else None
        emit.event("browser.page_view", 0, _page_view_attributes(v, path, soft, first, timing))
        if timing is not None:
            _load_vitals(emit, profile, timing)
            _resources(emit, profile, ids, timing)
        _interaction_vitals(emit, profile, dwell_ms)
        _long_tasks(emit, profile, dwell_ms)
    checkout_failed = _fetches(emit, profile, ids)
    _errors(emit, profile, dwell_ms, checkout_failed)


class _Emitter:
    """Appends records of one page view, `offset_ms` after its start."""

    def __init__(
        self,
        rng: random.Random,
        visitor: _Visitor,
        session: _Session,
        context: Mapping[str, AttributeValue],
        at_ns: int,
    ) -> None:
        self.rng = rng
        self.visitor = visitor
        self.session = session
        self.context = context
        self.at_ns = at_ns

    def event(
        self, name: str, offset_ms: float, attributes: Mapping[str, AttributeValue]
    ) -> LogRecord:
        record = event(name, self.at_ns + int(offset_ms * _MS), {**self.context, **attributes})
        self.session.records.append(record)
        return record

    def vital(
        self,
        name: str,
        value: float,
        offset_ms: float,
        attribution: Mapping[str, AttributeValue],
        navigation_type: str,
    ) -> None:
        value = round(value, 4) if name == "CLS" else round(value, 1)
        attributes: dict[str, AttributeValue] = {
            "browser.web_vital.name": name,
            "browser.web_vital.value": value,
            "browser.web_vital.rating": rating(name, value),
            "browser.web_vital.delta": value,
            "browser.web_vital.id": f"v5-{self.at_ns // _MS}-{self.rng.randrange(10**12, 10**13)}",
            "browser.web_vital.navigation_type": navigation_type,
        }
        for key, item in attribution.items():
            attributes[f"browser.web_vital.attribution.{key}"] = item
        self.event("browser.web_vital", offset_ms, attributes)


@dataclass(frozen=True)
class _Timing:
    dns: float
    connect: float
    tls: float
    request: float
    response: float
    dom_processing: float
    load: float
    ttfb: float
    navigation_type: str
    transfer_size: int


def _navigation_timing(rng: random.Random, v: _Visitor) -> _Timing:
    net = NETWORK_SLOWDOWN[v.network] * (1.3 if v.browser.device == "mobile" else 1.0)
    reused = rng.random() < 0.45  # connection or DNS cache hit
    dns = 0.0 if reused else _lognormal(rng, 18, 0.7) * net
    connect = 0.0 if reused else _lognormal(rng, 45, 0.6) * net * v.country_slowdown
    tls = 0.0 if reused else connect * rng.uniform(0.4, 0.6)  # inside connect
    request = _lognormal(rng, 210, 0.45) * v.country_slowdown + _lognormal(rng, 20, 0.5) * net
    ttfb = dns + connect + request + rng.uniform(1, 8)
    response = _lognormal(rng, 40, 0.6) * net
    dom_processing = _lognormal(rng, 380, 0.5) * DEVICE_SLOWDOWN[v.browser.device]
    load = ttfb + response + dom_processing + _lognormal(rng, 250, 0.6) * net
    return _Timing(
        dns=dns,
        connect=connect,
        tls=tls,
        request=request,
        response=response,
        dom_processing=dom_processing,
        load=load,
        ttfb=ttfb,
        navigation_type=_choose(rng, NAVIGATION_TYPES),
        transfer_size=rng.randint(14_000, 42_000),
    )


def _page_view_attributes(
    v: _Visitor, path: str, soft: bool, first: bool, timing: _Timing | None
) -> dict[str, AttributeValue]:
    referrer = "https://www.google.com/" if first else f"https://{v.app.host}/"
    attributes: dict[str, AttributeValue] = {
        "browser.page_view.type": "route_change" if soft else "navigation",
        "browser.page.url": f"https://{v.app.host}{path}",
        "browser.page.referrer": referrer,
    }
    if timing is not None:
        for key in (
            "dns",
            "connect",
            "tls",
            "request",
            "response",
            "dom_processing",
            "load",
            "ttfb",
        ):
            attributes[f"browser.navigation_timing.{key}"] = round(getattr(timing, key), 1)
        # PerformanceNavigationTiming.type spells back_forward with an underscore
        attributes["browser.navigation_timing.type"] = timing.navigation_type.replace("-", "_")
        attributes["browser.navigation_timing.transfer_size"] = timing.transfer_size
    return attributes


def _load_vitals(emit: _Emitter, profile: RouteProfile, t: _Timing) -> None:
    """TTFB, FCP and LCP of a full navigation, consistent with each other and with the
    navigation timing (TTFB < FCP ≤ LCP), as web-vitals' attribution breaks them down."""
    rng, v = emit.rng, emit.visitor
    device = DEVICE_SLOWDOWN[v.browser.device]
    net = NETWORK_SLOWDOWN[v.network]
    nav = t.navigation_type
    emit.vital(
        "TTFB",
        t.ttfb,
        t.ttfb,
        {
            "waiting_duration": round(rng.uniform(0.5, 4), 1),
            "dns_duration": round(t.dns, 1),
            "connection_duration": round(t.connect, 1),
            "request_duration": round(t.request, 1),
        },
        nav,
    )
    first_byte_to_fcp = _lognormal(rng, 420, 0.45) * device * math.sqrt(net)
    fcp = t.ttfb + first_byte_to_fcp
    emit.vital(
        "FCP",
        fcp,
        fcp,
        {
            "time_to_first_byte": round(t.ttfb, 1),
            "first_byte_to_fcp": round(first_byte_to_fcp, 1),
            "load_state": "dom-interactive",
        },
        nav,
    )
    if not v.browser.lcp:
        return
    load_delay = load_duration = 0.0
    if profile.lcp_image:
        load_delay = _lognormal(rng, 180, 0.5) * device
        load_duration = _lognormal(rng, 240, 0.6) * net
    render_delay = _lognormal(rng, profile.render_delay_ms, 0.6) * device
    if (v.app.name, profile.route, v.release) == (
        REGRESSION.app,
        REGRESSION.route,
        REGRESSION.release,
    ):
        render_delay += _lognormal(rng, REGRESSION.extra_render_delay_ms, 0.35) * device
    lcp = max(fcp, t.ttfb + load_delay + load_duration + render_delay)
    attribution: dict[str, AttributeValue] = {
        "target": profile.lcp_element,
        "time_to_first_byte": round(t.ttfb, 1),
        "resource_load_delay": round(load_delay, 1),
        "resource_load_duration": round(load_duration, 1),
        "element_render_delay": round(lcp - t.ttfb - load_delay - load_duration, 1),
    }
    if profile.lcp_image:
        image = profile.lcp_image.replace("{id}", str(rng.randint(1000, 99999)))
        attribution["url"] = f"https://cdn.{v.app.host}{image}"
    emit.vital("LCP", lcp, lcp + rng.uniform(200, 3000), attribution, nav)


def _interaction_vitals(emit: _Emitter, profile: RouteProfile, dwell_ms: float) -> None:
    """CLS and INP, reported when the page is hidden (at the end of the page view)."""
    rng, v = emit.rng, emit.visitor
    hidden_at = dwell_ms - rng.uniform(50, 500)
    nav = "navigate"
    cls = 0.0 if rng.random() < 0.45 else _lognormal(rng, profile.cls, 0.9)
    cls_attribution: dict[str, AttributeValue] = {"load_state": "complete"}
    if cls > 0:
        shift_target = rng.choice(
            ("div.ad-slot", "img.lazy", "footer", "div.cookie-banner", profile.lcp_element)
        )
        cls_attribution["target"] = shift_target
        cls_attribution["largest_shift_target"] = shift_target
        cls_attribution["largest_shift_value"] = round(cls * rng.uniform(0.5, 1.0), 4)
    emit.vital("CLS", cls, hidden_at, cls_attribution, nav)
    if not v.browser.inp or rng.random() > 0.75:  # no interaction, no INP
        return
    device = DEVICE_SLOWDOWN[v.browser.device] ** 1.3 * 0.75
    input_delay = _lognormal(rng, profile.inp_ms * 0.15, 0.8) * device
    processing = _lognormal(rng, profile.inp_ms * 0.55, 0.7) * device
    presentation = _lognormal(rng, profile.inp_ms * 0.3, 0.5) * device
    inp = input_delay + processing + presentation
    emit.vital(
        "INP",
        inp,
        hidden_at,
        {
            "target": rng.choice(
                ("button.add-to-cart", "input#q", "a.result-link", "button.menu", "details")
            ),
            "interaction_type": rng.choice(("pointer", "pointer", "keyboard")),
            "input_delay": round(input_delay, 1),
            "processing_duration": round(processing, 1),
            "presentation_delay": round(presentation, 1),
            "load_state": "complete",
            "script_url": f"https://{v.app.host}/static/app.{_bundle_hash(v)}.js",
            "script_invoker": rng.choice(INVOKERS),
        },
        nav,
    )


def _bundle_hash(v: _Visitor) -> str:
    """The content hash in the bundle's file name (it changes with every release)."""
    return hashlib.sha256(f"{v.app.name}@{v.release}".encode()).hexdigest()[:8]


def _resources(emit: _Emitter, profile: RouteProfile, ids: Mapping[str, str], t: _Timing) -> None:
    """Resource timing of the page's static assets; `app.js` grows with the release."""
    rng, v = emit.rng, emit.visitor
    net = NETWORK_SLOWDOWN[v.network]
    cached = rng.random() < 0.35
    static = f"https://{v.app.host}/static"
    assets: list[tuple[str, str, int, str]] = [
        (
            f"{static}/app.{_bundle_hash(v)}.js",
            "script",
            v.app.bundle_bytes[v.release],
            "non-blocking",
        ),
        (f"{static}/vendor.js", "script", 287_140, "non-blocking"),
        (f"{static}/styles.css", "link", 61_020, "blocking"),
    ]
    if profile.lcp_image:
        image = profile.lcp_image.replace("{id}", ids["id"])
        assets.append((f"https://cdn.{v.app.host}{image}", "img", 96_000, "non-blocking"))
    for url, initiator, decoded, blocking in assets:
        encoded = decoded if initiator == "img" else int(decoded * 0.29)
        transfer = 0 if cached and initiator != "img" else encoded + 320
        duration = 2.0 + transfer / 1024 / 8 * net * rng.uniform(0.6, 1.6)
        emit.event(
            "browser.resource.timing",
            t.load,
            {
                "url.full": url,
                "browser.resource.initiator_type": initiator,
                "browser.resource.transfer_size": transfer,
                "browser.resource.encoded_body_size": encoded,
                "browser.resource.decoded_body_size": decoded,
                "browser.resource.duration": round(duration, 1),
                "browser.resource.render_blocking": blocking,
            },
        )


def _long_tasks(emit: _Emitter, profile: RouteProfile, dwell_ms: float) -> None:
    rng, v = emit.rng, emit.visitor
    mean = profile.long_tasks * DEVICE_SLOWDOWN[v.browser.device]
    if (v.app.name, profile.route, v.release) == (
        REGRESSION.app,
        REGRESSION.route,
        REGRESSION.release,
    ):
        mean *= 2.5  # the regression's render work shows up as long animation frames
    count = _poisson(rng, mean)
    for _ in range(count):
        duration = 50 + _lognormal(rng, 60, 0.8) * DEVICE_SLOWDOWN[v.browser.device]
        third_party = rng.random() < 0.25
        script = (
            "https://www.googletagmanager.com/gtm.js"
            if third_party
            else f"https://{v.app.host}/static/app.{_bundle_hash(v)}.js"
        )
        emit.event(
            "browser.long_task",
            rng.uniform(0, min(dwell_ms, 10_000)),
            {
                "browser.long_task.duration": round(duration, 1),
                "browser.long_task.type": "long-animation-frame"
                if rng.random() < 0.8
                else "longtask",
                "browser.long_task.blocking_duration": round(duration - 50, 1),
                "browser.long_task.script_url": script,
                "browser.long_task.invoker": rng.choice(INVOKERS),
            },
        )


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _fetches(emit: _Emitter, profile: RouteProfile, ids: Mapping[str, str]) -> bool:
    """Client spans of the page's API calls. Returns whether a checkout call failed."""
    rng, v = emit.rng, emit.visitor
    failed_checkout = False
    offset = rng.uniform(300, 900)
    net = NETWORK_SLOWDOWN[v.network]
    for fetch in profile.fetches:
        if rng.random() > fetch.probability:
            continue
        duration = _lognormal(rng, fetch.median_ms, fetch.sigma) * v.country_slowdown
        duration += _lognormal(rng, 15, 0.5) * net
        status = 200 if fetch.method == "GET" else 201
        roll = rng.random()
        if roll < fetch.error_rate:
            status = fetch.error_status
            if status == 504:
                duration = max(duration, 5000 + rng.uniform(0, 200))
        elif roll < fetch.error_rate + fetch.not_found_rate:
            status = 404
        elif roll > 0.9985:
            status = 0  # network error / aborted: no response
        if fetch.template == "/api/checkout" and (status >= 500 or status == 0):
            failed_checkout = True
        path = _fill(fetch.path, ids)
        if not v.app.capture_query_string:
            path = path.split("?")[0]
        attributes: dict[str, AttributeValue] = {
            **emit.context,
            "http.request.method": fetch.method,
            "url.full": f"https://{v.app.api_host}{path}",
            "url.template": fetch.template,
            "server.address": v.app.api_host,
        }
        if status:
            attributes["http.response.status_code"] = status
        if status >= 400 or status == 0:  # as sdk-js's request spans
            attributes["error.type"] = str(status) if status else "network_error"
        span = client_span(
            trace_id=bytes.fromhex(_hex(rng, 16)),
            span_id=bytes.fromhex(_hex(rng, 8)),
            name=f"{fetch.method} {fetch.template}",
            start_ns=emit.at_ns + int(offset * _MS),
            duration_ns=int(duration * _MS),
            attributes=attributes,
        )
        if status >= 400 or status == 0:
            span.status.code = Status.STATUS_CODE_ERROR
        if v.sampled:  # sdk-js drops everything but errors in unsampled sessions
            emit.session.spans.append(span)
        offset += rng.uniform(0, 200)
    return failed_checkout


def _errors(emit: _Emitter, profile: RouteProfile, dwell_ms: float, checkout_failed: bool) -> None:
    rng, v = emit.rng, emit.visitor
    kinds = [
        k
        for k in v.app.errors
        if (not k.routes or profile.route in k.routes)
        and (not k.releases or v.release in k.releases)
    ]
    for kind in kinds:
        rate = kind.rate * (3 if kind.type == "ChunkLoadError" and v.network in ("2g", "3g") else 1)
        if rng.random() < rate:
            _exception(emit, kind, dwell_ms)
    if checkout_failed:
        _exception(emit, CHECKOUT_REJECTION, dwell_ms)


def _exception(emit: _Emitter, kind: ErrorKind, dwell_ms: float) -> None:
    v = emit.visitor
    bundle = f"https://{v.app.host}/static/app.{_bundle_hash(v)}.js"
    attributes: dict[str, AttributeValue] = {
        "exception.type": kind.type,
        "exception.message": kind.message,
        "vitalsight.error.source": kind.source,
        # errors are kept whatever the session's sample rate (sdk-js `sampleErrors: false`)
        "vitalsight.sample_rate": 1,
    }
    if kind.stack_frame:  # an ErrorEvent without an Error object has no stack
        line = emit.rng.randint(1, 3)
        attributes["exception.stacktrace"] = f"{kind.type}: {kind.message}" + (
            f"\n    at {kind.stack_frame} ({bundle}:{line}:{emit.rng.randint(1000, 90000)})"
            f"\n    at renderWithHooks ({_vendor_url(v)}:2:41233)"
        )
    record = emit.event("exception", emit.rng.uniform(0, min(dwell_ms, 8000)), attributes)
    record.severity_number = SeverityNumber.SEVERITY_NUMBER_ERROR
    record.severity_text = "ERROR"


def _vendor_url(v: _Visitor) -> str:
    return f"https://{v.app.host}/static/vendor.js"
