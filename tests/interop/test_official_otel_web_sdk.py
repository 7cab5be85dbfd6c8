"""The official OpenTelemetry browser SDK end to end: a page instrumented with
``@opentelemetry/sdk-trace-web`` + document-load + fetch instrumentations exports OTLP/HTTP
JSON (``@opentelemetry/exporter-trace-otlp-http``) from headless Chromium to a real
``vitalsight serve``; assertions are on the rows in ClickHouse (raw ``otel_traces`` and the
``rum_*`` facts that 0002_rum_facts.sql derives from it).

The page and bundle live in tests/interop/otel-web (``npm ci`` there; see its package.json for
the pinned versions). The scenario is in otel-web/src/app.js.

Set ``VITALSIGHT_INTEROP_DUMP=/path/file.json`` to write the raw ``otel_traces`` rows of the run
(exactly what the official SDK sent, as stored) and the fact rows derived from them.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.local_http import LocalHttpServer, QuietHandler
from tests.sdk.harness import API_KEY, CHROMIUM, DEADLINE, Vitalsight, wait_for
from tests.serve_process import ServeProcess

OTEL_WEB = Path(__file__).resolve().parent / "otel-web"
RELEASE = "4.5.6"
ENVIRONMENT = "interop"
PAGE_PATH = "/shop/cart.html"


@dataclass
class InteropSite:
    """Serves the fixture page (at ``PAGE_PATH``), the bundle and the API the page calls."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    _server: LocalHttpServer | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.origin

    def start(self) -> None:
        site = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                path = urlsplit(self.path).path
                self.read_body()
                site.seen.append((self.command, path))
                if path == PAGE_PATH:
                    html = (OTEL_WEB / "fixtures" / "index.html").read_bytes()
                    return self.answer(200, html, "text/html; charset=utf-8")
                if path == "/dist/app.iife.js":
                    js = (OTEL_WEB / "dist" / "app.iife.js").read_bytes()
                    return self.answer(200, js, "text/javascript; charset=utf-8")
                if path == "/api/fail":
                    return self.answer(500, b'{"error":"boom"}', "application/json")
                if path.startswith("/api/items/"):
                    return self.answer(200, b'{"ok":true}', "application/json")
                if path == "/favicon.ico":
                    return self.answer(204, b"", "image/x-icon")
                return self.answer(404, b"not found")

            do_GET = do_POST = _handle  # noqa: N815

        self._server = LocalHttpServer(Handler)

    def stop(self) -> None:
        if self._server:
            self._server.stop()


@pytest.fixture(scope="module")
def bundle() -> Path:
    """Skips (with the reason) when Chromium or otel-web/node_modules are missing; builds."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (OTEL_WEB / "node_modules" / "playwright-core").is_dir():
        pytest.skip("tests/interop/otel-web/node_modules is missing: run `npm ci` there")
    build = subprocess.run(
        ["node", "scripts/build.mjs"], cwd=OTEL_WEB, check=False, timeout=60, capture_output=True
    )
    if build.returncode != 0:
        pytest.fail(f"otel-web build failed: {build.stderr.decode()[-3000:]}")
    return OTEL_WEB / "dist" / "app.iife.js"


@dataclass
class Run:
    app: str
    site: InteropSite
    vitalsight: Vitalsight
    browser: dict[str, Any]

    def spans(self) -> list[dict[str, Any]]:
        """The raw otel_traces rows of this run (what the official SDK sent, as stored)."""
        return self.vitalsight.query(
            "SELECT SpanName, SpanKind, SpanId, ParentSpanId, TraceId, ScopeName, ScopeVersion,"
            " ResourceAttributes, SpanAttributes, Duration, StatusCode, StatusMessage,"
            " Events.Name AS event_names, Events.Attributes AS event_attributes,"
            " arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS event_ns"
            " FROM otel_traces WHERE ServiceName = {app:String} ORDER BY Timestamp",
            app=self.app,
        )

    def span(self, name: str) -> dict[str, Any]:
        found = [s for s in self.spans() if s["SpanName"] == name]
        assert len(found) == 1, f"expected one {name!r} span, got {len(found)}"
        return found[0]


@pytest.fixture(scope="module")
def run(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One page load in Chromium against one `vitalsight serve` (embedded chDB, API key)."""
    serve = ServeProcess(
        tmp_path_factory.mktemp("interop-serve"),
        extra_args=["--api-key", API_KEY, "--flush-interval", "0.2"],
    ).start()
    vitalsight = Vitalsight(serve)
    site = InteropSite()
    site.start()
    app = f"otel-web-{uuid.uuid4().hex[:10]}"
    query = {
        "endpoint": vitalsight.endpoint,
        "key": API_KEY,
        "app": app,
        "release": RELEASE,
        "env": ENVIRONMENT,
    }
    try:
        proc = subprocess.run(
            ["node", "scripts/drive.mjs", f"{site.origin}{PAGE_PATH}?{urlencode(query)}"],
            cwd=OTEL_WEB,
            capture_output=True,
            timeout=90,
            check=False,
        )
        lines = proc.stdout.decode().strip().splitlines()
        browser: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        if proc.returncode != 0 or not browser.get("ok"):
            pytest.fail(f"drive.mjs failed: {browser or proc.stderr.decode()[-3000:]}")
        result = Run(app, site, vitalsight, browser)
        # Everything the page flushed is acknowledged; wait until it is queryable.
        ended = len(browser["state"]["ended"])
        wait_for(lambda: len(result.spans()) >= ended, DEADLINE)
        if os.environ.get("VITALSIGHT_INTEROP_DUMP"):
            dump(result, Path(os.environ["VITALSIGHT_INTEROP_DUMP"]))
        yield result
    finally:
        site.stop()
        vitalsight.close()
        serve.stop()


def dump(run: Run, path: Path) -> None:
    facts = {
        table: run.vitalsight.rows(table, run.app, timeout=2)
        for table in ("rum_page_views", "rum_requests", "rum_errors", "rum_resources")
    }
    body = {"browser": run.browser, "otel_traces": run.spans(), **facts}
    path.write_text(json.dumps(body, indent=1, default=str))


def by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        out.setdefault(s["SpanName"], []).append(s)
    return out


# --------------------------------------------------------------------------- the browser side


def test_page_ran_the_scenario_and_the_exporter_was_accepted(run: Run) -> None:
    state = run.browser["state"]
    assert state["statuses"] == [200, 500]
    assert run.browser["errors"] == []
    # The exporter's cross-origin JSON POSTs (preflighted: Content-Type and X-Vitalsight-Key)
    # were accepted by vitalsight; forceFlush() resolving in the page says the same.
    posts = run.browser["otlp"]
    assert posts, run.browser
    assert all(p["method"] == "POST" and p["status"] == 200 for p in posts), posts
    assert all(p["url"] == f"{run.vitalsight.endpoint}/v1/traces" for p in posts), posts
    # Every span the SDK ended was flushed and exported.
    assert sorted(s["name"] for s in state["ended"]) == sorted(s["SpanName"] for s in run.spans())


# --------------------------------------------------------------------------- raw otel_traces


def test_raw_otel_traces_hold_what_the_official_sdk_sent(run: Run) -> None:
    spans = run.spans()
    names = by_name(spans)
    assert {"documentLoad", "documentFetch", "resourceFetch", "GET", "POST", "checkout"} <= set(
        names
    ), sorted(names)
    for s in spans:
        res = s["ResourceAttributes"]
        assert res["service.name"] == run.app
        assert res["service.version"] == RELEASE
        assert res["deployment.environment"] == ENVIRONMENT
        assert res["telemetry.sdk.name"] == "opentelemetry"
        assert res["telemetry.sdk.language"] == "webjs"
        assert res["telemetry.sdk.version"] == "2.12.0"
        assert len(s["TraceId"]) == 32 and len(s["SpanId"]) == 16

    load = names["documentLoad"][0]
    assert load["ScopeName"] == "@opentelemetry/instrumentation-document-load"
    # scrub (on by default) drops query strings before anything is stored
    assert load["SpanAttributes"]["url.full"] == f"{run.site.origin}{PAGE_PATH}"
    assert "Chrome" in load["SpanAttributes"]["user_agent.original"]
    assert {"fetchStart", "domInteractive", "domComplete", "loadEventEnd"} <= set(
        load["event_names"]
    )
    # The children of the page load: the document request and the bundle it loaded.
    fetch_doc = names["documentFetch"][0]
    assert fetch_doc["ParentSpanId"] == load["SpanId"]
    assert {"domainLookupStart", "requestStart", "responseStart", "responseEnd"} <= set(
        fetch_doc["event_names"]
    )
    # The network marks are on documentFetch only, not on documentLoad.
    assert not {"domainLookupStart", "requestStart", "responseStart"} & set(load["event_names"])
    # On an http: page the navigation entry's secureConnectionStart is 0 and is still sent
    # (ignoreZeros is off for the navigation entry): a mark at the time origin, before
    # fetchStart. A mapping that reads documentFetch marks must not turn it into a TLS time.
    marks = dict(zip(fetch_doc["event_names"], fetch_doc["event_ns"], strict=True))
    assert marks["secureConnectionStart"] <= marks["fetchStart"]
    bundle = [
        r
        for r in names["resourceFetch"]
        if r["SpanAttributes"]["url.full"].endswith("/app.iife.js")
    ]
    assert len(bundle) == 1 and bundle[0]["ParentSpanId"] == load["SpanId"]

    (get,) = names["GET"]
    assert get["SpanKind"] == "SPAN_KIND_CLIENT"
    assert get["ScopeName"] == "@opentelemetry/instrumentation-fetch"
    assert get["SpanAttributes"]["http.request.method"] == "GET"
    # scrub (on by default) drops query strings before anything is stored
    assert get["SpanAttributes"]["url.full"] == f"{run.site.origin}/api/items/42"
    assert get["SpanAttributes"]["http.response.status_code"] == "200"
    assert get["SpanAttributes"]["server.address"] == "127.0.0.1"
    assert get["StatusCode"] != "STATUS_CODE_ERROR"
    (post,) = names["POST"]
    assert post["SpanAttributes"]["http.response.status_code"] == "500"
    assert post["SpanAttributes"]["error.type"] == "500"
    assert post["StatusCode"] == "STATUS_CODE_ERROR"

    (checkout,) = names["checkout"]
    assert checkout["event_names"] == ["exception"]
    exc = checkout["event_attributes"][0]
    assert exc["exception.type"] == "TypeError"
    assert exc["exception.message"] == "cart.items is undefined"
    assert "TypeError: cart.items is undefined" in exc["exception.stacktrace"]
    assert checkout["StatusCode"] == "STATUS_CODE_ERROR"


# --------------------------------------------------------------------------- rum_* facts


def test_document_load_span_becomes_one_page_view(run: Run) -> None:
    (pv,) = run.vitalsight.rows("rum_page_views", run.app)
    load = run.span("documentLoad")
    assert pv["release"] == RELEASE
    assert pv["environment"] == ENVIRONMENT
    assert pv["route"] == PAGE_PATH
    assert pv["url"] == f"{run.site.origin}{PAGE_PATH}"  # query string cut
    assert pv["view_type"] == "navigation"
    assert pv["trace_id"] == load["TraceId"]
    assert pv["sample_rate"] == 1
    # documentLoad carries fetchStart .. loadEventEnd itself.
    assert pv["load_ms"] is not None and pv["load_ms"] > 0


def test_document_load_page_view_has_ordered_navigation_timings(run: Run) -> None:
    (pv,) = run.vitalsight.rows("rum_page_views", run.app)
    for column in ("dns_ms", "connect_ms", "request_ms", "response_ms", "ttfb_ms"):
        assert pv[column] is not None, column
    assert pv["dom_processing_ms"] is not None
    assert 0 <= pv["dns_ms"] <= pv["ttfb_ms"] <= pv["load_ms"]
    assert pv["request_ms"] <= pv["ttfb_ms"]
    assert pv["tls_ms"] is None  # http: no TLS handshake


def test_fetch_spans_become_requests(run: Run) -> None:
    rows = run.vitalsight.rows("rum_requests", run.app, min_rows=2)
    by_status = {r["status"]: r for r in rows}
    assert len(rows) == 2 and set(by_status) == {200, 500}, rows
    spans = by_name(run.spans())

    ok = by_status[200]
    assert ok["url"] == f"{run.site.origin}/api/items/42"  # query string cut
    assert ok["url_template"] == "/api/items/:id"
    assert ok["method"] == "GET"
    assert ok["server_address"] == "127.0.0.1"
    assert ok["span_id"] == spans["GET"][0]["SpanId"]
    assert ok["duration_ms"] == pytest.approx(spans["GET"][0]["Duration"] / 1e6)

    failed = by_status[500]
    assert failed["url"] == f"{run.site.origin}/api/fail"
    assert failed["url_template"] == "/api/fail"
    assert failed["method"] == "POST"
    assert failed["span_id"] == spans["POST"][0]["SpanId"]

    for r in rows:
        assert r["duration_ms"] > 0
        assert r["release"] == RELEASE
        assert r["environment"] == ENVIRONMENT
        assert r["sample_rate"] == 1


def test_span_exception_event_becomes_an_error(run: Run) -> None:
    (err,) = run.vitalsight.rows("rum_errors", run.app)
    checkout = run.span("checkout")
    assert err["type"] == "TypeError"
    assert err["message"] == "cart.items is undefined"
    assert "TypeError: cart.items is undefined" in err["stack"]
    assert err["source"] == "span_event"
    assert len(err["fingerprint"]) == 16
    assert err["trace_id"] == checkout["TraceId"]
    assert err["release"] == RELEASE
    assert err["environment"] == ENVIRONMENT


def test_resource_fetch_spans_become_resources(run: Run) -> None:
    rows = run.vitalsight.rows("rum_resources", run.app)
    bundle = [r for r in rows if r["url"] == f"{run.site.origin}/dist/app.iife.js"]
    assert len(bundle) == 1, rows
    size = (OTEL_WEB / "dist" / "app.iife.js").stat().st_size
    # http.response_content_length is the entry's encodedBodySize (served uncompressed).
    assert bundle[0]["encoded_size"] == size
    assert bundle[0]["duration_ms"] >= 0
    assert bundle[0]["release"] == RELEASE
