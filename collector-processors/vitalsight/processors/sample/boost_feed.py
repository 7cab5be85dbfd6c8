"""Polling the routes to boost (`boosts_url`, e.g. the insight service's /sampling/boosts).

Each fetch replaces the processor's boosts with one rate-1 boost per listed (app, route)
lasting two refresh periods: a route the feed stops listing is back to its configured rate
at the next fetch, and if the feed becomes unreachable the boosts lapse on their own (fails
open: nothing is kept at 100% forever because a service went away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from vitalsight.processors.sample.processor import Boost, SampleProcessor

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0
BOOST_RATE = 1.0


class BoostFeedError(ValueError):
    """The feed answered something other than {app: [route, ...]}."""


def parse_boosts(payload: Any, *, until: float) -> list[Boost]:
    """{app: [routes]} → one rate-1 boost per (app, route); empty routes are ignored (an
    empty route would boost the whole app)."""
    if not isinstance(payload, dict):
        raise BoostFeedError(f"expected an object {{app: [routes]}}, got {type(payload).__name__}")
    boosts = []
    for app, routes in payload.items():
        if not isinstance(routes, list) or not all(isinstance(r, str) for r in routes):
            raise BoostFeedError(f"app {app!r}: expected a list of route strings")
        boosts += [Boost(app, route, None, BOOST_RATE, until) for route in routes if route]
    return boosts


class BoostFeed:
    """Keeps a sample processor's boosts equal to what `url` lists, every `refresh_s`."""

    def __init__(
        self,
        processor: SampleProcessor,
        url: str,
        refresh_s: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._processor = processor
        self._url = url
        self._refresh_s = refresh_s
        self._clock = clock

    async def refresh_once(self) -> bool:
        """Fetch and apply the boosts; on any failure log it, keep the current boosts (they
        lapse by their expiry) and return False."""
        try:
            payload = await self._fetch()
            boosts = parse_boosts(payload, until=self._clock() + 2 * self._refresh_s)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning(
                "sample: boosts from %s unavailable (%s); current boosts lapse", self._url, exc
            )
            return False
        self._processor.replace_boosts(boosts)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh now and then every `refresh_s` until `stop` is set."""
        while not stop.is_set():
            await self.refresh_once()
            with contextlib.suppress(TimeoutError):  # the refresh period ended
                await asyncio.wait_for(stop.wait(), self._refresh_s)

    async def _fetch(self) -> Any:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self._url) as response,
        ):
            response.raise_for_status()
            return await response.json(content_type=None)
