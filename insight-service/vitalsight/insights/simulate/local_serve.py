"""A throw-away `vitalsight serve` subprocess for `vitalsight insights eval` and the bench.

Ports are chosen by the OS; the addresses are read from what serve announces on stdout.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

QUERY_USER = "eval"
QUERY_PASSWORD = "eval-password"
_LISTEN = re.compile(r"(OTLP/HTTP|query endpoint) (?:listening )?on (\S+)")


class LocalServe:
    """`with LocalServe() as serve:` gives `serve.otlp_url` and `serve.query_url`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="vitalsight-eval-")
        self.data_dir = data_dir or Path(self._tmp.name if self._tmp else ".")
        self.otlp_url = ""
        self.query_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None

    def __enter__(self) -> LocalServe:
        args = [sys.executable, "-m", "vitalsight.service.cli", "serve"]
        args += ["--data-dir", str(self.data_dir / "data")]
        args += ["--http-port", "0", "--grpc-port", "0", "--query-port", "0"]
        args += ["--query-user", QUERY_USER, "--query-password", QUERY_PASSWORD]
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if match := _LISTEN.search(line):
                if match[1] == "OTLP/HTTP":
                    self.otlp_url = match[2]
                else:
                    self.query_url = match[2]
            if "vitalsight: ready" in line:
                # keep reading so a full pipe never blocks the server
                self._drainer = threading.Thread(target=self._proc.stdout.read, daemon=True)
                self._drainer.start()
                return self
        self.__exit__(None, None, None)
        raise RuntimeError("vitalsight serve did not start")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGINT)  # graceful: flushes what was acknowledged
            self._proc.wait(120)
            if self._drainer is not None:
                self._drainer.join(5)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
