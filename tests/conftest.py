from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve_process import ServeProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A real `vitalsight serve` on an embedded store, shared by a test module."""
    process = ServeProcess(tmp_path_factory.mktemp("serve")).start()
    yield process
    process.stop()


@pytest.fixture
def fresh_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
