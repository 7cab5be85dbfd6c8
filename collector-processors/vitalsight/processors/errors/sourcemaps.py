"""The source map store: maps uploaded per app and release, parsed once and cached (LRU).

Layout: ``<root>/<app>/<release>/<minified file name>.map``, e.g.
``/var/lib/vitalsight/sourcemaps/shop-web/1.2.9/app.min.js.map`` for a frame in
``https://cdn.shop.example/assets/app.min.js``. The minified file itself may sit beside its
map (``…/app.min.js``); then function names come from the scopes of the minified code, which
is exact, instead of from the caller's call site (see `LoadedMap.resolve`).

Parsing and lookups use Sentry's `symbolic` (Rust, maintained) rather than a hand-written
VLQ decoder.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from symbolic.exceptions import SymbolicError
from symbolic.sourcemap import SourceMapTokenMatch, SourceMapView, SourceView

from vitalsight.processors.errors.stacktrace import Frame, ResolvedFrame, source_path

logger = logging.getLogger(__name__)

#: How long "no map for this file" is remembered, so a map uploaded after the first errors
#: of a release is picked up without a restart, yet unmapped errors do not hit the disk each.
MISSING_MAP_TTL_S = 30.0
_MISSING = object()


class SourceMapError(ValueError):
    """A source map that cannot be used (not JSON, not version 3, bad mappings)."""


def _safe_component(value: str) -> bool:
    """App, release and file names come from telemetry: never let them leave the store."""
    return bool(value) and value not in (".", "..") and not any(c in value for c in "/\\\0")


def parse_sourcemap(data: bytes, name: str = "source map") -> SourceMapView:
    """Parse and check a source map; SourceMapError says what is wrong with it."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceMapError(f"{name}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("version") != 3:
        raise SourceMapError(f"{name}: not a version 3 source map")
    if not isinstance(document.get("mappings"), str) and "sections" not in document:
        raise SourceMapError(f"{name}: has no mappings")
    try:
        return SourceMapView.from_json_bytes(data)
    except SymbolicError as exc:
        raise SourceMapError(f"{name}: {exc}") from exc


class LoadedMap:
    """One parsed source map, with the minified source when it was uploaded too."""

    def __init__(self, view: SourceMapView, source: SourceView | None) -> None:
        self._view = view
        self._source = source

    def resolve(self, frame: Frame, caller: Frame | None) -> ResolvedFrame | None:
        """The original location and function of `frame`, or None if the map has none.

        The function name comes from the minified source's scopes when we have it. Else
        from the caller's call site: the name the original code called there is the name
        of the function this frame runs (the heuristic Sentry used before scopes).
        """
        token = self._lookup(frame)
        if token is None or not token.src:
            return None
        function = token.function_name or ""
        if not function and caller is not None:
            call_site = self._lookup(caller)
            if call_site is not None and call_site.name:
                function = call_site.name
        file = source_path(token.src)
        return ResolvedFrame(function, file, token.src_line + 1, token.src_col + 1)

    def _lookup(self, frame: Frame) -> SourceMapTokenMatch | None:
        line, col = frame.line - 1, frame.column - 1  # symbolic is 0-based
        if self._source is not None and frame.function:
            minified_name = frame.function.rsplit(".", 1)[-1]
            return self._view.lookup(line, col, minified_name, self._source)
        return self._view.lookup(line, col)


class SourceMapStore:
    """Finds and caches the parsed map for a frame's file, per app and release."""

    def __init__(self, root: str | Path, *, cache_size: int) -> None:
        self.root = Path(root)
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], LoadedMap | tuple[object, float]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def map_path(self, app: str, release: str, file_name: str) -> Path | None:
        """Where the map of `file_name` lives, or None if a name would escape the store."""
        if not (_safe_component(app) and _safe_component(release)):
            return None
        if not _safe_component(file_name):
            return None
        return self.root / app / release / f"{file_name}.map"

    def get(self, app: str, release: str, file_url: str) -> LoadedMap | None:
        """The parsed map for a frame's file URL (path's last segment), cached."""
        file_name = file_url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
        key = (app, release, file_name)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                if isinstance(cached, LoadedMap):
                    self._cache.move_to_end(key)
                    return cached
                if time.monotonic() - cached[1] < MISSING_MAP_TTL_S:
                    return None
        loaded = self._load(app, release, file_name)
        with self._lock:
            self._cache[key] = loaded if loaded is not None else (_MISSING, time.monotonic())
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def _load(self, app: str, release: str, file_name: str) -> LoadedMap | None:
        path = self.map_path(app, release, file_name)
        if path is None:
            return None
        try:
            view = parse_sourcemap(path.read_bytes(), str(path))
        except FileNotFoundError:
            return None
        except (OSError, SourceMapError) as exc:  # fail open: keep the minified frames
            logger.warning("errors: unusable source map %s: %s", path, exc)
            return None
        minified = path.with_suffix("")  # `app.min.js.map` → `app.min.js`
        try:
            source = SourceView.from_bytes(minified.read_bytes())
        except OSError:  # no minified file uploaded: function names from call sites
            source = None
        return LoadedMap(view, source)


def upload_sourcemaps(
    root: str | Path, app: str, release: str, directory: str | Path
) -> list[Path]:
    """Copy every `*.map` under `directory` into the store for `app` and `release`.

    Each map is checked first; nothing is copied if one is invalid (SourceMapError names
    it). A map's minified file (the map's name without `.map`) is copied along when it
    sits beside it, for exact function names. Returns the written paths, maps first.

    Raises:
        SourceMapError: a map does not parse, or two maps share a file name.
        ValueError: `app` or `release` is not a plain name, or `directory` has no maps.
    """
    for label, value in (("app", app), ("release", release)):
        if not _safe_component(value):
            raise ValueError(f"{label} must be a plain name without '/', got {value!r}")
    source_dir = Path(directory)
    if not source_dir.is_dir():
        raise ValueError(f"{source_dir} is not a directory")
    maps = sorted(source_dir.rglob("*.map"))
    if not maps:
        raise ValueError(f"no *.map files under {source_dir}")
    seen: dict[str, Path] = {}
    for path in maps:
        if path.name in seen:
            raise SourceMapError(f"{path} and {seen[path.name]} have the same file name")
        seen[path.name] = path
        parse_sourcemap(path.read_bytes(), str(path))
    target = Path(root) / app / release
    target.mkdir(parents=True, exist_ok=True)
    written = [Path(shutil.copyfile(path, target / path.name)) for path in maps]
    minified: Sequence[Path] = [p.with_suffix("") for p in maps if p.with_suffix("").is_file()]
    written += [Path(shutil.copyfile(path, target / path.name)) for path in minified]
    return written
