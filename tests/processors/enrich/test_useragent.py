from __future__ import annotations

import pytest
import ua_parser

from vitalsight.processors.enrich import useragent

# Current user agents as the browsers send them (Chrome's reduced UA freezes Android at 10,
# the model at "K", and Windows at "NT 10.0" for Windows 10 and 11).
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S928B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
CHROME_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

EXPECTED = [
    (CHROME_WINDOWS, ("Chrome", "131.0", "Windows", "10", "desktop")),
    (CHROME_ANDROID, ("Chrome Mobile", "131.0", "Android", "10", "mobile")),
    (CHROME_ANDROID_TABLET, ("Chrome", "131.0", "Android", "10", "tablet")),
    (SAFARI_IPHONE, ("Mobile Safari", "17.4", "iOS", "17.4", "mobile")),
    (SAFARI_IPAD, ("Mobile Safari", "17.4", "iOS", "17.4", "tablet")),
    (SAFARI_MAC, ("Safari", "17.4", "Mac OS X", "10.15", "desktop")),
    (FIREFOX_WINDOWS, ("Firefox", "133.0", "Windows", "10", "desktop")),
    (FIREFOX_LINUX, ("Firefox", "133.0", "Linux", None, "desktop")),
    (FIREFOX_ANDROID, ("Firefox Mobile", "133.0", "Android", "14", "mobile")),
    (SAMSUNG_PHONE, ("Samsung Internet", "26.0", "Android", "14", "mobile")),
    (SAMSUNG_TABLET, ("Samsung Internet", "25.0", "Android", "13", "tablet")),
    (EDGE_WINDOWS, ("Edge", "131.0", "Windows", "10", "desktop")),
    (CHROME_IOS, ("Chrome Mobile iOS", "131.0", "iOS", "17.4", "mobile")),
    (GOOGLEBOT, ("Googlebot", "2.1", None, None, None)),
]


@pytest.mark.parametrize(("ua", "expected"), EXPECTED)
def test_browser_os_and_device_of_real_user_agents(
    ua: str, expected: tuple[str | None, ...]
) -> None:
    info = dict(useragent.parse(ua))
    assert tuple(info.get(key) for key in useragent.UA_KEYS) == expected


def test_unknown_agent_gives_nothing() -> None:
    assert useragent.parse("") == ()
    assert useragent.parse("definitely not a browser") == ()


@pytest.mark.parametrize(
    ("kind", "mobile", "expected"),
    [
        ("desktop", "true", "mobile"),  # a reduced UA can look like a desktop
        ("mobile", "false", "desktop"),
        ("tablet", "false", "tablet"),  # Client Hints' mobile is false on tablets
        (None, "false", "desktop"),
        ("tablet", None, "tablet"),
        (None, "maybe", None),
    ],
)
def test_client_hints_mobile_refines_device_type(
    kind: str | None, mobile: str | None, expected: str | None
) -> None:
    assert useragent.with_mobile_hint(kind, mobile) == expected


def test_cache_parses_each_agent_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = ua_parser.parse

    def counting(ua: str) -> ua_parser.Result:
        calls.append(ua)
        return real(ua)

    monkeypatch.setattr(ua_parser, "parse", counting)
    parse = useragent.cached_parser(2)
    for ua in (CHROME_WINDOWS, CHROME_WINDOWS, SAFARI_IPHONE, CHROME_WINDOWS):
        assert parse(ua)
    assert calls == [CHROME_WINDOWS, SAFARI_IPHONE]
    parse(FIREFOX_LINUX)  # evicts the least recently used: SAFARI_IPHONE
    parse(SAFARI_IPHONE)
    assert calls == [CHROME_WINDOWS, SAFARI_IPHONE, FIREFOX_LINUX, SAFARI_IPHONE]


def test_cache_size_zero_parses_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = ua_parser.parse

    def counting(ua: str) -> ua_parser.Result:
        calls.append(ua)
        return real(ua)

    monkeypatch.setattr(ua_parser, "parse", counting)
    parse = useragent.cached_parser(0)
    parse(EDGE_WINDOWS)
    parse(EDGE_WINDOWS)
    assert len(calls) == 2
