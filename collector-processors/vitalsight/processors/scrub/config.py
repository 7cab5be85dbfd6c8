"""Typed configuration of the scrub processor, with every default in one place.

Each field says what it means, its default, the values it allows, and whether it fails
open (data is kept) or closed (data is masked or dropped). Invalid configurations are
refused at start-up with one `scrub: <field>: <message>` line per problem.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

#: Built-in detectors, in the order they run over a string (see processor.py).
KINDS: tuple[str, ...] = (
    "bearer",
    "jwt",
    "api_key",
    "secret_param",
    "email",
    "iban",
    "ip",
    "card",
    "phone",
)

#: The token each detector writes in place of what it found.
REPLACEMENTS: dict[str, str] = {
    "bearer": "[redacted]",
    "jwt": "[jwt]",
    "api_key": "[redacted]",
    "secret_param": "[redacted]",
    "email": "[email]",
    "iban": "[iban]",
    "ip": "[ip]",
    "card": "[card]",
    "phone": "[phone]",
    "secret_key": "[redacted]",
}

#: Attribute keys whose whole value is replaced, whatever it holds. An entry matches a key
#: when it is one of the key's `.`/`_`/`-` separated parts (so `password` matches
#: `user.password` and `login_password`, `api_key` matches `x-api-key`), case-insensitive.
DEFAULT_SECRET_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "authorization",
    "proxy_authorization",
    "cookie",
    "set_cookie",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "private_key",
    "credential",
    "credentials",
    "otp",
    "cvv",
    "cvc",
)

#: Query string (and `name=value` / `"name": "value"`) parameters whose value is masked
#: wherever it appears: in URLs, messages, stacks and bodies. Case-insensitive.
DEFAULT_SECRET_PARAMS: tuple[str, ...] = (
    "token",
    "key",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "session",
    "sessionid",
    "session_id",
    "sid",
    "auth",
    "code",
    "signature",
    "sig",
    "jwt",
    "otp",
)

#: Attributes holding a full URL: the query string is cut (except allow-listed
#: parameters) and the fragment dropped, then the rest is scrubbed as text.
DEFAULT_URL_ATTRIBUTES: tuple[str, ...] = (
    "url.full",
    "http.url",
    "http.target",
    "url.original",
    "browser.page.url",
    "browser.page.referrer",
    "browser.web_vital.attribution.url",
    "browser.web_vital.attribution.script_url",
    "browser.long_task.script_url",
)

#: Attributes holding a bare query string or fragment (`a=1&b=2`): only allow-listed
#: parameters are kept.
DEFAULT_QUERY_ATTRIBUTES: tuple[str, ...] = ("url.query", "url.fragment")

#: Attributes never read or changed: the ids the schema joins on and the values the facts
#: are computed from, which hold no personal data by construction. An entry ending in `.*`
#: is a prefix. Numbers (doubles, booleans, small integers) are never text-scanned anyway.
DEFAULT_NEVER_TOUCH: tuple[str, ...] = (
    "session.id",
    "browser.page.view_id",
    "trace_id",
    "span_id",
    "trace.id",
    "span.id",
    "browser.web_vital.id",
    "browser.web_vital.value",
    "browser.web_vital.delta",
    "vitalsight.sample_rate",
    "vitalsight.error.fingerprint",
    "service.name",
    "service.version",
    # Four-part browser versions ("126.0.0.0") look like IPv4 addresses.
    "user_agent.version",
    "user_agent.os.version",
    "os.version",
    "browser.version",
    "deployment.environment.name",
    "deployment.environment",
    "telemetry.sdk.*",
    # These name the server a request went to, not a person (an IP there is a server's).
    "server.address",
    "server.port",
    "url.domain",
)

#: Attributes whose URL is checked against `url_filters` (record first, then resource).
DEFAULT_FILTER_ATTRIBUTES: tuple[str, ...] = ("browser.page.url", "url.full", "http.url")

DEFAULT_CACHE_SIZE = 8192

_PARAM_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")
_PATTERN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ALL_APPS = "*"


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression '{pattern}': {exc}") from None


class PatternConfig(BaseModel):
    """A user-defined detector: every match of `regex` becomes `replacement`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Name counted in the redaction stats; lowercase letters, digits and `_`, not a
    #: built-in kind. Required.
    name: str
    #: Python regular expression; must compile and must not match the empty string. Required.
    regex: str
    #: Text written in place of each match. Default `[redacted]`.
    replacement: str = "[redacted]"

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _PATTERN_NAME.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits and '_'")
        if value in REPLACEMENTS:
            raise ValueError(f"{value!r} is a built-in kind; choose another name")
        return value

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, value: str) -> str:
        if _compile(value).fullmatch(""):
            raise ValueError(f"'{value}' matches the empty string")
        return value


class UrlFilter(BaseModel):
    """Allow/deny regexes (searched, not anchored) over an app's page and request URLs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: If not empty, a record with a filtered URL that matches none of these is dropped.
    #: Default empty (everything allowed).
    allow: list[str] = Field(default_factory=list)
    #: A record with a filtered URL matching any of these is dropped. Default empty.
    deny: list[str] = Field(default_factory=list)

    @field_validator("allow", "deny")
    @classmethod
    def _check_regexes(cls, values: list[str]) -> list[str]:
        for value in values:
            _compile(value)
        return values


def _names(values: list[str], what: str) -> list[str]:
    for value in values:
        if not value.strip():
            raise ValueError(f"{what} must not be empty")
    return values


class ScrubConfig(BaseModel):
    """Configuration of the scrub processor. Every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Built-in detectors to run over every string. Default: all of `KINDS`. Allowed: any
    #: subset of `KINDS`. Fails open for a kind left out (it is not masked).
    detect: list[str] = Field(default_factory=lambda: list(KINDS))
    #: Attribute keys (also keys inside kvlist values and bodies) whose whole value becomes
    #: `[redacted]`. Default `DEFAULT_SECRET_KEYS`; matched on key parts, case-insensitive.
    secret_keys: list[str] = Field(default_factory=lambda: list(DEFAULT_SECRET_KEYS))
    #: Parameter names whose values are masked in any text (`name=value`, `"name": "..."`).
    #: Default `DEFAULT_SECRET_PARAMS`. Case-insensitive.
    secret_params: list[str] = Field(default_factory=lambda: list(DEFAULT_SECRET_PARAMS))
    #: Attributes holding full URLs (query cut, fragment dropped). Default
    #: `DEFAULT_URL_ATTRIBUTES`. Fails closed: every parameter not allow-listed is removed.
    url_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_URL_ATTRIBUTES))
    #: Attributes holding a bare query string or fragment. Default `DEFAULT_QUERY_ATTRIBUTES`.
    query_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_QUERY_ATTRIBUTES))
    #: Query parameters kept in URL attributes (their values are still scrubbed as text).
    #: Default empty. Must not name a secret parameter.
    allowed_query_params: list[str] = Field(default_factory=list)
    #: Attribute keys never read or changed (`.*` suffix = prefix). Default
    #: `DEFAULT_NEVER_TOUCH`. Fails open for what you list here: keep it to ids.
    never_touch: list[str] = Field(default_factory=lambda: list(DEFAULT_NEVER_TOUCH))
    #: User-defined detectors, run after the built-in ones. Default none.
    patterns: list[PatternConfig] = Field(default_factory=list)
    #: Per-app (`service.name`) URL allow/deny lists; `*` applies to every app. A dropped
    #: record is counted (`dropped{reason="denied"}`). Default none (nothing dropped).
    url_filters: dict[str, UrlFilter] = Field(default_factory=dict)
    #: Attributes whose value `url_filters` checks. Default `DEFAULT_FILTER_ATTRIBUTES`.
    filter_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_FILTER_ATTRIBUTES))
    #: Scrubbed strings remembered (values repeat a lot: routes, URLs, user agents).
    #: Default 8192; 0 disables the cache. Allowed: 0 or more.
    cache_size: Annotated[int, Field(ge=0)] = DEFAULT_CACHE_SIZE

    @field_validator("detect")
    @classmethod
    def _check_detect(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in KINDS:
                allowed = ", ".join(sorted(KINDS))
                raise ValueError(f"unknown kind {value!r} (allowed: {allowed})")
        return values

    @field_validator("secret_keys", "url_attributes", "query_attributes", "never_touch")
    @classmethod
    def _check_keys(cls, values: list[str]) -> list[str]:
        return _names(values, "attribute keys")

    @field_validator("secret_params", "allowed_query_params")
    @classmethod
    def _check_params(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _PARAM_NAME.match(value):
                raise ValueError(
                    f"{value!r} is not a parameter name (letters, digits, '_', '-', '.', '[]')"
                )
        return values

    @field_validator("patterns")
    @classmethod
    def _check_unique_patterns(cls, values: list[PatternConfig]) -> list[PatternConfig]:
        seen: set[str] = set()
        for pattern in values:
            if pattern.name in seen:
                raise ValueError(f"pattern name {pattern.name!r} is used twice")
            seen.add(pattern.name)
        return values

    @field_validator("allowed_query_params")
    @classmethod
    def _check_allowed_not_secret(cls, values: list[str], info: ValidationInfo) -> list[str]:
        # secret_params is declared (so validated) before this field.
        secret = {name.lower() for name in info.data.get("secret_params", ())}
        for name in values:
            if name.lower() in secret:
                raise ValueError(
                    f"{name!r} is also in secret_params; a secret parameter cannot be allowed"
                )
        return values
