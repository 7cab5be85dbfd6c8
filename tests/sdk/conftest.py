"""Fixtures for the browser SDK end-to-end tests: a real ``vitalsight serve``, a fixture web
server for ``sdk-js/test/fixtures`` and the built SDK, and a unique app name per test."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk.harness import API_KEY, CHROMIUM, SDK, FixtureServer, Vitalsight
from tests.serve_process import ServeProcess


@pytest.fixture(scope="session")
def sdk_built() -> Path:
    """Skips (with the reason) when Chromium or sdk-js/node_modules are missing; builds once."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (SDK / "node_modules" / "playwright-core").is_dir():
        pytest.skip("sdk-js/node_modules is missing: run `npm ci` in sdk-js")
    subprocess.run(["node", "scripts/build.mjs"], cwd=SDK, check=True, timeout=120)
    return SDK / "dist" / "vitalsight.iife.js"


@pytest.fixture(scope="session")
def site(sdk_built: Path) -> Iterator[FixtureServer]:
    server = FixtureServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def vitalsight(sdk_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vitalsight]:
    """One real `vitalsight serve` (embedded chDB, API key required) for all SDK tests."""
    serve = ServeProcess(
        tmp_path_factory.mktemp("sdk-serve"),
        extra_args=["--api-key", API_KEY, "--flush-interval", "0.2"],
    ).start()
    server = Vitalsight(serve)
    try:
        yield server
    finally:
        server.close()
        serve.stop()


@pytest.fixture
def app() -> str:
    """A unique app name (service.name) per test, so tests share one server without mixing."""
    return f"e2e-{uuid.uuid4().hex[:10]}"
