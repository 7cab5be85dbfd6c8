"""chDB's library (555 MB, ~230 MB resident once loaded) is loaded only by the embedded store:
readers (the insight service, `vitalsight report`, the CLI) and a `vitalsight serve` writing
to a ClickHouse server never load it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

EMBEDDED_STORE_MODULE = "vitalsight.exporters.chdb_store"
SERVER_URL = os.environ.get("VITALSIGHT_TEST_CLICKHOUSE_URL")


def _loads_chdb(code: str) -> bool:
    script = textwrap.dedent(code) + "\nimport sys\nprint('chdb' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120
    )
    return out.stdout.strip().splitlines()[-1] == "True"


def test_no_module_but_the_embedded_store_loads_chdb() -> None:
    assert not _loads_chdb(
        f"""
        import importlib, pkgutil
        import vitalsight
        names = sorted(
            m.name for m in pkgutil.walk_packages(vitalsight.__path__, "vitalsight.")
            if m.name != {EMBEDDED_STORE_MODULE!r}
        )
        assert len(names) > 50, names  # the walk found the packages
        for name in names:
            importlib.import_module(name)
        """
    )


def test_the_embedded_store_loads_chdb() -> None:
    # The check above can see chDB when it is loaded.
    assert _loads_chdb(f"import {EMBEDDED_STORE_MODULE}")


def test_serve_loads_chdb_when_it_opens_the_embedded_store(tmp_path: Path) -> None:
    assert _loads_chdb(
        f"""
        import sys
        from vitalsight.service.config import ServeConfig
        from vitalsight.service.serve import open_store
        assert "chdb" not in sys.modules
        store = open_store(ServeConfig(data_dir={str(tmp_path)!r}))
        assert store.kind == "chdb", store.kind
        store.close()
        """
    )


@pytest.mark.skipif(
    SERVER_URL is None, reason="no ClickHouse server here: set VITALSIGHT_TEST_CLICKHOUSE_URL"
)
def test_serve_with_a_clickhouse_server_never_loads_chdb() -> None:
    # The server store connects when it is built, so this half needs a server.
    assert not _loads_chdb(
        f"""
        from vitalsight.service.config import ServeConfig
        from vitalsight.service.serve import open_store
        store = open_store(ServeConfig(clickhouse_url={SERVER_URL!r}))
        assert store.kind == "clickhouse", store.kind
        store.close()
        """
    )
