"""Helpers for the browser SDK end-to-end tests (sdk-js).

A real ``vitalsight serve`` (temp data dir, free ports), a local fixture web server for
``sdk-js/test/fixtures`` and the built IIFE, and headless Chromium driven by
``sdk-js/test/e2e/drive.mjs``. Tests assert on the rows that land in the ClickHouse fact
tables, read over the ClickHouse HTTP protocol with clickhouse-connect.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.local_http import LocalHttpServer, QuietHandler
from tests.serve_process import ServeProcess

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk-js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
API_KEY = "e2e-key"
DEADLINE = float(os.environ.get("VITALSIGHT_E2E_DEADLINE", "45"))


def wait_for(fn: Callable[[], Any], timeout: float = DEADLINE, interval: float = 0.3) -> Any:
    """Polls ``fn`` until it returns something truthy; returns the last value at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------- fixture assets


def _png(width: int, height: int) -> bytes:
    """A noisy RGB PNG: Chromium ignores low-entropy images as LCP candidates."""
    rng = random.Random(42)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


BIG_SCRIPT = ("window.__big = " + json.dumps("x" * 300_000) + ";\n").encode()
STYLE = b"""
@font-face { font-family: Brand; src: url(/assets/brand.woff2) format('woff2'); }
.branded { font-family: Brand, sans-serif; color: #135; }
"""


@dataclass
class FixtureServer:
    """Serves fixture pages, the built SDK and the API endpoints the pages call."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    _server: LocalHttpServer | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.origin

    def start(self) -> None:
        png = _png(600, 400)
        fixture = self

        class Handler(QuietHandler):
            def _handle(self) -> None:  # noqa: PLR0911 - one route table
                url = urlsplit(self.path)
                path = url.path
                self.read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                fixture.seen.append({"method": self.command, "path": path, "headers": headers})
                if "delay=" in url.query:
                    time.sleep(int(url.query.split("delay=")[1].split("&")[0]) / 1000)
                if path.startswith("/fixtures/") or path.startswith("/dist/"):
                    base = SDK / "test" if path.startswith("/fixtures/") else SDK
                    file = (base / path.lstrip("/")).resolve()
                    if not file.is_file() or base not in file.parents:
                        return self.answer(404, b"not found")
                    ctype = "text/html" if file.suffix == ".html" else "text/javascript"
                    return self.answer(200, file.read_bytes(), ctype + "; charset=utf-8")
                if path.startswith("/spa/"):
                    html = (SDK / "test/fixtures/spa.html").read_bytes()
                    return self.answer(200, html, "text/html; charset=utf-8")
                if path.endswith(".png"):
                    return self.answer(200, png, "image/png")
                if path == "/assets/big.js":
                    return self.answer(200, BIG_SCRIPT, "text/javascript")
                if path == "/assets/style.css":
                    return self.answer(200, STYLE, "text/css")
                if path.endswith(".woff2"):
                    return self.answer(200, b"\0" * 2048, "font/woff2")
                if path == "/api/fail":
                    return self.answer(500, b'{"error":"boom"}', "application/json")
                if path == "/api/slow":
                    time.sleep(1.2)
                if path.startswith("/api/"):
                    return self.answer(200, b'{"ok":true}', "application/json")
                return self.answer(404, b"not found")

            do_GET = do_POST = _handle  # noqa: N815

        self._server = LocalHttpServer(Handler)

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [r["headers"] for r in self.seen if r["path"] == path]


@dataclass
class CollectorProxy:
    """An OTLP/HTTP endpoint in front of ``vitalsight serve`` that records every request and can
    answer the first ``fail_first`` POSTs with 503 + ``Retry-After: 1`` (an outage)."""

    upstream: str
    fail_first: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: LocalHttpServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.origin

    def start(self) -> None:
        proxy = self

        class Handler(QuietHandler):
            def _cors(self) -> list[tuple[str, str]]:
                return [
                    ("Access-Control-Allow-Origin", self.headers.get("Origin") or "*"),
                    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
                    (
                        "Access-Control-Allow-Headers",
                        "content-type, content-encoding, x-vitalsight-key",
                    ),
                    ("Access-Control-Expose-Headers", "Retry-After"),
                    ("Access-Control-Max-Age", "600"),
                ]

            def do_OPTIONS(self) -> None:  # noqa: N802 - the stdlib handler API
                self.answer(204, b"", headers=self._cors())

            def do_POST(self) -> None:  # noqa: N802 - the stdlib handler API
                body = self.read_body()
                with proxy._lock:
                    failing = proxy.fail_first > 0
                    if failing:
                        proxy.fail_first -= 1
                status, reply = 503, b"unavailable"
                if not failing and not proxy.upstream:
                    status, reply = 200, b"{}"  # capture only
                elif not failing:
                    status, reply = proxy.forward(self.path, self.headers.items(), body)
                raw = (
                    gzip.decompress(body)
                    if self.headers.get("Content-Encoding") == "gzip"
                    else body
                )
                proxy.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(raw or b"{}"),
                        "status": status,
                    }
                )
                retry = [("Retry-After", "1")] if status == 503 else []
                self.answer(status, reply, headers=self._cors() + retry)

        self._server = LocalHttpServer(Handler)

    def forward(
        self, path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> tuple[int, bytes]:
        kept = ("content-type", "content-encoding", "x-vitalsight-key")
        request = urllib.request.Request(
            self.upstream + path,
            data=body,
            method="POST",
            headers={k: v for k, v in headers if k.lower() in kept},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self) -> None:
        if self._server:
            self._server.stop()


# --------------------------------------------------------------------------- vitalsight serve


@dataclass
class Vitalsight:
    """A running ``vitalsight serve`` (tests/serve_process.py) with polling row queries."""

    serve: ServeProcess
    client: Any = None

    @property
    def endpoint(self) -> str:
        return self.serve.http_url.rstrip("/")

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        if self.client is None:
            self.client = self.serve.client()
        result = self.client.query(sql, parameters=params)
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    def rows(
        self,
        table: str,
        app: str,
        where: str = "1",
        *,
        min_rows: int = 1,
        timeout: float = DEADLINE,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """Polls ``table`` for rows of ``app`` matching ``where`` until there are ``min_rows``
        (a deadline, not a fixed sleep); returns what is there at the deadline otherwise."""
        sql = f"SELECT * FROM {table} WHERE app = {{app:String}} AND ({where}) ORDER BY timestamp"
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            nonlocal found
            found = self.query(sql, app=app, **params)
            return len(found) >= min_rows

        wait_for(enough, timeout)
        return found

    def count(self, table: str, app: str) -> int:
        sql = f"SELECT count() AS n FROM {table} WHERE app = {{app:String}}"
        return int(self.query(sql, app=app)[0]["n"])

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def page_url(
    site: FixtureServer,
    page: str,
    *,
    endpoint: str,
    app: str,
    key: str | None = API_KEY,
    opts: dict[str, Any] | None = None,
    **extra: str,
) -> str:
    query = {"endpoint": endpoint, "app": app, "opts": json.dumps(opts or {}), **extra}
    if key:
        query["key"] = key
    path = page if page.startswith("/") else f"/fixtures/{page}"
    return f"{site.origin}{path}?{urlencode(query)}"


def drive(*steps: dict[str, Any], timeout: float = 90) -> dict[str, Any]:
    """Runs sdk-js/test/e2e/drive.mjs with the steps; fails the test with its output if it fails."""
    proc = subprocess.run(
        ["node", "test/e2e/drive.mjs", json.dumps({"steps": list(steps)})],
        cwd=SDK,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    lines = proc.stdout.decode().strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or not result.get("ok"):
        pytest.fail(f"drive.mjs failed: {result or proc.stderr.decode()[-3000:]}")
    return result
