"""Route templates from page URLs: explicit per-app patterns first, then ids, uuids, hashes
and random tokens collapsed to `:id`, `:uuid` and `:hash` (as our SDK does, see
docs/ARCHITECTURE.md "URL templates")."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from vitalsight.processors.enrich.config import ALL_APPS

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NUMERIC = re.compile(r"\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_DIGIT_OR_UPPER = re.compile(r"[0-9A-Z]")
_SEPARATOR = re.compile(r"[-_]")
_WORD = re.compile(r"[a-z]{3,}")


class RoutePattern:
    """`/docs/{section}/{page}`: matches `/docs/api/intro`, yields `/docs/:section/:page`."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        normalized = _strip_slash(pattern)
        parts = [
            "[^/]+" if _PLACEHOLDER.fullmatch(segment) else re.escape(segment)
            for segment in normalized.split("/")
        ]
        self._regex = re.compile("/".join(parts))
        self.template = _PLACEHOLDER.sub(lambda m: ":" + m.group(1), normalized)

    def match(self, path: str) -> bool:
        return self._regex.fullmatch(path) is not None


def _strip_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def url_path(url: str) -> str:
    """The path of an absolute or relative URL, without query and fragment."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return path or "/"


class RouteTemplater:
    """(app, URL) → route template, cached by (app, URL): parsing the URL is half the cost."""

    def __init__(
        self,
        patterns: Mapping[str, Sequence[str]],
        *,
        min_token_length: int,
        cache_size: int,
    ) -> None:
        self._patterns = {
            app: tuple(RoutePattern(p) for p in app_patterns)
            for app, app_patterns in patterns.items()
        }
        self._min_token_length = min_token_length
        self.route: Callable[[str, str], str | None] = (
            lru_cache(maxsize=cache_size)(self._route) if cache_size else self._route
        )

    def _route(self, app: str, url: str) -> str | None:
        path = url_path(url)
        return self._template(app, path) if path else None

    def _template(self, app: str, path: str) -> str:
        path = _strip_slash(path)
        for pattern in (*self._patterns.get(app, ()), *self._patterns.get(ALL_APPS, ())):
            if pattern.match(path):
                return pattern.template
        return "/".join(self._segment(segment) for segment in path.split("/"))

    def _segment(self, segment: str) -> str:
        if not segment:
            return segment
        if _NUMERIC.fullmatch(segment):
            return ":id"
        if _UUID.fullmatch(segment):
            return ":uuid"
        if _HEX.fullmatch(segment) or self._is_token(segment):
            return ":hash"
        return segment

    def _is_token(self, segment: str) -> bool:
        # Slugs (`best-laptops-2024-under-1000`) are long too. A random token has digits, or
        # digits and capitals, making at least a quarter of it, and not two lowercase words.
        if len(segment) < self._min_token_length or not _TOKEN_CHARS.fullmatch(segment):
            return False
        if not any(c.isdigit() for c in segment):
            return False
        words = sum(1 for part in _SEPARATOR.split(segment) if _WORD.fullmatch(part))
        return words < 2 and 4 * len(_DIGIT_OR_UPPER.findall(segment)) >= len(segment)
