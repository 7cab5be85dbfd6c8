"""The scrub processor: masks personal data and secrets before anything is stored.

Every string a browser can fill is scanned: record, resource, scope, span event and link
attributes (nested arrays and kvlists too), log bodies, span names and status messages,
metric data point and exemplar attributes. Detectors run one after another, each gated by
a cheap substring check so an ordinary value costs a few `in` tests; results are cached
because most values repeat (routes, URLs, user agents).

Fails closed: a record (span, log record, metric) whose scrubbing raises is dropped, as is
a whole resource or scope whose attributes cannot be scrubbed; drops are counted.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from vitalsight.processors.otlp_records import get_str
from vitalsight.processors.request_view import Keys, PlanCache, RequestView, ResourceView, Shape
from vitalsight.processors.scrub.config import KINDS, REPLACEMENTS, ScrubConfig
from vitalsight.receivers.signals import METRICS, TRACES, Signal

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
SECRET_KEY = "secret_key"
URL_QUERY = "url_query"
_ORIGIN = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#@]*@)?([^/?#]*)(.*)$", re.DOTALL)
DENIED = "denied"
ERROR = "error"

# Attribute key policies (`_QUERY - _URL` is `_cached_url`'s query_only flag).
_PLAIN, _NEVER, _SECRET, _URL, _QUERY = range(5)
_MAX_KEYS_CACHED = 10_000
_NOTHING_TO_SCRUB = frozenset({"double_value", "bool_value", None})  # kinds of AnyValue
_CARD_MIN = 10**12  # integers below hold no card number (see `_card_number`)

_BEARER = re.compile(r"(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=\-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")
_API_KEY = re.compile(
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|glpat-[A-Za-z0-9_\-]{20,})"
)
_API_KEY_HINTS = ("sk_", "pk_", "rk_", "gh", "AKIA", "xox", "AIza", "glpat-")
# The lookbehind starts a match only at the start of a run, so a long run of word
# characters before an "@" costs linear, not quadratic, time.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}(?:@|%40)"
    r"[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,}"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])"
)
_CARD = re.compile(r"(?<![\w\-])(?<!\d\.)[2-6]\d{3}(?:[ \-]?\d){9,15}(?![\w\-]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){1,6}(?!\w)"
    r"|(?<![\w+(])\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?!\w)"
)
_SEPARATORS = re.compile(r"[ \-]")
Repl = str | Callable[[re.Match[str]], str]
Gate = Callable[[str], bool]
_DIGITS_RUN = re.compile(r"\d{3}")
_RETINA = re.compile(r"\d(?:\.\d+)?x\.")
_FILE_EXTENSIONS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "avif",
        "svg",
        "ico",
        "bmp",
        "js",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "jsx",
        "css",
        "map",
        "json",
        "html",
        "htm",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "mp4",
        "webm",
        "mp3",
        "wasm",
        "txt",
        "xml",
        "pdf",
    ]
)
_DOTTED_DIGITS = re.compile(r"\d\.\d")


def luhn(digits: str) -> bool:
    """The Luhn check every payment card number passes (and 90% of other numbers fail)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN without spaces."""
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _longest_valid_prefix(text: str, valid: Callable[[str], bool]) -> int:
    """Length of the longest prefix of `text`, ending at a group boundary (space or dash),
    whose digits/characters pass `valid`; 0 if none. Handles a greedy match that ran into
    a following number ("4111 1111 1111 1111 2025")."""
    ends = [m.start() for m in _SEPARATORS.finditer(text)] + [len(text)]
    for end in reversed(ends):
        if valid(_SEPARATORS.sub("", text[:end])):
            return end
    return 0


def _card_ok(compact: str) -> bool:
    return 13 <= len(compact) <= 19 and compact[0] in "23456" and luhn(compact)


@dataclass
class ScrubStats:
    """What the processor did since it started; safe to read from another thread.

    `redactions` counts masked values by kind (the `KINDS`, `secret_key`, `url_query`
    and custom pattern names); `dropped` counts dropped records by (signal, reason),
    reason `denied` (url_filters) or `error` (failed closed).
    """

    redactions: Counter[str] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, signal: str, redactions: Mapping[str, int], dropped: Mapping[str, int]) -> None:
        with self._lock:
            self.redactions.update(redactions)
            for reason, count in dropped.items():
                self.dropped[(signal, reason)] += count


class _Filters:
    def __init__(self, allow: list[re.Pattern[str]], deny: list[re.Pattern[str]]) -> None:
        self.allow = allow
        self.deny = deny

    def denies(self, url: str) -> bool:
        if any(p.search(url) for p in self.deny):
            return True
        return bool(self.allow) and not any(p.search(url) for p in self.allow)


class ScrubProcessor:
    """Masks PII and secrets in OTLP logs, traces and metrics, in place."""

    def __init__(
        self, config: ScrubConfig | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.config = config = config or ScrubConfig()
        self.stats = ScrubStats()
        enabled = set(config.detect)
        self._kinds = tuple(kind for kind in KINDS if kind in enabled)
        self._patterns = [(p.name, re.compile(p.regex), p.replacement) for p in config.patterns]
        params = "|".join(
            sorted((re.escape(p) for p in config.secret_params), key=len, reverse=True)
        )
        self._param_eq = re.compile(rf"(?i)(?<![A-Za-z0-9])({params})=(?!\[)[^&#\s\"'<>;,]+")
        self._param_json = re.compile(rf'(?i)"({params})"(\s*:\s*)"(?!\[)[^"]*"')
        secret = "|".join(
            sorted(
                (re.escape(k.lower().replace("-", "_")) for k in config.secret_keys),
                key=len,
                reverse=True,
            )
        )
        # An empty list must match nothing (an empty alternation would match everything).
        self._secret_key = re.compile(rf"(?:^|[._])(?:{secret})(?:$|[._])" if secret else r"(?!)")
        self._never = frozenset(k for k in config.never_touch if not k.endswith(".*"))
        self._never_prefixes = tuple(k[:-1] for k in config.never_touch if k.endswith(".*"))
        self._url_keys = frozenset(config.url_attributes)
        self._query_keys = frozenset(config.query_attributes)
        self._allowed_params = frozenset(p.lower() for p in config.allowed_query_params)
        self._filter_keys = tuple(config.filter_attributes)
        self._filters = {
            app: _Filters([re.compile(p) for p in f.allow], [re.compile(p) for p in f.deny])
            for app, f in config.url_filters.items()
        }
        self._detectors = self._build_detectors()
        self._policies: dict[str, int] = {}
        self._plans = PlanCache(self._plan).get
        self._cache_size = config.cache_size
        self._text_cache: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._url_cache: dict[tuple[int, str], tuple[str, tuple[str, ...]]] = {}
        self._prom_redactions: PromCounter | None = None
        self._prom_dropped: PromCounter | None = None
        if registry is not None:
            self._prom_redactions = PromCounter(
                "vitalsight_scrub_redactions",
                "Values masked by the scrub processor, by kind",
                ["kind"],
                registry=registry,
            )
            self._prom_dropped = PromCounter(
                "vitalsight_scrub_dropped",
                "Records dropped by the scrub processor, by signal and reason",
                ["signal", "reason"],
                registry=registry,
            )

    # ---- the Processor protocol -------------------------------------------------------

    def process(self, signal: Signal, request: Any) -> Any:
        if RequestView.supports(signal):
            self.process_view(RequestView(signal, request))
        elif signal is METRICS:
            counts: Counter[str] = Counter()
            dropped: Counter[str] = Counter()
            self._process_metrics(request, counts, dropped)
            if counts or dropped:
                self._publish(signal.name, counts, dropped)
        return request

    def process_view(self, view: RequestView) -> None:
        """Scrub a logs or traces request read by the pipeline (see request_view)."""
        counts: Counter[str] = Counter()
        dropped: Counter[str] = Counter()
        self._process_records(view, counts, dropped)
        if counts or dropped:
            self._publish(view.signal.name, counts, dropped)

    def _publish(self, signal: str, counts: Counter[str], dropped: Counter[str]) -> None:
        self.stats.add(signal, counts, dropped)
        if self._prom_redactions is not None and self._prom_dropped is not None:
            for kind, count in counts.items():
                self._prom_redactions.labels(kind).inc(count)
            for reason, count in dropped.items():
                self._prom_dropped.labels(signal, reason).inc(count)

    # ---- walking the requests -----------------------------------------------------------

    def _process_records(
        self, view: RequestView, counts: Counter[str], dropped: Counter[str]
    ) -> None:
        spans = view.signal is TRACES
        what = "spans" if spans else "records"
        bad_resources = []
        for r_index, resource in enumerate(view.resources):
            filters = self._filters_for(resource)
            try:
                self._scrub_shaped(resource.attributes, resource.shape, resource.texts, counts)
            except Exception:
                logger.exception("scrub failed on a resource; dropping its %s", what)
                dropped[ERROR] += resource.record_count()
                bad_resources.append(r_index)
                continue
            bad_scopes = []
            for s_index, scope in enumerate(resource.scopes):
                try:
                    self.scrub_attributes(scope.scope.attributes, counts)
                except Exception:
                    logger.exception("scrub failed on a scope; dropping its %s", what)
                    dropped[ERROR] += len(scope)
                    bad_scopes.append(s_index)
                    continue
                bad_records = []
                for index, record in enumerate(scope.records):
                    try:
                        shape = scope.shapes[index]
                        attributes = scope.attributes[index]
                        texts = scope.texts[index]
                        if filters and self._denied(filters, attributes, shape, resource):
                            dropped[DENIED] += 1
                            bad_records.append(index)
                            continue
                        if spans:
                            self._scrub_span(record, attributes, shape, texts, counts)
                        else:
                            self._scrub_shaped(attributes, shape, texts, counts)
                            if record.HasField("body"):
                                self.scrub_value(record.body, counts, _PLAIN)
                    except Exception:
                        logger.exception(
                            "scrub failed on a %s; dropping it", "span" if spans else "log record"
                        )
                        dropped[ERROR] += 1
                        bad_records.append(index)
                scope.delete(bad_records)
            view.delete_scopes(resource, bad_scopes)
        view.delete_resources(bad_resources)

    def _scrub_span(
        self, span: Any, attributes: Any, shape: Shape, texts: list[str], counts: Counter[str]
    ) -> None:
        name = span.name
        new = self.scrub_text(name, counts)
        if new != name:
            span.name = new
        self._scrub_shaped(attributes, shape, texts, counts)
        if span.status.message:
            span.status.message = self.scrub_text(span.status.message, counts)
        for span_event in span.events:
            self.scrub_attributes(span_event.attributes, counts)
        for link in span.links:
            self.scrub_attributes(link.attributes, counts)

    def _process_metrics(self, request: Any, counts: Counter[str], dropped: Counter[str]) -> None:
        bad_resources = []
        for r_index, resource_metrics in enumerate(request.resource_metrics):
            try:
                self.scrub_attributes(resource_metrics.resource.attributes, counts)
                for scope_metrics in resource_metrics.scope_metrics:
                    self.scrub_attributes(scope_metrics.scope.attributes, counts)
            except Exception:
                logger.exception("scrub failed on a resource; dropping its metrics")
                dropped[ERROR] += sum(len(s.metrics) for s in resource_metrics.scope_metrics)
                bad_resources.append(r_index)
                continue
            for scope_metrics in resource_metrics.scope_metrics:
                bad_metrics = []
                for index, metric in enumerate(scope_metrics.metrics):
                    try:
                        kind = metric.WhichOneof("data")
                        if kind is None:
                            continue
                        for point in getattr(metric, kind).data_points:
                            self.scrub_attributes(point.attributes, counts)
                            for exemplar in getattr(point, "exemplars", ()):
                                self.scrub_attributes(exemplar.filtered_attributes, counts)
                    except Exception:
                        logger.exception("scrub failed on a metric; dropping it")
                        dropped[ERROR] += 1
                        bad_metrics.append(index)
                _delete(scope_metrics.metrics, bad_metrics)
        _delete(request.resource_metrics, bad_resources)

    # ---- url filters ------------------------------------------------------------------

    def _filters_for(self, resource: ResourceView) -> list[_Filters]:
        if not self._filters:
            return []
        app = resource.get_str("service.name") or ""
        return [f for key in ("*", app) if (f := self._filters.get(key)) is not None]

    def _denied(
        self, filters: list[_Filters], attributes: Any, shape: Shape, resource: ResourceView
    ) -> bool:
        for key in self._filter_keys:
            url = get_str(attributes, key) if key in shape else None
            if url is None:
                url = resource.get_str(key)
            if url is not None and any(f.denies(url) for f in filters):
                return True
        return False

    # ---- attributes and values ----------------------------------------------------------

    def _policy(self, key: str) -> int:
        policy = self._policies.get(key)
        if policy is None:
            if key in self._never or key.startswith(self._never_prefixes or ("\0",)):
                policy = _NEVER
            elif self._secret_key.search(key.lower().replace("-", "_")):
                policy = _SECRET
            elif key in self._url_keys:
                policy = _URL
            elif key in self._query_keys:
                policy = _QUERY
            else:
                policy = _PLAIN
            if len(self._policies) < _MAX_KEYS_CACHED:
                self._policies[key] = policy
        return policy

    def _plan(self, shape: Keys) -> tuple[tuple[int, int], ...]:
        """(position, policy) of every key of `shape` that is not `never_touch`."""
        return tuple(
            (index, policy)
            for index, key in enumerate(shape)
            if (policy := self._policy(key)) != _NEVER
        )

    def _scrub_shaped(
        self, attributes: Any, shape: Shape, texts: list[str], counts: Counter[str]
    ) -> None:
        """`scrub_attributes` for the pipeline's walked records: keys and string values
        were read once (`texts`), so only values that are not strings are read here, and
        every value changed is written to `texts` too."""
        if len(attributes) != len(shape):  # never expected; scrub every attribute then
            self.scrub_attributes(attributes, counts)
            return
        seen = self._text_cache
        urls = self._url_cache
        # The hot loop of the processor: an already-seen string (most values: routes, URLs,
        # device types, user agents) costs one dict lookup; a number, two calls.
        for index, policy in self._plans(shape):
            # A non-empty string_value means the oneof holds a string: no WhichOneof call.
            text = texts[index]
            if text:
                if policy == _PLAIN:
                    hit = seen.get(text)
                elif policy == _SECRET:
                    hit = None
                else:  # _URL or _QUERY: the key `_cached_url` uses
                    hit = urls.get((policy - _URL, text))
                if hit is not None:
                    if hit[1]:
                        counts.update(hit[1])
                    if hit[0] != text:
                        attributes[index].value.string_value = texts[index] = hit[0]
                    continue
            elif policy != _SECRET and _nothing_to_scrub(attributes[index].value):
                continue
            value = attributes[index].value
            self.scrub_value(value, counts, policy)
            texts[index] = value.string_value

    def scrub_attributes(self, attributes: Iterable[Any], counts: Counter[str]) -> None:
        """Scrub a repeated KeyValue (attributes or a kvlist) in place."""
        # The hot loop of the processor: a known key and an already-seen plain string
        # (most values: routes, device types, user agents) cost two dict lookups.
        policies = self._policies
        cache = self._text_cache
        for kv in attributes:
            policy = policies.get(kv.key)
            if policy is None:
                policy = self._policy(kv.key)
            if policy == _NEVER:
                continue
            value = kv.value
            if policy == _SECRET:
                self.scrub_value(value, counts, policy)
                continue
            # A non-empty string_value means the oneof holds a string: no WhichOneof call.
            text = value.string_value
            if not text:
                if value.WhichOneof("value") in _NOTHING_TO_SCRUB:
                    continue  # numbers and booleans (an int card number is checked below)
            elif policy == _PLAIN:
                hit = cache.get(text)
                if hit is not None:
                    if hit[1]:
                        counts.update(hit[1])
                        value.string_value = hit[0]
                    continue
            self.scrub_value(value, counts, policy)

    def scrub_value(self, value: Any, counts: Counter[str], policy: int) -> None:
        """Scrub one AnyValue in place, as the attribute policy says."""
        kind = value.WhichOneof("value")
        if kind is None:
            return
        if policy == _SECRET:
            if kind != "string_value" or value.string_value not in ("", REDACTED):
                value.string_value = REDACTED
                counts[SECRET_KEY] += 1
            return
        if kind == "string_value":
            text = value.string_value
            new = self._scrub_string(text, counts, policy)
            if new != text:
                value.string_value = new
        elif kind == "int_value":
            if self._card_number(value.int_value):
                value.string_value = REPLACEMENTS["card"]
                counts["card"] += 1
        elif kind == "array_value":
            for item in value.array_value.values:
                self.scrub_value(item, counts, policy)
        elif kind == "kvlist_value":
            self.scrub_attributes(value.kvlist_value.values, counts)
        elif kind == "bytes_value":
            self._scrub_bytes(value, counts)

    def _scrub_string(self, text: str, counts: Counter[str], policy: int) -> str:
        if policy == _URL:
            return self._cached_url(text, counts, query_only=False)
        if policy == _QUERY:
            return self._cached_url(text, counts, query_only=True)
        return self.scrub_text(text, counts)

    def _card_number(self, number: int) -> bool:
        # Card numbers sent as integers; epoch timestamps start with 1 and never match.
        return (
            10**12 <= abs(number) < 10**19 and "card" in self._kinds and _card_ok(str(abs(number)))
        )

    def _scrub_bytes(self, value: Any, counts: Counter[str]) -> None:
        try:
            text = value.bytes_value.decode("utf-8")
        except UnicodeDecodeError:
            # Fail closed: bytes we cannot read could hold anything.
            value.bytes_value = REDACTED.encode()
            counts[SECRET_KEY] += 1
            return
        new = self.scrub_text(text, counts)
        if new != text:
            value.bytes_value = new.encode("utf-8")

    # ---- strings ------------------------------------------------------------------------

    def scrub_url(self, url: str, counts: Counter[str]) -> str:
        """Cut the query (keeping allow-listed parameters) and fragment, then scrub text."""
        return self._cached_url(url, counts, query_only=False)

    def _cached_url(self, text: str, counts: Counter[str], *, query_only: bool) -> str:
        key = (int(query_only), text)
        hit = self._url_cache.get(key)
        if hit is None:
            found: Counter[str] = Counter()
            hit = (self._scrub_url(text, found, query_only), tuple(found.elements()))
            self._remember(self._url_cache, key, hit)
        if hit[1]:
            counts.update(hit[1])
        return hit[0]

    def _scrub_url(self, url: str, found: Counter[str], query_only: bool) -> str:
        if query_only:
            base, query, fragment = "", url, ""
        else:
            hash_at = url.find("#")
            fragment = url[hash_at:] if hash_at >= 0 else ""
            rest = url[:hash_at] if hash_at >= 0 else url
            base, _, query = rest.partition("?")
        if query or fragment:
            params = [p for p in query.split("&") if p]
            kept = [p for p in params if _param_name(p) in self._allowed_params]
            if len(kept) != len(params) or fragment:
                found[URL_QUERY] += 1
            joined = "&".join(kept)
            url = joined if query_only else base + ("?" + joined if joined else "")
        if query_only:
            return self._scrub_text(url, found)
        # The host names a server, not a person (an IP there is a server's): keep it, so
        # requests still group by server; credentials before the host are secrets.
        origin = _ORIGIN.match(url)
        if origin is None:
            return self._scrub_text(url, found)
        scheme, userinfo, host, rest = origin.groups()
        if userinfo:
            found["secret_key"] += 1
            userinfo = "[redacted]@"
        return f"{scheme}{userinfo or ''}{host}{self._scrub_text(rest, found)}"

    def scrub_text(self, text: str, counts: Counter[str]) -> str:
        """Mask every detected item in free text (messages, stacks, names, bodies)."""
        if len(text) < 3:
            return text
        hit = self._text_cache.get(text)
        if hit is None:
            found: Counter[str] = Counter()
            hit = (self._scrub_text(text, found), tuple(found.elements()))
            self._remember(self._text_cache, text, hit)
        if hit[1]:
            counts.update(hit[1])
        return hit[0]

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        if self._cache_size:
            if len(cache) >= self._cache_size:
                cache.clear()  # cheap and good enough: values repeat within minutes
            cache[key] = value

    def _scrub_text(self, text: str, found: Counter[str]) -> str:
        for kind, gate, pattern, repl in self._detectors:
            if gate(text):
                text = _count_sub(pattern, repl, text, found, kind)
        return text

    def _build_detectors(self) -> list[tuple[str, Gate, re.Pattern[str], Repl]]:
        """(kind, cheap gate, regex, replacement) in `KINDS` order, then custom patterns.

        The gate is a substring test that is False for nearly every ordinary value, so a
        route or a user agent costs a few `in` checks, not nine regex scans.
        """
        table: dict[str, list[tuple[Gate, re.Pattern[str], Repl]]] = {
            "bearer": [(_has_scheme, _BEARER, _keep_scheme)],
            "jwt": [(lambda t: "eyJ" in t, _JWT, REPLACEMENTS["jwt"])],
            "api_key": [(lambda t: any(h in t for h in _API_KEY_HINTS), _API_KEY, REDACTED)],
            "secret_param": [
                (lambda t: "=" in t, self._param_eq, _param_eq_repl),
                (lambda t: '"' in t, self._param_json, _param_json_repl),
            ]
            if self.config.secret_params
            else [],
            "email": [(lambda t: "@" in t or "%40" in t, _EMAIL, _email_repl)],
            "iban": [(_has_digit_run, _IBAN, _iban_repl)],
            "ip": [
                (lambda t: t.count(":") >= 2, _IPV6, _ipv6_repl),
                (lambda t: _DOTTED_DIGITS.search(t) is not None, _IPV4, _ipv4_repl),
            ],
            "card": [(_has_digit_run, _CARD, _card_repl)],
            "phone": [(_has_digit_run, _PHONE, _phone_repl)],
        }
        detectors = [
            (kind, gate, pattern, repl)
            for kind in self._kinds
            for gate, pattern, repl in table[kind]
        ]
        for name, pattern, replacement in self._patterns:
            detectors.append((name, _always, pattern, replacement))
        return detectors


def _nothing_to_scrub(value: Any) -> bool:
    """A number or boolean that cannot be a card number (sizes, timings); checked for
    values that are not strings."""
    kind = value.WhichOneof("value")
    if kind in _NOTHING_TO_SCRUB:
        return True
    return kind == "int_value" and -_CARD_MIN < int(value.int_value) < _CARD_MIN


def _has_digit_run(text: str) -> bool:
    return _DIGITS_RUN.search(text) is not None


def _has_scheme(text: str) -> bool:
    lowered = text.lower()
    return "bearer" in lowered or "basic" in lowered or "digest" in lowered


def _always(text: str) -> bool:
    return True


# ---- replacement callbacks: return the match unchanged when validation fails ---------------


def _count_sub(
    pattern: re.Pattern[str], repl: Repl, text: str, found: Counter[str], kind: str
) -> str:
    if isinstance(repl, str):
        new, n = pattern.subn(repl, text)
        if n:
            found[kind] += n
        return new
    before = text
    replaced = 0

    def counted(match: re.Match[str]) -> str:
        nonlocal replaced
        out = repl(match)
        if out != match.group(0):
            replaced += 1
        return out

    text = pattern.sub(counted, before)
    if replaced:
        found[kind] += replaced
    return text


def _keep_scheme(match: re.Match[str]) -> str:
    scheme = match.group(1)
    token = match.group(0)[len(scheme) :].lstrip()
    # "basic understanding" is prose; a Basic/Digest credential has digits, '+/=' or length.
    if scheme.lower() != "bearer" and len(token) < 20 and token.isalpha():
        return match.group(0)
    return f"{scheme} {REDACTED}"


def _param_eq_repl(match: re.Match[str]) -> str:
    return f"{match.group(1)}={REDACTED}"


def _param_json_repl(match: re.Match[str]) -> str:
    return f'"{match.group(1)}"{match.group(2)}"{REDACTED}"'


def _email_repl(match: re.Match[str]) -> str:
    text = match.group(0)
    domain = text.rpartition("@")[2] if "@" in text else text.rpartition("%40")[2]
    # "logo@2x.png", "icon@3x.webp": retina asset names, not addresses. No real TLD is
    # a file extension, so a "domain" ending in one is a file name.
    if domain.rpartition(".")[2].lower() in _FILE_EXTENSIONS or _RETINA.match(domain):
        return text
    return REPLACEMENTS["email"]


def _iban_repl(match: re.Match[str]) -> str:
    text = match.group(0)
    end = _longest_valid_prefix(text, iban_valid)
    return REPLACEMENTS["iban"] + text[end:] if end else text


def _card_repl(match: re.Match[str]) -> str:
    text = match.group(0)
    end = _longest_valid_prefix(text, _card_ok)
    return REPLACEMENTS["card"] + text[end:] if end else text


def _ipv4_repl(match: re.Match[str]) -> str:
    text = match.string
    start = match.start()
    # A product token in a user agent ("Chrome/120.0.0.0") is a version, not an address;
    # "http://10.0.0.1" (preceded by "//") is an address.
    if start >= 2 and text[start - 1] == "/" and text[start - 2] != "/":
        return match.group(0)
    return REPLACEMENTS["ip"]


def _ipv6_repl(match: re.Match[str]) -> str:
    candidate = match.group(0)
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return candidate  # "12:34:56" and other colon-separated non-addresses
    return REPLACEMENTS["ip"]


def _phone_repl(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return REPLACEMENTS["phone"] if 8 <= digits <= 15 else match.group(0)


def _param_name(param: str) -> str:
    return unquote_plus(param.partition("=")[0]).lower()


def _delete(repeated: Any, indexes: list[int]) -> None:
    for index in reversed(indexes):
        del repeated[index]
