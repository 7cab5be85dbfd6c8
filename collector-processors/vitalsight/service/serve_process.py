"""`vitalsight serve` as a child process: `insights eval`, the benchmarks and the tests use it.

Ports are 0 (the OS picks free ones); the addresses are read from what serve announces on
stdout ("vitalsight: OTLP/HTTP listening on …", then "vitalsight: ready"). Stopping sends
SIGINT, which flushes everything the server acknowledged.
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
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import IO

_ANNOUNCED = re.compile(r"(OTLP/HTTP|OTLP/gRPC|query endpoint) (?:listening )?on (\S+)")
_ADDRESS_FIELDS = {
    "OTLP/HTTP": "http_url",
    "OTLP/gRPC": "grpc_address",
    "query endpoint": "query_url",
}
DEFAULT_START_TIMEOUT_S = 90.0
DEFAULT_STOP_TIMEOUT_S = 120.0


@dataclass
class ServeProcess:
    """One `vitalsight serve` on ``data_dir``; ``start()`` returns once it is ready."""

    data_dir: Path
    extra_args: Sequence[str] = ()
    _: KW_ONLY
    query_user: str
    query_password: str
    # Runs before the command, e.g. ("taskset", "-c", "0") to pin the server to a core.
    wrapper: Sequence[str] = ()
    log_level: str | None = None
    http_url: str = ""
    grpc_address: str = ""
    query_url: str = ""
    output: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None
    _drainer: threading.Thread | None = None

    def command(self) -> list[str]:
        cli = [sys.executable, "-m", "vitalsight.service.cli"]
        if self.log_level:
            cli += ["--log-level", self.log_level]
        return [
            *self.wrapper,
            *cli,
            "serve",
            *("--data-dir", str(self.data_dir)),
            *("--http-port", "0", "--grpc-port", "0", "--query-port", "0"),
            *("--query-user", self.query_user, "--query-password", self.query_password),
            *self.extra_args,
        ]

    def start(self, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> ServeProcess:
        self._proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if self._await_ready(time.monotonic() + timeout_s):
            # Keep reading, so that a full pipe never blocks the server.
            stdout = self._proc.stdout
            self._drainer = threading.Thread(target=self._drain, args=(stdout,), daemon=True)
            self._drainer.start()
            return self
        self.stop()
        raise RuntimeError("vitalsight serve did not start:\n" + "".join(self.output))

    def _await_ready(self, deadline: float) -> bool:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.output.append(line)
            if match := _ANNOUNCED.search(line):
                setattr(self, _ADDRESS_FIELDS[match[1]], match[2])
            if "vitalsight: ready" in line:
                return True
            if time.monotonic() > deadline:
                break
        return False

    def _drain(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.output.append(line)

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def stop(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> int:
        """SIGINT (graceful) and wait; killed if it has not exited after ``timeout_s``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if self._drainer is not None:
            self._drainer.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
        return code
