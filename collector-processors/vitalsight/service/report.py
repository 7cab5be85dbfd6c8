"""`vitalsight report`: a terminal summary of the last minutes of real-user data.

`build_report()` reads the per-minute rollups through a clickhouse-connect client (the one
reader path, docs/ARCHITECTURE.md) with the statements in `report_queries`; `render_report()`
prints it with rich: p75 web vitals per route, the same per release with regressions marked,
errors per route and per fingerprint, and the slowest API endpoints.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vitalsight.service.report_queries import (
    Filters,
    endpoints_sql,
    errors_by_release_sql,
    route_errors_sql,
    views_by_release_sql,
    vitals_sql,
)

DEFAULT_SINCE_MINUTES = 60
DEFAULT_ENDPOINT_LIMIT = 10
DEFAULT_ERROR_LIMIT = 10
NO_VALUE = "-"
VITALS = ("LCP", "INP", "CLS", "FCP", "TTFB")
# web.dev thresholds (https://web.dev/articles/vitals): (good up to, poor above)
THRESHOLDS: Mapping[str, tuple[float, float]] = {
    "LCP": (2500, 4000),
    "INP": (200, 500),
    "CLS": (0.1, 0.25),
    "FCP": (1800, 3000),
    "TTFB": (800, 1800),
}
# A release regresses a vital on a route when its p75 is REGRESSION_RATIO times the previous
# release's, worse by at least REGRESSION_MIN_DELTA, and the two p75s' confidence intervals
# (REGRESSION_Z) do not overlap; both releases need REGRESSION_MIN_SAMPLES samples: below that
# a p75 moves by a third from the device mix alone.
REGRESSION_RATIO = 1.2
REGRESSION_MIN_SAMPLES = 40
REGRESSION_Z = 1.645
REGRESSION_MIN_DELTA: Mapping[str, float] = {
    "LCP": 250.0,
    "FCP": 200.0,
    "TTFB": 100.0,
    "INP": 50.0,
    "CLS": 0.025,
}


class QueryClient(Protocol):
    """What the report needs of a clickhouse-connect `Client`: `query(sql).result_rows`."""

    def query(self, query: str) -> Any: ...


@dataclass(frozen=True)
class Quantiles:
    p50: float
    p75: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Quantiles:
        p50, p75, p95, p99 = (float(v) for v in values)
        return cls(p50, p75, p95, p99)


@dataclass(frozen=True)
class VitalStat:
    """One vital on one route (and release, when split by release)."""

    app: str
    route: str
    release: str  # "" when merged over releases
    name: str
    samples: int
    weight: float
    good_share: float
    poor_share: float
    quantiles: Quantiles


@dataclass(frozen=True)
class RouteErrors:
    """Errors of a route. `error_rate` is weighted errors per weighted page view: it can
    exceed 1 when pages throw repeatedly."""

    app: str
    route: str
    views: float
    errors: float
    error_rate: float
    sessions: int
    error_sessions: int


@dataclass(frozen=True)
class ErrorGroup:
    """One error fingerprint, with its rate per 1,000 page views in each release."""

    app: str
    fingerprint: str
    type: str
    message: str
    errors: float
    sessions: int
    per_1k_views_by_release: Mapping[str, float]


@dataclass(frozen=True)
class EndpointStat:
    app: str
    method: str
    url_template: str
    samples: int
    requests: float
    error_share: float
    quantiles: Quantiles


@dataclass(frozen=True)
class VitalRegression:
    """The p75 of `vital` on `route` got worse from `baseline_release` to `release`."""

    app: str
    route: str
    vital: str
    baseline_release: str
    release: str
    baseline_p75: float
    p75: float
    baseline_samples: int
    samples: int

    @property
    def ratio(self) -> float:
        return self.p75 / self.baseline_p75 if self.baseline_p75 > 0 else math.inf


@dataclass(frozen=True)
class Report:
    since_minutes: int
    app: str | None
    environment: str | None
    vitals: list[VitalStat] = field(default_factory=list)
    vitals_by_release: list[VitalStat] = field(default_factory=list)
    route_errors: list[RouteErrors] = field(default_factory=list)
    top_errors: list[ErrorGroup] = field(default_factory=list)
    endpoints: list[EndpointStat] = field(default_factory=list)
    regressions: list[VitalRegression] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.vitals or self.route_errors or self.endpoints)

    def p75(self, app: str, route: str, name: str, release: str = "") -> float | None:
        """The p75 of a vital, merged over releases unless `release` is given."""
        stats = self.vitals_by_release if release else self.vitals
        for stat in stats:
            if (stat.app, stat.route, stat.name, stat.release) == (app, route, name, release):
                return stat.quantiles.p75
        return None


def build_report(
    client: QueryClient,
    *,
    app: str | None = None,
    environment: str | None = None,
    since_minutes: int = DEFAULT_SINCE_MINUTES,
    endpoint_limit: int = DEFAULT_ENDPOINT_LIMIT,
    error_limit: int = DEFAULT_ERROR_LIMIT,
) -> Report:
    """Query the rollups of the last `since_minutes` minutes.

    Args:
        client: a clickhouse-connect client (`vitalsight.exporters.reader.connect_reader`),
            or anything with `query(sql).result_rows`.
        app: only this app (`service.name`); default all.
        environment: only this environment; default all.
        since_minutes: the window, in whole minutes back from now.
        endpoint_limit: how many of the slowest endpoints to list.
        error_limit: how many error fingerprints to list.
    """
    filters = Filters(since_minutes=since_minutes, app=app, environment=environment)
    vitals = [_vital(row) for row in _rows(client, vitals_sql(filters, by_release=False))]
    by_release = [_vital(row) for row in _rows(client, vitals_sql(filters, by_release=True))]
    return Report(
        since_minutes=since_minutes,
        app=app,
        environment=environment,
        vitals=vitals,
        vitals_by_release=by_release,
        route_errors=[_route_errors(row) for row in _rows(client, route_errors_sql(filters))],
        top_errors=_error_groups(
            _rows(client, errors_by_release_sql(filters)),
            _rows(client, views_by_release_sql(filters)),
            limit=error_limit,
        ),
        endpoints=[
            _endpoint(row) for row in _rows(client, endpoints_sql(filters, limit=endpoint_limit))
        ],
        regressions=find_regressions(by_release),
    )


def _rows(client: QueryClient, sql: str) -> Sequence[Sequence[Any]]:
    return list(client.query(sql).result_rows)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _vital(row: Sequence[Any]) -> VitalStat:
    app, route, release, name, samples, weight, good, poor, q = row
    return VitalStat(
        app=str(app),
        route=str(route),
        release=str(release),
        name=str(name),
        samples=int(samples),
        weight=float(weight),
        good_share=_share(float(good), float(weight)),
        poor_share=_share(float(poor), float(weight)),
        quantiles=Quantiles.of(q),
    )


def _route_errors(row: Sequence[Any]) -> RouteErrors:
    app, route, views, errors, sessions, error_sessions = row
    return RouteErrors(
        app=str(app),
        route=str(route),
        views=float(views),
        errors=float(errors),
        error_rate=_share(float(errors), float(views)),
        sessions=int(sessions),
        error_sessions=int(error_sessions),
    )


def _error_groups(
    rows: Sequence[Sequence[Any]], views: Sequence[Sequence[Any]], *, limit: int
) -> list[ErrorGroup]:
    views_of = {(str(app), str(release)): float(v) for app, release, v in views}
    totals: dict[tuple[str, str, str], list[Any]] = {}
    for app, fingerprint, type_, message, release, errors, sessions in rows:
        key = (str(app), str(fingerprint), str(type_))
        group = totals.setdefault(key, [str(message), 0.0, 0, {}])
        group[1] += float(errors)
        group[2] += int(sessions)  # a session rarely spans releases; the sum is close enough
        release_views = views_of.get((key[0], str(release)), 0.0)
        group[3][str(release)] = 1000 * _share(float(errors), release_views)
    groups = [
        ErrorGroup(
            app=app,
            fingerprint=fingerprint,
            type=type_,
            message=message,
            errors=errors,
            sessions=sessions,
            per_1k_views_by_release=by_release,
        )
        for (app, fingerprint, type_), (message, errors, sessions, by_release) in totals.items()
    ]
    groups.sort(key=lambda g: (-g.errors, g.app, g.fingerprint))
    return groups[:limit]


def _endpoint(row: Sequence[Any]) -> EndpointStat:
    app, method, template, samples, requests, errors, q = row
    return EndpointStat(
        app=str(app),
        method=str(method),
        url_template=str(template),
        samples=int(samples),
        requests=float(requests),
        error_share=_share(float(errors), float(requests)),
        quantiles=Quantiles.of(q),
    )


def release_sort_key(release: str) -> tuple[tuple[int, ...], str]:
    """Order releases by their numbers (1.2.10 after 1.2.9), then by text."""
    return tuple(int(n) for n in re.findall(r"\d+", release)), release


def p75_interval(stat: VitalStat, *, z: float = REGRESSION_Z) -> tuple[float, float]:
    """An approximate confidence interval of the p75 from the rollup's own quantiles.

    The p75 of n samples lies, with confidence z, between the quantiles at levels
    0.75 ± z·sqrt(0.75·0.25/n) (the binomial order-statistic interval); those levels are
    interpolated linearly between the p50, p75 and p95 the rollups keep. Unweighted n: a
    sampled row does not carry more information than one sample.
    """
    q = stat.quantiles
    half = z * math.sqrt(0.75 * 0.25 / max(stat.samples, 1))
    low_level = max(0.75 - half, 0.5)
    high_level = min(0.75 + half, 0.95)
    low = q.p50 + (q.p75 - q.p50) * (low_level - 0.5) / 0.25
    high = q.p75 + (q.p95 - q.p75) * (high_level - 0.75) / 0.2
    return low, high


def find_regressions(
    by_release: Sequence[VitalStat],
    *,
    ratio: float = REGRESSION_RATIO,
    min_samples: int = REGRESSION_MIN_SAMPLES,
) -> list[VitalRegression]:
    """Compare each route's newest release with the release before it, per vital."""
    series: dict[tuple[str, str, str], list[VitalStat]] = defaultdict(list)
    for stat in by_release:
        if stat.release and stat.samples >= min_samples:
            series[(stat.app, stat.route, stat.name)].append(stat)
    found = []
    for (app, route, name), stats in series.items():
        if len(stats) < 2:
            continue
        stats.sort(key=lambda s: release_sort_key(s.release))
        before, after = stats[-2], stats[-1]
        worse = after.quantiles.p75 - before.quantiles.p75
        if (
            before.quantiles.p75 > 0
            and after.quantiles.p75 >= ratio * before.quantiles.p75
            and worse >= REGRESSION_MIN_DELTA.get(name, 0.0)
            and p75_interval(after)[0] > p75_interval(before)[1]
        ):
            found.append(
                VitalRegression(
                    app=app,
                    route=route,
                    vital=name,
                    baseline_release=before.release,
                    release=after.release,
                    baseline_p75=before.quantiles.p75,
                    p75=after.quantiles.p75,
                    baseline_samples=before.samples,
                    samples=after.samples,
                )
            )
    found.sort(key=lambda r: (-r.ratio, r.app, r.route, r.vital))
    return found


# --- rendering ------------------------------------------------------------------------------


def format_vital(name: str, value: float | None) -> str:
    """`2.31 s`, `312 ms` or `0.08` (CLS is unitless)."""
    if value is None or math.isnan(value):
        return NO_VALUE
    if name == "CLS":
        return f"{value:.3f}"
    return format_ms(value)


def format_ms(value: float) -> str:
    if math.isnan(value):
        return NO_VALUE
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _vital_cell(name: str, value: float | None) -> Text:
    text = format_vital(name, value)
    if value is None or math.isnan(value):
        return Text(text, style="dim")
    good, poor = THRESHOLDS[name]
    style = "green" if value <= good else ("yellow" if value <= poor else "bold red")
    return Text(text, style=style)


def render_report(report: Report, console: Console) -> None:
    """Print the report as rich tables."""
    scope = report.app or "all apps"
    if report.environment:
        scope += f", {report.environment}"
    console.print(
        f"[bold]vitalsight report[/bold] — {scope}, last {report.since_minutes} min "
        "(p75 unless noted; web.dev thresholds: [green]good[/green] "
        "[yellow]needs improvement[/yellow] [bold red]poor[/bold red])"
    )
    if report.empty:
        console.print(
            "[yellow]No data in this window.[/yellow] Is anything sending? Try `vitalsight demo`."
        )
        return
    for table in (
        _vitals_table(report),
        _releases_table(report),
        _regressions_table(report),
        _route_errors_table(report),
        _top_errors_table(report),
        _endpoints_table(report),
    ):
        if table is not None:
            console.print(table)


def _pivot(stats: Sequence[VitalStat]) -> dict[tuple[str, str, str], dict[str, VitalStat]]:
    rows: dict[tuple[str, str, str], dict[str, VitalStat]] = defaultdict(dict)
    for stat in stats:
        rows[(stat.app, stat.route, stat.release)][stat.name] = stat
    return rows


def _vitals_table(report: Report) -> Table:
    table = Table(title="Web vitals p75 by route", title_justify="left")
    table.add_column("app")
    table.add_column("route")
    for name in VITALS:
        table.add_column(name, justify="right")
    table.add_column("LCP good", justify="right")
    table.add_column("samples", justify="right")
    for (app, route, _), by_name in sorted(_pivot(report.vitals).items()):
        lcp = by_name.get("LCP")
        table.add_row(
            app,
            route,
            *(_vital_cell(n, by_name[n].quantiles.p75 if n in by_name else None) for n in VITALS),
            f"{lcp.good_share:.0%}" if lcp else NO_VALUE,
            str(max(s.samples for s in by_name.values())),
        )
    return table


def _releases_table(report: Report) -> Table | None:
    if not report.vitals_by_release:
        return None
    regressed = {(r.app, r.route, r.release, r.vital) for r in report.regressions}
    table = Table(title="Web vitals p75 by route and release", title_justify="left")
    table.add_column("app")
    table.add_column("route")
    table.add_column("release")
    for name in VITALS:
        table.add_column(name, justify="right")
    table.add_column("samples", justify="right")
    rows = sorted(
        _pivot(report.vitals_by_release).items(),
        key=lambda item: (item[0][0], item[0][1], release_sort_key(item[0][2])),
    )
    for (app, route, release), by_name in rows:
        cells = []
        for name in VITALS:
            cell = _vital_cell(name, by_name[name].quantiles.p75 if name in by_name else None)
            if (app, route, release, name) in regressed:
                cell.append(" ▲", style="bold red")
            cells.append(cell)
        table.add_row(app, route, release, *cells, str(max(s.samples for s in by_name.values())))
    return table


def _regressions_table(report: Report) -> Table | None:
    if not report.regressions:
        return None
    table = Table(
        title=f"Regressions vs the previous release (p75 ≥ +{REGRESSION_RATIO - 1:.0%}, "
        f"n ≥ {REGRESSION_MIN_SAMPLES}, 90% intervals apart)",
        title_justify="left",
        title_style="bold red",
    )
    for column in ("app", "route", "vital", "before", "after", "change"):
        table.add_column(
            column, justify="right" if column in ("before", "after", "change") else "left"
        )
    for r in report.regressions:
        table.add_row(
            r.app,
            r.route,
            r.vital,
            f"{format_vital(r.vital, r.baseline_p75)} "
            f"({r.baseline_release}, n={r.baseline_samples})",
            f"{format_vital(r.vital, r.p75)} ({r.release}, n={r.samples})",
            Text(f"+{r.ratio - 1:.0%}", style="bold red"),
        )
    return table


def _route_errors_table(report: Report) -> Table | None:
    if not report.route_errors:
        return None
    table = Table(title="Errors by route (weighted errors per page view)", title_justify="left")
    for column in ("app", "route", "page views", "errors", "error rate", "sessions w/ error"):
        table.add_column(column, justify="left" if column in ("app", "route") else "right")
    rows = sorted(report.route_errors, key=lambda r: (r.app, -r.error_rate, r.route))
    for r in rows:
        rate = Text(
            f"{r.error_rate:.2%}",
            style="bold red" if r.error_rate >= 0.05 else "yellow" if r.errors else "",
        )
        sessions = f"{r.error_sessions} / {r.sessions}" if r.sessions else str(r.error_sessions)
        table.add_row(r.app, r.route, f"{r.views:,.0f}", f"{r.errors:,.0f}", rate, sessions)
    return table


def _top_errors_table(report: Report) -> Table | None:
    if not report.top_errors:
        return None
    releases = sorted(
        {rel for g in report.top_errors for rel in g.per_1k_views_by_release},
        key=release_sort_key,
    )
    table = Table(title="Top errors (per 1,000 page views, by release)", title_justify="left")
    table.add_column("app")
    table.add_column("error", overflow="fold", max_width=60)
    table.add_column("count", justify="right")
    table.add_column("sessions", justify="right")
    for release in releases:
        table.add_column(release, justify="right")
    for g in report.top_errors:
        cells = []
        for release in releases:
            value = g.per_1k_views_by_release.get(release)
            cells.append(NO_VALUE if value is None else f"{value:.1f}")
        table.add_row(g.app, f"{g.type}: {g.message}", f"{g.errors:,.0f}", str(g.sessions), *cells)
    return table


def _endpoints_table(report: Report) -> Table | None:
    if not report.endpoints:
        return None
    table = Table(title="Slowest API endpoints (by p95)", title_justify="left")
    for column in ("app", "endpoint", "requests", "p50", "p95", "p99", "errors"):
        table.add_column(column, justify="left" if column in ("app", "endpoint") else "right")
    for e in report.endpoints:
        errors = Text(f"{e.error_share:.1%}", style="bold red" if e.error_share >= 0.01 else "")
        table.add_row(
            e.app,
            f"{e.method} {e.url_template}",
            f"{e.requests:,.0f}",
            format_ms(e.quantiles.p50),
            format_ms(e.quantiles.p95),
            format_ms(e.quantiles.p99),
            errors,
        )
    return table
