"""Run a real `vitalsight serve` in a subprocess for end-to-end tests.

Ports are 0 (the OS picks free ones); the announced addresses are parsed from stdout.
Reads go through clickhouse-connect to the query endpoint, as every reader does.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitalsight.exporters.reader import connect_reader

QUERY_USER = "tester"
QUERY_PASSWORD = "test-password"
_LISTEN = re.compile(r"(OTLP/HTTP|OTLP/gRPC|query endpoint) (?:listening )?on (\S+)")
START_TIMEOUT_S = 60.0


@dataclass
class ServeProcess:
    data_dir: Path
    extra_args: Sequence[str] = ()
    http_url: str = ""
    grpc_address: str = ""
    query_url: str = ""
    output: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None
    _drainer: threading.Thread | None = None

    def start(self) -> ServeProcess:
        args = [
            sys.executable,
            "-m",
            "vitalsight.service.cli",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--query-port",
            "0",
            "--query-user",
            QUERY_USER,
            "--query-password",
            QUERY_PASSWORD,
            *self.extra_args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self._await_ready()
        return self

    def _await_ready(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        for line in self._proc.stdout:
            self.output.append(line)
            match = _LISTEN.search(line)
            if match:
                setattr(self, _ATTRS[match[1]], match[2])
            if "vitalsight: ready" in line:
                self._drainer = threading.Thread(target=self._drain, daemon=True)
                self._drainer.start()
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError("vitalsight serve did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.output.append(line)

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGINT (graceful: flushes what was acknowledged) and wait."""
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        code = self._proc.wait(timeout_s)
        if self._drainer is not None:
            self._drainer.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
        return code

    def client(self) -> Any:
        return connect_reader(self.query_url, username=QUERY_USER, password=QUERY_PASSWORD)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        client = self.client()
        try:
            return [tuple(r) for r in client.query(sql).result_rows]
        finally:
            client.close()

    def wait_for_count(
        self, table: str, expected: int, *, where: str = "1", timeout_s: float = 20.0
    ) -> int:
        """Poll until `table` has at least `expected` rows matching `where`."""
        deadline = time.monotonic() + timeout_s
        count = -1
        while time.monotonic() < deadline:
            count = int(self.rows(f"SELECT count() FROM {table} WHERE {where}")[0][0])
            if count >= expected:
                return count
            time.sleep(0.2)
        return count


_ATTRS = {"OTLP/HTTP": "http_url", "OTLP/gRPC": "grpc_address", "query endpoint": "query_url"}
