"""A throw-away `vitalsight serve` (temporary data directory) for `vitalsight insights eval`
and the bench, started through the shared child-process launcher."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType

from vitalsight.service.serve_process import ServeProcess

QUERY_USER = "eval"
QUERY_PASSWORD = "eval-password"


class LocalServe:
    """`with LocalServe() as serve:` gives `serve.otlp_url` and `serve.query_url`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="vitalsight-eval-")
        self.data_dir = data_dir or Path(self._tmp.name if self._tmp else ".")
        self._serve = ServeProcess(
            self.data_dir / "data", query_user=QUERY_USER, query_password=QUERY_PASSWORD
        )

    @property
    def otlp_url(self) -> str:
        return self._serve.http_url

    @property
    def query_url(self) -> str:
        return self._serve.query_url

    def __enter__(self) -> LocalServe:
        try:
            self._serve.start()
        except RuntimeError:
            self._cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._serve.stop()  # graceful: flushes what was acknowledged
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
