"""User agent → browser, OS and device type, with ua-parser (uap-core regexes) and an LRU cache."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import ua_parser

UA_NAME = "user_agent.name"
UA_VERSION = "user_agent.version"
OS_NAME = "user_agent.os.name"
OS_VERSION = "user_agent.os.version"
DEVICE_TYPE = "device.type"
UA_KEYS = (UA_NAME, UA_VERSION, OS_NAME, OS_VERSION, DEVICE_TYPE)

MOBILE = "mobile"
TABLET = "tablet"
DESKTOP = "desktop"

UserAgentInfo = tuple[tuple[str, str], ...]  # (attribute, value) pairs, only the known ones

# Device families / brands uap-core uses for tablets and phones.
_TABLET_DEVICE = re.compile(r"iPad|Tablet|Kindle|Nexus (?:7|9|10)|\bTab\b|Galaxy Tab", re.I)
_MOBILE_DEVICE = re.compile(r"iPhone|iPod|Smartphone|Feature Phone|Phone", re.I)
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "KaiOS", "BlackBerry OS", "Tizen"})
_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "OpenBSD"}
)
# Android browsers put "Mobile" in the UA on phones and leave it out on tablets
# (https://developer.chrome.com/docs/multidevice/user-agent/).
_MOBILE_TOKEN = re.compile(r"\bMobile\b|\bMobi\b")


def _version(major: str | None, minor: str | None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def device_type(ua: str, os_name: str | None, device_family: str, device_brand: str) -> str | None:
    """`mobile`, `tablet` or `desktop`, or None for bots and agents we cannot place."""
    kind: str | None = None
    if device_family == "Spider":
        kind = None
    elif _TABLET_DEVICE.search(device_family) or "Tablet" in device_brand:
        kind = TABLET
    elif os_name == "Android":
        kind = MOBILE if _MOBILE_TOKEN.search(ua) else TABLET
    elif _MOBILE_DEVICE.search(device_family) or os_name in _MOBILE_OS or _MOBILE_TOKEN.search(ua):
        kind = MOBILE
    elif os_name in _DESKTOP_OS or device_family == "Mac":
        kind = DESKTOP
    return kind


def parse(ua: str) -> UserAgentInfo:
    """The contract's attributes for one user agent string (uncached)."""
    result = ua_parser.parse(ua)
    pairs: list[tuple[str, str]] = []
    agent = result.user_agent
    if agent is not None and agent.family != "Other":
        pairs.append((UA_NAME, agent.family))
        version = _version(agent.major, agent.minor)
        if version:
            pairs.append((UA_VERSION, version))
    os = result.os
    os_name = os.family if os is not None and os.family != "Other" else None
    if os is not None and os_name:
        pairs.append((OS_NAME, os_name))
        version = _version(os.major, os.minor)
        if version:
            pairs.append((OS_VERSION, version))
    device = result.device
    kind = device_type(
        ua,
        os_name,
        device.family if device is not None else "",
        (device.brand or "") if device is not None else "",
    )
    if kind:
        pairs.append((DEVICE_TYPE, kind))
    return tuple(pairs)


def cached_parser(cache_size: int) -> Callable[[str], UserAgentInfo]:
    """`parse` behind an LRU cache of `cache_size` entries (0: no cache)."""
    if cache_size == 0:
        return parse
    return lru_cache(maxsize=cache_size)(parse)


def warm_up() -> None:
    """Compile the regexes now rather than on the first request."""
    _ = ua_parser.parser


def with_mobile_hint(kind: str | None, browser_mobile: str | None) -> str | None:
    """Refine a UA-derived device type with User-Agent Client Hints' `browser.mobile`.

    `mobile` is true on phones only, so true means `mobile`, and false means a tablet when
    the user agent says so, else `desktop` (Chrome's reduced UA hides phone models, the hint
    does not).
    """
    if browser_mobile == "true":
        return MOBILE
    if browser_mobile == "false":
        return TABLET if kind == TABLET else DESKTOP
    return kind
