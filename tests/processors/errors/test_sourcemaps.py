from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.processors.errors.conftest import Bundle
from vitalsight.processors.errors import SourceMapError, SourceMapStore, upload_sourcemaps
from vitalsight.processors.errors.stacktrace import Frame

MINIMAL = {"version": 3, "sources": ["src/a.ts"], "names": [], "mappings": "AAAA"}


def write(path: Path, content: str | dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_upload_copies_maps_and_their_minified_files(bundle: Bundle, tmp_path: Path) -> None:
    written = upload_sourcemaps(tmp_path / "store", "shop-web", "1.2.9", bundle.js.parent)
    target = tmp_path / "store" / "shop-web" / "1.2.9"
    assert written == [target / "main.js.map", target / "main.js"]
    assert (target / "main.js.map").read_bytes() == bundle.map.read_bytes()


def test_upload_finds_maps_in_subdirectories(tmp_path: Path) -> None:
    write(tmp_path / "dist" / "js" / "vendor.js.map", MINIMAL)
    written = upload_sourcemaps(tmp_path / "store", "shop", "2", tmp_path / "dist")
    assert written == [tmp_path / "store" / "shop" / "2" / "vendor.js.map"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not JSON"),
        ({"version": 2, "mappings": ""}, "not a version 3 source map"),
        ({"version": 3, "sources": []}, "has no mappings"),
        ({"version": 3, "sources": ["a"], "names": [], "mappings": "!!!"}, "vlq"),
    ],
)
def test_upload_refuses_invalid_maps_and_copies_nothing(
    tmp_path: Path, content: str | dict[str, object], problem: str
) -> None:
    write(tmp_path / "dist" / "a.js.map", MINIMAL)
    bad = write(tmp_path / "dist" / "b.js.map", content)
    with pytest.raises(SourceMapError, match=problem) as raised:
        upload_sourcemaps(tmp_path / "store", "shop", "2", tmp_path / "dist")
    assert str(raised.value).startswith(str(bad))
    assert not (tmp_path / "store").exists()


def test_upload_refuses_unsafe_names_and_empty_directories(tmp_path: Path) -> None:
    write(tmp_path / "dist" / "a.js.map", MINIMAL)
    with pytest.raises(
        ValueError, match=re.escape("app must be a plain name without '/', got '../x'")
    ):
        upload_sourcemaps(tmp_path / "store", "../x", "2", tmp_path / "dist")
    with pytest.raises(ValueError, match="release must be a plain name"):
        upload_sourcemaps(tmp_path / "store", "shop", "..", tmp_path / "dist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=re.escape("no *.map files under")):
        upload_sourcemaps(tmp_path / "store", "shop", "2", tmp_path / "empty")


def test_upload_refuses_two_maps_with_one_name(tmp_path: Path) -> None:
    write(tmp_path / "dist" / "a" / "index.js.map", MINIMAL)
    write(tmp_path / "dist" / "b" / "index.js.map", MINIMAL)
    with pytest.raises(SourceMapError, match="have the same file name"):
        upload_sourcemaps(tmp_path / "store", "shop", "2", tmp_path / "dist")


def test_store_never_leaves_its_root(tmp_path: Path) -> None:
    store = SourceMapStore(tmp_path, cache_size=4)
    assert store.map_path("shop", "1", "app.js") == tmp_path / "shop" / "1" / "app.js.map"
    assert store.map_path("..", "1", "app.js") is None
    assert store.map_path("shop", "a/b", "app.js") is None
    assert store.get("shop", "1", "https://x/..") is None


def test_store_caches_parsed_maps_lru_and_rechecks_missing_ones(tmp_path: Path) -> None:
    store = SourceMapStore(tmp_path, cache_size=2)
    assert store.get("shop", "1", "https://x/a.js") is None  # not uploaded yet
    for name in ("a", "b", "c"):
        write(tmp_path / "shop" / "1" / f"{name}.js.map", MINIMAL)
    first = store.get("shop", "1", "https://x/b.js?v=1")
    assert first is not None
    assert store.get("shop", "1", "https://cdn/other/b.js") is first  # cached
    frame = Frame("f", "https://x/b.js", 1, 1)
    resolved = first.resolve(frame, None)
    assert resolved is not None
    assert (resolved.file, resolved.line, resolved.column) == ("src/a.ts", 1, 1)
    assert store.get("shop", "1", "https://x/c.js") is not None
    assert store.get("shop", "1", "https://x/a.js") is not None  # evicts b (LRU)
    assert store.get("shop", "1", "https://x/b.js") is not first  # parsed again


def test_a_broken_map_in_the_store_fails_open(tmp_path: Path) -> None:
    write(tmp_path / "shop" / "1" / "a.js.map", "{broken")
    store = SourceMapStore(tmp_path, cache_size=2)
    assert store.get("shop", "1", "https://x/a.js") is None
