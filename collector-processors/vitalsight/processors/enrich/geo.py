"""Coarse geo: client IP → country with an offline database shipped in a PyPI package
(geoip2fast, GeoLite2 country data), and browser time zone → country as a fallback.

Nothing is downloaded: geoip2fast reads the `.dat.gz` inside its wheel, and the time zone
table is tzdata's `zone.tab` (the `tzdata` package).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from geoip2fast import GeoIP2Fast  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

COUNTRY = "geo.country.iso_code"
TIMEZONE = "browser.timezone"
TIMEZONE_OFFSET = "browser.timezone_offset"

# IPv4 and IPv6 country networks (the IPv4-only file would save ~20 MB but browsers use IPv6).
GEOIP_DATA_FILE = "geoip2fast-ipv6.dat.gz"
MAX_ADDRESS_LENGTH = 45  # the longest IPv6 text form (an IPv4-mapped one)
# An IANA zone name ("America/Argentina/Buenos_Aires", "Etc/GMT+3"); anything else is not
# looked up on disk.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")


class IpCountry:
    """Country of a public IP address; None for private, reserved, malformed or unknown ones."""

    def __init__(self, cache_size: int) -> None:
        self._db = GeoIP2Fast(geoip2fast_data_file=GEOIP_DATA_FILE, verbose=False)
        self._cached: Callable[[str], str | None] = (
            lru_cache(maxsize=cache_size)(self._lookup) if cache_size else self._lookup
        )

    def lookup(self, text: str) -> str | None:
        """The country of `text`, an address or a list such as X-Forwarded-For's."""
        # "client, proxy1, proxy2": the first hop. Only short strings reach the cache, so a
        # sender cannot fill it with megabytes.
        first = text.split(",", 1)[0].split(";", 1)[0].strip()
        return self._cached(first) if len(first) <= MAX_ADDRESS_LENGTH else None

    @property
    def source(self) -> str:
        """Where the data comes from, e.g. `MAXMIND:GeoLite2-Country-IPv4IPv6-en-20240618`."""
        return str(self._db.get_database_info().get("source_info", "unknown"))

    def _lookup(self, text: str) -> str | None:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        # geoip2fast answers for malformed input too ("1.2.3" → CN), so only canonical
        # global addresses reach it.
        if not address.is_global:
            return None
        code = str(self._db.lookup(str(address)).country_code)
        return code if len(code) == 2 and code.isalpha() else None


def _read_zone_tab() -> list[tuple[str, str]]:
    """(zone, country) rows of tzdata's zone.tab: one country per zone, the zone's own."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _coords, zone, *_ = line.split("\t")
        rows.append((zone, country))
    return rows


def _zone_bytes(zone: str) -> bytes | None:
    if len(zone) > 64 or not _ZONE_NAME.fullmatch(zone):
        return None
    try:
        return resources.files("tzdata").joinpath("zoneinfo", *zone.split("/")).read_bytes()
    except (OSError, ValueError):
        return None


class TimezoneCountry:
    """Country of a browser time zone where it names exactly one country.

    - IANA name (`Intl.DateTimeFormat().resolvedOptions().timeZone`): zone.tab's country;
      old aliases browsers still report (`Asia/Calcutta`) resolve through tzdata, whose link
      files are copies of their target.
    - Offset in minutes east of UTC, as our SDK sends it (`-Date.getTimezoneOffset()`, local
      minus UTC: Berlin in winter is 60): only the few offsets used by one country alone this
      year (e.g. 345 → NP).
    """

    def __init__(self, *, year: int | None = None) -> None:
        self._zones = dict(_read_zone_tab())
        self._by_content = self._index_contents()
        self._by_offset = self._index_offsets(year or datetime.now().year)

    def _index_contents(self) -> dict[bytes, str | None]:
        index: dict[bytes, str | None] = {}
        for zone, country in self._zones.items():
            data = _zone_bytes(zone)
            if data is None:
                continue
            digest = hashlib.sha1(data, usedforsecurity=False).digest()
            # Identical rules shared by zones of two countries make the alias ambiguous.
            index[digest] = country if index.get(digest, country) == country else None
        return index

    def _index_offsets(self, year: int) -> dict[int, str]:
        countries: dict[int, set[str]] = {}
        for zone, country in self._zones.items():
            try:
                tz = ZoneInfo(zone)
            except (KeyError, ValueError, OSError):
                continue
            for month in (1, 7):
                offset = datetime(year, month, 15, 12, tzinfo=tz).utcoffset()
                if offset is not None:
                    minutes = int(offset.total_seconds() // 60)
                    countries.setdefault(minutes, set()).add(country)
        return {m: next(iter(cs)) for m, cs in countries.items() if len(cs) == 1}

    @lru_cache(maxsize=1024)  # noqa: B019 - one instance per processor, kept for its lifetime
    def from_name(self, zone: str) -> str | None:
        country = self._zones.get(zone)
        if country is not None:
            return country
        data = _zone_bytes(zone)
        if data is None:
            return None
        return self._by_content.get(hashlib.sha1(data, usedforsecurity=False).digest())

    def from_offset(self, minutes: str) -> str | None:
        try:
            value = int(float(minutes))
        except (ValueError, OverflowError):  # "soon", "nan", "inf"
            return None
        return self._by_offset.get(value)
