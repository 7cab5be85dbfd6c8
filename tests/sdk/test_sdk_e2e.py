"""The browser SDK end to end: fixture pages in headless Chromium send OTLP to a real
``vitalsight serve``; assertions are on the rows in the ClickHouse fact tables.

Each test uses its own app name (service.name), so all tests share one server.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.sdk.harness import (
    API_KEY,
    CollectorProxy,
    FixtureServer,
    Vitalsight,
    drive,
    page_url,
    wait_for,
)

LEAVE = {"leave": True, "wait": 1500}


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in rows}


# --------------------------------------------------------------------------- vitals + page view


@pytest.fixture(scope="module")
def vitals_run(site: FixtureServer, vitalsight: Vitalsight) -> dict[str, Any]:
    app = "e2e-vitals"
    drive(
        {"goto": page_url(site, "vitals.html", endpoint=vitalsight.endpoint, app=app)},
        {"waitFor": "window.__shifted"},
        {"wait": 700},  # the shift must not count as caused by input (500 ms window)
        {"click": "#block"},
        {"wait": 500},
        LEAVE,
    )
    rows = vitalsight.rows("rum_vitals", app, min_rows=5)
    return {"app": app, "vitals": by_name(rows), "rows": rows}


def test_all_five_vitals_arrive_once(vitals_run: dict[str, Any]) -> None:
    names = sorted(r["name"] for r in vitals_run["rows"])
    assert names == ["CLS", "FCP", "INP", "LCP", "TTFB"]
    for r in vitals_run["rows"]:
        assert r["rating"] in ("good", "needs-improvement", "poor")
        assert r["metric_id"].startswith("v5-")
        assert r["navigation_type"] == "navigate"
        assert r["release"] == "1.2.3"
        assert r["environment"] == "e2e"
        assert r["route"] == "/fixtures/vitals.html"
        assert r["browser"] == "Chrome"
        assert r["os"] == "Linux"
        assert r["device"] == "desktop"
        assert len(r["session_id"]) == 32
        assert len(r["page_view_id"]) == 16
        assert r["sample_rate"] == 1


def test_lcp_is_the_large_image_with_load_delays(vitals_run: dict[str, Any]) -> None:
    # The fact table keys attribution by the part after `browser.web_vital.attribution.`.
    lcp = vitals_run["vitals"]["LCP"]
    assert lcp["target"] == "#hero"
    a = lcp["attribution"]
    assert a["url"].endswith("/assets/large.png")  # no ?delay=
    assert float(a["resource_load_duration"]) >= 250  # 300 ms delay
    assert lcp["value"] >= 300
    for key in ("time_to_first_byte", "resource_load_delay", "element_render_delay"):
        assert key in a


def test_inp_is_the_blocking_click_with_phases(vitals_run: dict[str, Any]) -> None:
    inp = vitals_run["vitals"]["INP"]
    assert inp["value"] >= 280  # the handler blocks for 300 ms
    assert inp["rating"] == "needs-improvement"
    assert inp["target"] == "#block"
    a = inp["attribution"]
    assert float(a["processing_duration"]) >= 280
    assert "input_delay" in a
    assert "presentation_delay" in a
    assert a["interaction_type"] == "pointer"
    assert a["load_state"] == "complete"


def test_cls_names_the_largest_shift_target(vitals_run: dict[str, Any]) -> None:
    cls = vitals_run["vitals"]["CLS"]
    assert cls["value"] > 0.01
    assert cls["target"] in ("#hero", "#text", "#block")
    assert cls["attribution"]["largest_shift_target"] == cls["target"]


def test_page_view_has_navigation_timing(
    vitals_run: dict[str, Any], vitalsight: Vitalsight
) -> None:
    [pv] = vitalsight.rows("rum_page_views", vitals_run["app"])
    assert pv["view_type"] == "navigation"
    assert pv["url"].endswith("/fixtures/vitals.html")  # query string removed
    assert pv["page_view_id"] == vitals_run["vitals"]["LCP"]["page_view_id"]
    assert pv["session_id"] == vitals_run["vitals"]["LCP"]["session_id"]
    for col in ("dns_ms", "connect_ms", "tls_ms", "request_ms", "response_ms"):
        assert pv[col] is not None and pv[col] >= 0, col
    assert pv["ttfb_ms"] > 0
    assert pv["dom_processing_ms"] > 0
    assert pv["load_ms"] >= pv["dom_processing_ms"]


def test_a_hidden_tab_sends_the_final_vitals(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    """Switching tabs (visibilitychange → hidden) is the last reliable moment on mobile: the
    final LCP/CLS/INP must go out then, not only on unload."""
    url = page_url(
        site, "vitals.html", endpoint=vitalsight.endpoint, app=app, opts={"flushInterval": 60_000}
    )
    drive(
        {"goto": url},
        {"waitFor": "window.__shifted"},
        {"wait": 700},
        {"click": "#block"},
        {"wait": 500},
        {"hide": True},
        {"wait": 1000},
        # Stop the SDK: whatever arrives was sent on the hide, not when the page is left.
        {"eval": "vitalsight.setOptOut(true)"},
        LEAVE,
    )
    names = {r["name"] for r in vitalsight.rows("rum_vitals", app, min_rows=5)}
    assert names == {"CLS", "FCP", "INP", "LCP", "TTFB"}


# --------------------------------------------------------------------------- errors


def test_errors_and_rejections(site: FixtureServer, vitalsight: Vitalsight, app: str) -> None:
    drive(
        {"goto": page_url(site, "errors.html", endpoint=vitalsight.endpoint, app=app)},
        {"waitFor": "window.__errorsDone"},
        {"wait": 300},
        LEAVE,
    )
    rows = {r["source"]: r for r in vitalsight.rows("rum_errors", app, min_rows=2)}
    thrown = rows["error"]
    assert thrown["type"] == "TypeError"
    assert thrown["message"] == "e2e boom: cart is undefined"
    assert "checkoutFailed" in thrown["stack"]
    assert thrown["fingerprint"]
    assert thrown["route"] == "/fixtures/errors.html"
    rejected = rows["unhandledrejection"]
    assert rejected["type"] == "RangeError"
    assert rejected["message"] == "e2e rejected promise"
    assert rejected["stack"]
    # The user id only ever travels hashed.
    raw = vitalsight.query(
        "SELECT LogAttributes['user.hash'] AS h, toString(LogAttributes) AS attrs"
        " FROM otel_logs WHERE ServiceName = {app:String} AND EventName = 'exception'",
        app=app,
    )
    expected = hashlib.sha256(b"alice@example.com").hexdigest()
    assert raw and all(r["h"] == expected for r in raw)
    assert all("alice" not in r["attrs"] for r in raw)


# --------------------------------------------------------------------------- requests


def test_fetch_and_xhr_spans(site: FixtureServer, vitalsight: Vitalsight, app: str) -> None:
    drive(
        {"goto": page_url(site, "requests.html", endpoint=vitalsight.endpoint, app=app)},
        {"waitFor": "window.__requestsDone"},
        LEAVE,
    )
    rows = vitalsight.rows("rum_requests", app, min_rows=6)
    by_tpl = {(r["method"], r["url_template"]): r for r in rows}
    assert by_tpl[("GET", "/api/fail")]["status"] == 500
    assert "token" not in by_tpl[("GET", "/api/fail")]["url"]  # no query strings by default
    slow = by_tpl[("GET", "/api/slow")]
    assert slow["status"] == 200
    assert slow["duration_ms"] >= 1100  # the server sleeps 1.2 s
    assert by_tpl[("POST", "/api/items/:id")]["status"] == 200  # a Request object
    assert by_tpl[("GET", "/api/items/:uuid")]["url"].endswith(
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    )
    assert by_tpl[("GET", "/api/xhr/:id")]["status"] == 200  # XMLHttpRequest
    assert by_tpl[("GET", "/unreachable")]["status"] == 0  # network error
    assert all(r["server_address"] == "127.0.0.1" for r in rows)
    assert all(r["route"] == "/fixtures/requests.html" for r in rows)
    # W3C trace context went to the same-origin backend, with the span's own ids.
    for path, tpl in (("/api/slow", "/api/slow"), ("/api/xhr/987", "/api/xhr/:id")):
        [headers] = site.headers_for(path)
        version, trace_id, span_id, flags = headers["traceparent"].split("-")
        row = by_tpl[("GET", tpl)]
        assert (version, flags) == ("00", "01")
        assert (trace_id, span_id) == (row["trace_id"], row["span_id"])
    # The SDK's own OTLP requests are not recorded as spans.
    assert not [r for r in rows if "/v1/" in r["url"]]


# --------------------------------------------------------------------------- long tasks


def test_long_tasks_and_animation_frames(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    drive(
        {"goto": page_url(site, "longtask.html", endpoint=vitalsight.endpoint, app=app)},
        {"waitFor": "window.__longTaskDone"},
        {"wait": 300},
        LEAVE,
    )
    rows = vitalsight.rows("rum_long_tasks", app, "duration_ms >= 240", min_rows=2)
    kinds = {r["kind"]: r for r in rows}
    assert kinds["longtask"]["blocking_ms"] >= 190
    loaf = kinds["long-animation-frame"]
    assert loaf["blocking_ms"] >= 190
    assert loaf["script_url"].endswith("/fixtures/longtask.html")
    assert "renderReport" in loaf["invoker"] or "TimerHandler" in loaf["invoker"]


# --------------------------------------------------------------------------- SPA routes


def test_route_changes_are_page_views_and_vitals_follow_their_route(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    drive(
        {"goto": page_url(site, "/spa/home", endpoint=vitalsight.endpoint, app=app)},
        {"wait": 300},
        {"click": "#to-product"},
        {"waitFor": "window.__routed"},
        {"wait": 200},
        {"click": "#block"},  # INP on the product route
        {"wait": 300},
        {"eval": "history.back()"},
        {"wait": 500},
        LEAVE,
    )
    views = vitalsight.rows("rum_page_views", app, min_rows=3)
    assert [(v["view_type"], v["route"]) for v in views] == [
        ("navigation", "/spa/home"),
        ("route_change", "/spa/products/:id"),
        ("route_change", "/spa/home"),
    ]
    assert views[1]["url"].endswith("/spa/products/42")
    assert len({v["page_view_id"] for v in views}) == 3
    assert len({v["session_id"] for v in views}) == 1
    vitals = by_name(vitalsight.rows("rum_vitals", app, "name IN ('INP', 'LCP')", min_rows=2))
    assert vitals["INP"]["route"] == "/spa/products/:id"
    assert vitals["INP"]["page_view_id"] == views[1]["page_view_id"]
    assert vitals["LCP"]["route"] == "/spa/home"
    assert vitals["LCP"]["page_view_id"] == views[0]["page_view_id"]


# --------------------------------------------------------------------------- resources


def test_resource_timing(site: FixtureServer, vitalsight: Vitalsight, app: str) -> None:
    opts = {"denyUrls": ["/assets/secret.png"]}
    drive(
        {
            "goto": page_url(
                site, "resources.html", endpoint=vitalsight.endpoint, app=app, opts=opts
            )
        },
        {"wait": 500},
        LEAVE,
    )
    rows = vitalsight.rows("rum_resources", app, "url LIKE '%/assets/%'", min_rows=4)
    by_url = {r["url"].rsplit("/", 1)[1]: r for r in rows}
    big = by_url["big.js"]
    assert big["initiator_type"] == "script"
    assert big["render_blocking"] == "blocking"
    assert big["transfer_size"] > 300_000
    assert big["encoded_size"] > 300_000 and big["decoded_size"] > 300_000
    assert big["duration_ms"] > 0
    assert by_url["style.css"]["initiator_type"] == "link"
    assert by_url["style.css"]["render_blocking"] == "blocking"
    assert by_url["large.png"]["initiator_type"] == "img"  # query string (?v=2) removed
    assert by_url["large.png"]["render_blocking"] == "non-blocking"
    assert by_url["brand.woff2"]["initiator_type"] == "font"
    assert "secret.png" not in by_url  # denied


# --------------------------------------------------------------------------- privacy


def test_nothing_is_sent_without_consent(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    granted, refused = f"{app}-granted", f"{app}-pending"
    opts = {"requireConsent": True}
    drive(
        {
            "goto": page_url(
                site, "privacy.html", endpoint=vitalsight.endpoint, app=refused, opts=opts
            )
        },
        {"waitFor": "window.__privacyDone"},
        {"wait": 1500},
        LEAVE,
        {
            "goto": page_url(
                site,
                "privacy.html",
                endpoint=vitalsight.endpoint,
                app=granted,
                opts=opts,
                grant="1",
            )
        },
        {"waitFor": "window.__privacyDone"},
        {"wait": 1500},
        LEAVE,
    )
    # The page that got consent later sends what happened before it too (control).
    assert vitalsight.rows("rum_page_views", granted)
    assert vitalsight.rows("rum_requests", granted, min_rows=2)
    # The page that never got consent sent nothing at all, not even to the raw tables.
    for table, column in (("otel_logs", "ServiceName"), ("otel_traces", "ServiceName")):
        sql = f"SELECT count() AS n FROM {table} WHERE {column} = {{app:String}}"
        assert vitalsight.query(sql, app=refused)[0]["n"] == 0, table


def test_denied_urls_are_not_recorded(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    page_denied = f"{app}-page"
    drive(
        {
            "goto": page_url(
                site,
                "privacy.html",
                endpoint=vitalsight.endpoint,
                app=app,
                opts={"denyUrls": ["/api/secret"]},
            )
        },
        {"waitFor": "window.__privacyDone"},
        {"wait": 300},
        LEAVE,
        {
            "goto": page_url(
                site,
                "privacy.html",
                endpoint=vitalsight.endpoint,
                app=page_denied,
                opts={"denyUrls": ["/fixtures/privacy.html"]},
            )
        },
        {"waitFor": "window.__privacyDone"},
        {"wait": 300},
        LEAVE,
    )
    rows = vitalsight.rows("rum_requests", app)
    assert [r["url_template"] for r in rows] == ["/api/public"]
    assert vitalsight.rows("rum_errors", app)  # the rest of the page is recorded
    # A denied page records nothing (checked after the first page's data arrived).
    for table in ("rum_page_views", "rum_requests", "rum_errors", "rum_vitals"):
        assert vitalsight.count(table, page_denied) == 0, table
    raw = "SELECT count() AS n FROM otel_logs WHERE ServiceName = {app:String}"
    assert vitalsight.query(raw, app=page_denied)[0]["n"] == 0


def test_unsampled_sessions_still_send_errors(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    drive(
        {
            "goto": page_url(
                site, "privacy.html", endpoint=vitalsight.endpoint, app=app, opts={"sampleRate": 0}
            )
        },
        {"waitFor": "window.__privacyDone"},
        {"wait": 300},
        LEAVE,
    )
    [error] = vitalsight.rows("rum_errors", app)
    assert error["message"] == "privacy page error"
    assert error["sample_rate"] == 1  # errors are kept whatever the session sampling
    for table in ("rum_page_views", "rum_requests", "rum_vitals", "rum_resources"):
        assert vitalsight.count(table, app) == 0, table


def test_opt_out_is_remembered(site: FixtureServer, vitalsight: Vitalsight, app: str) -> None:
    # A long flush interval: everything is sent when a page is left, so "nothing arrived"
    # cannot be an accident of timing.
    url = page_url(
        site, "privacy.html", endpoint=vitalsight.endpoint, app=app, opts={"flushInterval": 60_000}
    )
    drive(
        {"goto": url},
        {"eval": "vitalsight.setOptOut(true)"},  # drops what the first load queued
        {"goto": url},  # a new page load: the switch is read from localStorage
        {"waitFor": "window.__privacyDone"},
        {"wait": 300},
        {"eval": "vitalsight.setOptOut(false)"},
        {"goto": url},  # recorded again
        {"waitFor": "window.__privacyDone"},
        {"wait": 300},
        LEAVE,
    )
    errors = vitalsight.rows("rum_errors", app)
    views = vitalsight.rows("rum_page_views", app)
    assert len(views) == 1 and len(errors) == 1
    assert views[0]["page_view_id"] == errors[0]["page_view_id"]


# --------------------------------------------------------------------------- transport


def test_keeps_working_through_503_and_delivers_after_recovery(
    site: FixtureServer, vitalsight: Vitalsight, app: str
) -> None:
    proxy = CollectorProxy(upstream=vitalsight.endpoint, fail_first=3)
    proxy.start()
    try:
        drive(
            {"goto": page_url(site, "errors.html", endpoint=proxy.url, app=app)},
            {"waitFor": "window.__errorsDone"},
            # 1 s flush → 503, Retry-After 1 s → 503s until the outage ends, then delivered.
            {"wait": 6000},
            {"click": "#again"},
            {"wait": 1500},
            LEAVE,
        )
        failed = [r for r in proxy.requests if r["status"] == 503]
        assert len(failed) == 3
        messages = {r["message"] for r in vitalsight.rows("rum_errors", app, min_rows=3)}
        assert messages == {
            "e2e boom: cart is undefined",
            "e2e rejected promise",
            "e2e after recovery",
        }
        # The records refused with 503 were retried by the regular path while the page was
        # open (before the error recorded after the click arrived), not only by the unload
        # beacon. (Small bodies are not gzipped, so the encoding cannot tell the paths apart.)
        refused = {json.dumps(r["body"], sort_keys=True) for r in failed}
        after_click = next(
            i for i, r in enumerate(proxy.requests) if "e2e after recovery" in json.dumps(r["body"])
        )
        retried = [
            r
            for r in proxy.requests[:after_click]
            if r["status"] == 200 and json.dumps(r["body"], sort_keys=True) in refused
        ]
        assert retried
        assert all(r["path"].endswith(f"?api_key={API_KEY}") for r in proxy.requests)
        assert wait_for(lambda: vitalsight.count("rum_page_views", app) == 1)
    finally:
        proxy.stop()
