from __future__ import annotations

import pytest

from vitalsight.processors.enrich.geo import IpCountry, TimezoneCountry


@pytest.fixture(scope="session")
def ip_country() -> IpCountry:
    """The bundled database, loaded once (~0.1 s) and shared."""
    return IpCountry(cache_size=1024)


@pytest.fixture(scope="session")
def timezones() -> TimezoneCountry:
    return TimezoneCountry(year=2026)
