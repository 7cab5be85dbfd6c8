from __future__ import annotations

import pytest

from vitalsight.processors.enrich.geo import IpCountry, TimezoneCountry

# Addresses of long-held institutional networks (not anycast: 8.8.8.8 or 1.1.1.1 are served
# from everywhere and the database's answer for them is a registration detail).
PUBLIC = [
    ("193.99.144.80", "DE"),  # heise online, Hannover (RIPE, since the 1990s)
    ("130.149.7.201", "DE"),  # TU Berlin, 130.149.0.0/16
    ("133.11.0.1", "JP"),  # University of Tokyo, 133.11.0.0/16
    ("147.46.10.1", "KR"),  # Seoul National University
    ("200.160.2.3", "BR"),  # NIC.br, São Paulo
    ("2001:638:200::1", "DE"),  # DFN, the German research network, 2001:638::/32
    ("2001:200::1", "JP"),  # WIDE project, 2001:200::/32
    ("::ffff:193.99.144.80", "DE"),  # IPv4-mapped, as a dual-stack socket reports it
    (" 133.11.0.1 ", "JP"),
    ("133.11.0.1, 10.0.0.2", "JP"),  # a copied X-Forwarded-For: the first hop
]


@pytest.mark.parametrize(("ip", "country"), PUBLIC)
def test_public_ip_to_country(ip_country: IpCountry, ip: str, country: str) -> None:
    assert ip_country.lookup(ip) == country


@pytest.mark.parametrize(
    "ip",
    [
        "192.168.1.20",
        "10.1.2.3",
        "172.16.5.4",
        "127.0.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "::1",
        "fe80::1",
        "fd00::1",
        "1.2.3",  # geoip2fast alone would answer CN
        "not an ip",
        "",
        "1" * 100_000,
    ],
)
def test_private_reserved_or_malformed_ip_has_no_country(ip_country: IpCountry, ip: str) -> None:
    assert ip_country.lookup(ip) is None


def test_database_source_is_reported(ip_country: IpCountry) -> None:
    assert ip_country.source.startswith("MAXMIND:GeoLite2-Country")


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Berlin", "DE"),
        ("America/Sao_Paulo", "BR"),
        ("Asia/Tokyo", "JP"),
        ("Europe/Vaduz", "LI"),  # its own zone.tab row, though its rules are Zurich's
        ("Asia/Calcutta", "IN"),  # old name Chrome still reports; a tzdata link
        ("Europe/Kiev", "UA"),
        ("US/Eastern", "US"),
        ("UTC", None),
        ("Etc/GMT+3", None),
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
        ("Europe/../../../etc/passwd", None),
        ("Europe/Berlin\x00", None),
    ],
)
def test_timezone_name_to_country(timezones: TimezoneCountry, zone: str, country: str) -> None:
    assert timezones.from_name(zone) == country


@pytest.mark.parametrize(
    ("offset", "country"),
    [
        ("345", "NP"),  # UTC+5:45: Nepal only
        ("270", "AF"),  # UTC+4:30: Afghanistan only
        ("60", None),  # UTC+1: dozens of countries
        ("-300", None),  # UTC-5
        ("330", None),  # UTC+5:30: India and Sri Lanka
        ("345.0", "NP"),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_timezone_offset_only_when_one_country_uses_it(
    timezones: TimezoneCountry, offset: str, country: str | None
) -> None:
    assert timezones.from_offset(offset) == country
