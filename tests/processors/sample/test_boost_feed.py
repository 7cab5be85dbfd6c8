"""The sampling boost feed against a real HTTP server: listed routes kept at 100%, back to
their configured rate once unlisted or expired, fails open when the feed is down; and end to
end through `vitalsight serve`."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.processors.sample.test_sample import Clock, kept, sessions_request
from tests.serve_process import ServeProcess
from vitalsight.processors.sample import SampleProcessor, build
from vitalsight.processors.sample.boost_feed import BoostFeed, BoostFeedError, parse_boosts
from vitalsight.receivers.signals import LOGS

SESSIONS = [f"s-{n}" for n in range(200)]
REFRESH_S = 30.0


class BoostServer:
    """An aiohttp server on 127.0.0.1 answering GET /sampling/boosts with `payload` (or
    with `status` when it is not 200), in a thread of its own."""

    def __init__(self) -> None:
        self.payload: Any = {}
        self.status = 200
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> BoostServer:
        self._thread.start()
        self._runner, port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.url = f"http://127.0.0.1:{port}/sampling/boosts"
        return self

    async def _start(self) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_get("/sampling/boosts", self._boosts)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, int(runner.addresses[0][1])

    async def _boosts(self, _: web.Request) -> web.Response:
        self.requests += 1
        if self.status != 200:
            return web.Response(status=self.status, text="unavailable")
        return web.json_response(self.payload)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def boost_server() -> Iterator[BoostServer]:
    server = BoostServer().start()
    yield server
    server.stop()


def sampler(clock: Clock) -> SampleProcessor:
    return SampleProcessor(build({"rate": 0.1, "hash_seed": "boost-test"}).config, clock=clock)


def rates(processor: SampleProcessor, route: str) -> list[str | None]:
    request = processor.process(LOGS, sessions_request(SESSIONS, route=route))
    return [rate for _, rate in kept(request)]


def refresh(feed: BoostFeed) -> bool:
    return asyncio.run(feed.refresh_once())


def test_listed_route_is_kept_at_100_percent_then_back_to_its_rate_when_unlisted(
    boost_server: BoostServer,
) -> None:
    clock = Clock()
    processor = sampler(clock)
    feed = BoostFeed(processor, boost_server.url, REFRESH_S, clock=clock)
    boost_server.payload = {"shop-web": ["/results"], "docs-site": ["/intro"]}

    assert refresh(feed)
    assert rates(processor, "/results") == ["1"] * len(SESSIONS)
    other_route = rates(processor, "/home")  # not listed: the configured 10%
    assert 0 < len(other_route) < 60 and set(other_route) == {"0.1"}

    boost_server.payload = {"docs-site": ["/intro"]}
    assert refresh(feed)
    assert rates(processor, "/results") == other_route
    assert [b.route for b in processor.active_boosts()] == ["/intro"]


def test_boosts_lapse_two_refresh_periods_after_the_feed_goes_down(
    boost_server: BoostServer,
) -> None:
    clock = Clock()
    processor = sampler(clock)
    feed = BoostFeed(processor, boost_server.url, REFRESH_S, clock=clock)
    boost_server.payload = {"shop-web": ["/results"]}
    assert refresh(feed)

    boost_server.status = 503
    clock.now += REFRESH_S
    assert not refresh(feed)  # one missed fetch: the boost still holds
    assert rates(processor, "/results") == ["1"] * len(SESSIONS)

    clock.now += REFRESH_S + 1
    assert not refresh(feed)
    assert processor.active_boosts() == ()
    assert set(rates(processor, "/results")) == {"0.1"}


def test_unreachable_or_malformed_feed_fails_open(boost_server: BoostServer) -> None:
    clock = Clock()
    processor = sampler(clock)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{sock.getsockname()[1]}/sampling/boosts"
    assert not refresh(BoostFeed(processor, closed_url, REFRESH_S, clock=clock))
    assert set(rates(processor, "/results")) == {"0.1"}

    feed = BoostFeed(processor, boost_server.url, REFRESH_S, clock=clock)
    boost_server.payload = {"shop-web": ["/results"]}
    assert refresh(feed)
    boost_server.payload = ["/results"]  # not {app: [routes]}: the current boosts stay
    assert not refresh(feed)
    assert [(b.app, b.route) for b in processor.active_boosts()] == [("shop-web", "/results")]


def test_parse_boosts_builds_rate_1_boosts_and_refuses_other_shapes() -> None:
    boosts = parse_boosts({"shop-web": ["/a", "", "/b"]}, until=99.0)
    assert [(b.app, b.route, b.release, b.rate, b.until) for b in boosts] == [
        ("shop-web", "/a", None, 1.0, 99.0),
        ("shop-web", "/b", None, 1.0, 99.0),
    ]  # an empty route would boost the whole app: skipped
    with pytest.raises(BoostFeedError, match="app 'shop-web': expected a list of route strings"):
        parse_boosts({"shop-web": "/a"}, until=0)
    with pytest.raises(BoostFeedError, match="expected an object"):
        parse_boosts([], until=0)


def test_run_polls_every_refresh_period_until_stopped(boost_server: BoostServer) -> None:
    processor = sampler(Clock(time.time()))
    feed = BoostFeed(processor, boost_server.url, 0.05)
    boost_server.payload = {"shop-web": ["/results"]}

    async def run_until_polled_three_times() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        deadline = time.monotonic() + 10
        while boost_server.requests < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(run_until_polled_three_times())
    assert boost_server.requests >= 3
    assert [b.route for b in processor.active_boosts()] == ["/results"]


E2E_CONFIG = """\
pipeline: [sample]
processors:
  sample:
    rate: 0.01
    hash_seed: boost-e2e
    boosts_url: {url}
    boosts_refresh_seconds: 0.5
"""


def test_serve_keeps_the_boosted_route_at_rate_1(boost_server: BoostServer, tmp_path: Path) -> None:
    boost_server.payload = {"shop-web": ["/results"]}
    config = tmp_path / "vitalsight.yaml"
    config.write_text(E2E_CONFIG.format(url=boost_server.url))
    server = ServeProcess(tmp_path / "data", extra_args=("--config", str(config))).start()
    try:
        deadline = time.monotonic() + 20
        while boost_server.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert boost_server.requests >= 2, "the boost feed did not poll"  # the 1st is applied
        for route in ("/results", "/home"):
            request = sessions_request(SESSIONS, route=route)
            for record in request.resource_logs[0].scope_logs[0].log_records:
                record.time_unix_nano = time.time_ns()  # recent: old rows fall under the TTL
            post = urllib.request.Request(
                f"{server.http_url}/v1/logs",
                data=request.SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
                method="POST",
            )
            with urllib.request.urlopen(post, timeout=10) as response:
                assert response.status == 200
        where = "ServiceName = 'shop-web' AND LogAttributes['browser.page.route'] = '/results'"
        assert server.wait_for_count("otel_logs", len(SESSIONS), where=where) == len(SESSIONS)
        rows = server.rows(
            "SELECT LogAttributes['browser.page.route'] AS route, "
            "groupUniqArray(LogAttributes['vitalsight.sample_rate']), count() "
            "FROM otel_logs WHERE ServiceName = 'shop-web' GROUP BY route ORDER BY route"
        )
        assert server.stop() == 0  # the feed stops with the server
    finally:
        server.stop()
    by_route = {route: (sorted(rates), count) for route, rates, count in rows}
    assert by_route["/results"] == (["1"], len(SESSIONS))
    home_rates, home_count = by_route.get("/home", (["0.01"], 0))
    assert home_rates == ["0.01"] and home_count < 20  # unboosted: the configured 1%
