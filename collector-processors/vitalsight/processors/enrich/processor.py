"""The enrich processor: user agent → browser/OS/device, client IP → country (then the IP is
dropped), page URL → route template.

Each step reads its inputs as the schema reads context (record, else resource) and writes its
results where its input was found: a resource-level user agent or IP is handled once per
batch and written on the resource. A value the sender already set is kept unless the step's
`overwrite` is on. IP attributes are removed from every resource, record and data point,
whatever else happens (fail closed).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vitalsight.processors.enrich import useragent
from vitalsight.processors.enrich.config import EnrichConfig
from vitalsight.processors.enrich.geo import (
    COUNTRY,
    TIMEZONE,
    TIMEZONE_OFFSET,
    IpCountry,
    TimezoneCountry,
)
from vitalsight.processors.enrich.routes import RouteTemplater
from vitalsight.processors.request_view import (
    Keys,
    PlanCache,
    RecordInView,
    RequestView,
    ResourceView,
    Shape,
)
from vitalsight.receivers.signals import LOGS, METRICS, Signal

logger = logging.getLogger(__name__)

UA_ORIGINAL = "user_agent.original"
BROWSER_MOBILE = "browser.mobile"
SERVICE_NAME = "service.name"
PAGE_ROUTE = "browser.page.route"
PAGE_URL = "browser.page.url"
URL_FULL = "url.full"
PAGE_VIEW_EVENT = "browser.page_view"
# Longer inputs are left alone: real ones are far shorter, and the caches keep their inputs.
MAX_USER_AGENT_LENGTH = 2048
MAX_URL_LENGTH = 4096

Values = dict[str, str | None]  # the attributes a step reads or writes, as strings
Pairs = tuple[tuple[str, str], ...]


def _as_str(value: Any) -> str | None:
    text = value.string_value
    if text:  # the common case, without the cost of WhichOneof
        return str(text)
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        # The collector's flattening (and so the SQL) sees booleans as `true`/`false`.
        return "true" if value.bool_value else "false"
    if kind in ("int_value", "double_value"):
        return str(getattr(value, kind))
    return None


class _Target(Protocol):
    def set_str(self, key: str, text: str) -> None: ...
    def append_str(self, key: str, text: str) -> None: ...


def _set(target: _Target, values: Values, key: str, value: str) -> None:
    if key in values:
        target.set_str(key, value)  # replaces the first one
    else:
        target.append_str(key, value)
    values[key] = value


@dataclass(frozen=True)
class _Plan:
    """Where the attributes of one shape are, for the steps."""

    inputs: tuple[tuple[str, int], ...]  # (input key, its first position)
    outputs: tuple[str, ...]  # outputs present
    present: frozenset[str]  # inputs and outputs present
    drops: list[int]  # positions to remove (IP attributes)


@dataclass(frozen=True)
class _Step:
    """One enrichment: the attributes that trigger it, and how it derives its attributes."""

    name: str
    sources: frozenset[str]
    outputs: frozenset[str]
    derive: Callable[[Mapping[str, str | None], str], Pairs]  # (context, app) → pairs
    overwrite: bool


class EnrichProcessor:
    """See the module docstring and README.md. `counts` reports what it did."""

    def __init__(
        self,
        config: EnrichConfig,
        *,
        ip_country: IpCountry | None = None,
        timezones: TimezoneCountry | None = None,
    ) -> None:
        self.config = config
        self.counts: Counter[str] = Counter()
        geo = config.geo
        self._ip_attributes = tuple(geo.ip_attributes)
        self._drop_keys = frozenset((*geo.ip_attributes, *geo.drop_attributes))
        self._drop_suffixes = tuple(geo.drop_suffixes)
        self._drop_suffix_re = (
            re.compile("|".join(re.escape(x) for x in self._drop_suffixes) + "$", re.M)
            if self._drop_suffixes
            else None
        )
        steps: list[_Step] = []
        if config.user_agent.enabled:
            useragent.warm_up()
            self._parse_ua = useragent.cached_parser(config.user_agent.cache_size)
            steps.append(
                _Step(
                    "user_agent",
                    frozenset({UA_ORIGINAL}),
                    frozenset(useragent.UA_KEYS),
                    self._derive_user_agent,
                    config.user_agent.overwrite,
                )
            )
        if geo.enabled:
            self._ip_country = ip_country or IpCountry(geo.cache_size)
            self._timezones = (timezones or TimezoneCountry()) if geo.timezone_fallback else None
            tz_sources = {TIMEZONE, TIMEZONE_OFFSET} if geo.timezone_fallback else set()
            steps.append(
                _Step(
                    "geo",
                    frozenset({*self._ip_attributes, *tz_sources}),
                    frozenset({COUNTRY}),
                    self._derive_geo,
                    geo.overwrite,
                )
            )
        if config.route.enabled:
            self._routes = RouteTemplater(
                config.route.patterns,
                min_token_length=config.route.min_token_length,
                cache_size=config.route.cache_size,
            )
            # Routes never overwrite: an SDK's route is the app's own template.
            steps.append(
                _Step(
                    "route",
                    frozenset({PAGE_URL, URL_FULL}),
                    frozenset({PAGE_ROUTE}),
                    self._derive_route,
                    False,
                )
            )
        self._steps = tuple(steps)
        # Inputs are read; outputs only need to be known present (their values are not read).
        self._inputs = frozenset({SERVICE_NAME, BROWSER_MOBILE}.union(*(s.sources for s in steps)))
        self._outputs = frozenset().union(*(s.outputs for s in steps)) - self._inputs
        self._plan = PlanCache(self._make_plan).get

    # -- the steps ------------------------------------------------------------------------

    def _derive_user_agent(self, ctx: Mapping[str, str | None], app: str) -> Pairs:
        ua = ctx.get(UA_ORIGINAL)
        if not ua or len(ua) > MAX_USER_AGENT_LENGTH:
            return ()
        pairs = self._parse_ua(ua)
        mobile = ctx.get(BROWSER_MOBILE)
        if mobile is None:
            return pairs
        kind = useragent.with_mobile_hint(dict(pairs).get(useragent.DEVICE_TYPE), mobile)
        others = tuple(p for p in pairs if p[0] != useragent.DEVICE_TYPE)
        return (*others, (useragent.DEVICE_TYPE, kind)) if kind else others

    def _derive_geo(self, ctx: Mapping[str, str | None], app: str) -> Pairs:
        for key in self._ip_attributes:
            ip = ctx.get(key)
            if ip:
                country = self._ip_country.lookup(ip)
                if country:
                    self.counts["geo_from_ip"] += 1
                    return ((COUNTRY, country),)
                break
        if self._timezones is not None:
            zone, offset = ctx.get(TIMEZONE), ctx.get(TIMEZONE_OFFSET)
            country = (self._timezones.from_name(zone) if zone else None) or (
                self._timezones.from_offset(offset) if offset else None
            )
            if country:
                self.counts["geo_from_timezone"] += 1
                return ((COUNTRY, country),)
        return ()

    def _derive_route(self, ctx: Mapping[str, str | None], app: str) -> Pairs:
        url = ctx.get(PAGE_URL) or ctx.get(URL_FULL)
        if not url or len(url) > MAX_URL_LENGTH:
            return ()
        route = self._routes.route(app, url)
        if not route:
            return ()
        self.counts["route_derived"] += 1
        return ((PAGE_ROUTE, route),)

    # -- walking the request --------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """What it did since start-up, by outcome, for the server's /metrics."""
        return dict(self.counts)

    def process(self, signal: Signal, request: Any) -> Any:
        if RequestView.supports(signal):
            self.process_view(RequestView(signal, request))
        elif signal is METRICS:
            for rm in request.resource_metrics:
                self._group(ResourceView(rm, []))
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        kind = metric.WhichOneof("data")
                        if kind is not None:
                            for point in getattr(metric, kind).data_points:
                                self._drop(point.attributes)
        return request

    def process_view(self, view: RequestView) -> None:
        """Enrich a logs or traces request walked by the pipeline (see request_view)."""
        logs = view.signal is LOGS
        for resource in view.resources:
            self._group(resource, logs=logs)

    def _make_plan(self, shape: Keys) -> _Plan:
        """Which inputs and outputs a shape has, and the positions to drop.

        Set operations on the keys (C speed), once per shape rather than per record.
        """
        inputs = tuple((key, shape.index(key)) for key in self._inputs.intersection(shape))
        outputs = tuple(self._outputs.intersection(shape))
        present = frozenset((*(key for key, _ in inputs), *outputs))
        return _Plan(inputs, outputs, present, self._drops(shape))

    def _values(self, attributes: Any, plan: _Plan) -> Values:
        """The values the steps need (inputs as text; outputs only need to be known)."""
        values: Values = {key: _as_str(attributes[index].value) for key, index in plan.inputs}
        for key in plan.outputs:
            values[key] = None
        return values

    def _drops(self, keys: Sequence[str]) -> list[int]:
        if self._drop_keys.isdisjoint(keys) and not (
            self._drop_suffix_re and self._drop_suffix_re.search("\n".join(keys))
        ):
            return []
        return [
            index
            for index, key in enumerate(keys)
            if key in self._drop_keys or key.endswith(self._drop_suffixes)
        ]

    def _drop(self, attributes: Any) -> None:
        """Drop the IP attributes of a metric data point."""
        drops = self._drops([kv.key for kv in attributes])
        for index in reversed(drops):
            del attributes[index]
        self.counts["ip_attributes_dropped"] += len(drops)

    def _group(self, resource: ResourceView, *, logs: bool = False) -> None:
        res_plan = self._plan(resource.shape)
        res = self._values(resource.attributes, res_plan)
        res.pop(URL_FULL, None)  # a request's URL, not the page's
        sent = frozenset(res)  # what the sender set on the resource, before our additions
        app = res.get(SERVICE_NAME) or ""
        from_resource: dict[str, Pairs] = {}
        for step in self._steps:
            pairs: Pairs = ()
            if not step.sources.isdisjoint(res) and (step.overwrite or not step.outputs <= sent):
                pairs = step.derive(res, app)
            from_resource[step.name] = pairs
            for key, value in pairs:
                if step.overwrite or key not in sent:
                    _set(resource, res, key, value)
        # Per step, the outputs the resource lacks: a record that has them all needs nothing
        # (worked out once per resource, not per record).
        unsent = [(step, step.outputs - sent, from_resource[step.name]) for step in self._steps]
        plans = self._plan
        # Per shape, for this resource: the steps a record can need, and its plan.
        decided: dict[Shape, tuple[list[tuple[_Step, Pairs]], _Plan]] = {}
        for scope in resource.scopes:
            records, shapes = scope.records, scope.shapes
            for index in range(len(records)):
                shape = shapes[index]
                known = decided.get(shape)
                if known is None:
                    plan = plans(shape)
                    present = plan.present
                    # A step runs unless the record (or resource) has its outputs, and does
                    # nothing without its inputs on the record unless it overwrites.
                    steps = [
                        (step, res_pairs)
                        for step, missing, res_pairs in unsent
                        if step.overwrite
                        or not (present >= missing or step.sources.isdisjoint(present))
                    ]
                    known = decided[shape] = (steps, plan)
                steps, plan = known
                if steps:
                    record = records[index]
                    rec = self._values(scope.attributes[index], plan)
                    if URL_FULL in rec and not (logs and record.event_name == PAGE_VIEW_EVENT):
                        del rec[URL_FULL]  # the page's URL on page views only, else a request's
                    target = RecordInView(scope, index)
                    for step, res_pairs in steps:
                        self._record_step(step, target, rec, res, sent, app, res_pairs)
                if plan.drops:
                    scope.delete_attributes(index, plan.drops)
                    self.counts["ip_attributes_dropped"] += len(plan.drops)
        if res_plan.drops:
            resource.delete_attributes(res_plan.drops)
            self.counts["ip_attributes_dropped"] += len(res_plan.drops)

    def _record_step(
        self,
        step: _Step,
        target: _Target,
        rec: Values,
        res: Values,
        sent: frozenset[str],
        app: str,
        res_pairs: Pairs,
    ) -> None:
        """Called unless the sender set all the step's outputs (on the record or resource)."""
        if step.sources.isdisjoint(rec):
            if step.overwrite:
                # The record's own value would win over the resource's in the schema.
                for key, value in res_pairs:
                    if key in rec:
                        _set(target, rec, key, value)
            return
        pairs = step.derive({**res, **rec}, app)
        for key, value in pairs:
            if key in rec:
                if step.overwrite:
                    _set(target, rec, key, value)
            elif step.overwrite or key not in sent:
                if (key, value) in res_pairs and res.get(key) == value:
                    continue  # the resource already says so
                _set(target, rec, key, value)
