"""3. Release comparison: a baseline and a candidate release side by side — every vital's
percentiles, error rate, resource sizes and slowest endpoints, with the differences and
whether they are significant.

Significance comes from the rollups, which hold counts per rating but no raw values: a
two-proportion z-test on the share of good samples (n = samples kept) for vitals, a
two-sample Poisson z-test for errors per page view. Both report a two-sided p-value.
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import row_link
from vitalsight.grafana.dashboards.panels import table_panel, timeseries_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import (
    custom_variable,
    filter_variables,
    release_variable,
)

KEY = "release_comparison"
BASELINE = "${baseline:singlequote}"
CANDIDATE = "${release:singlequote}"
SIGNIFICANCE_LEVEL = 0.05
# The candidate is the `release` variable, single-valued here, so links in (the insight
# service's `var-release=…`) and out carry it like on any dashboard.
_FILTERS = sql.filters(exclude=["release"])


def _both_releases(table: sql.Table) -> str:
    return f"{table.time_filter} AND release IN ({BASELINE}, {CANDIDATE}) AND {_FILTERS}"


def _source(rollup: sql.Rollup, where: str = "1", **options: Any) -> str:
    """The rollup rows of both releases (hourly or daily ones on long ranges)."""
    return sql.rollup_source(
        rollup,
        where=f"release IN ({BASELINE}, {CANDIDATE}) AND {where}",
        exclude=["release"],
        **options,
    )


def _percentiles(quantiles: str, side: str) -> str:
    return ", ".join(
        f"{quantiles}[{index}] AS {side}_{label}"
        for index, label in ((sql.P50, "p50"), (sql.P75, "p75"), (sql.P95, "p95"))
    )


def _p_value(z: str) -> str:
    return f"erfc(abs({z}) / sqrt(2))"


def vitals_sql() -> str:
    base = sql.quantiles(f"release = {BASELINE}")
    cand = sql.quantiles(f"release = {CANDIDATE}")
    pooled = "(good_b + good_c) / (weight_b + weight_c)"
    z = (
        f"(good_c / weight_c - good_b / weight_b)"
        f" / sqrt({pooled} * (1 - {pooled}) * (1 / n_b + 1 / n_c))"
    )
    return (
        "SELECT vital,\n"
        f"    {_percentiles('qb', 'baseline')},\n"
        f"    {_percentiles('qc', 'candidate')},\n"
        f"    (qc[{sql.P75}] - qb[{sql.P75}]) / nullIf(qb[{sql.P75}], 0) AS p75_change,\n"
        "    good_b / weight_b AS baseline_good_share, good_c / weight_c AS candidate_good_share,\n"
        f"    {_p_value(z)} AS p_value,\n"
        f"    if(p_value < {SIGNIFICANCE_LEVEL}, 'yes', 'no') AS significant\n"
        "FROM (\n"
        f"    SELECT name AS vital, {base} AS qb, {cand} AS qc,\n"
        f"        sumIf(good, release = {BASELINE}) AS good_b,"
        f" sumIf(good, release = {CANDIDATE}) AS good_c,\n"
        f"        sumIf(weight, release = {BASELINE}) AS weight_b,"
        f" sumIf(weight, release = {CANDIDATE}) AS weight_c,\n"
        f"        sumIf(samples, release = {BASELINE}) AS n_b,"
        f" sumIf(samples, release = {CANDIDATE}) AS n_c\n"
        f"    FROM {_source(sql.VITALS_ROLLUP, f'name IN ({sql.sql_list(sql.VITALS)})')}\n"
        "    GROUP BY name HAVING n_b > 0 AND n_c > 0\n"
        f") ORDER BY indexOf([{sql.sql_list(sql.VITALS)}], vital)"
    )


def routes_sql() -> str:
    """The selected vital's p75 per route in both releases, biggest regression first."""
    base = sql.quantiles(f"release = {BASELINE}")
    cand = sql.quantiles(f"release = {CANDIDATE}")
    source = _source(sql.VITALS_ROLLUP, "name = ${vital:singlequote}", by="route")
    return (
        "SELECT route, baseline_p75, candidate_p75,\n"
        "    (candidate_p75 - baseline_p75) / nullIf(baseline_p75, 0) AS p75_change,"
        " baseline_samples, candidate_samples\n"
        "FROM (\n"
        f"    SELECT route, {base}[{sql.P75}] AS baseline_p75,"
        f" {cand}[{sql.P75}] AS candidate_p75,\n"
        f"        sumIf(samples, release = {BASELINE}) AS baseline_samples,"
        f" sumIf(samples, release = {CANDIDATE}) AS candidate_samples\n"
        f"    FROM {source}\n"
        "    GROUP BY route HAVING baseline_samples > 0 AND candidate_samples > 0\n"
        ") ORDER BY p75_change DESC LIMIT 50"
    )


def error_rate_sql() -> str:
    views, errors = sql.PAGE_VIEWS_1M, sql.ERRORS_1M
    z = "(rate_c - rate_b) / sqrt(rate_c / views_c + rate_b / views_b)"
    return (
        "SELECT rate_b AS baseline_errors_per_view, rate_c AS candidate_errors_per_view,\n"
        "    (rate_c - rate_b) / nullIf(rate_b, 0) AS change,\n"
        f"    {_p_value(z)} AS p_value,\n"
        f"    if(p_value < {SIGNIFICANCE_LEVEL}, 'yes', 'no') AS significant\n"
        "FROM (\n"
        "    SELECT views_b, views_c, errors_b / views_b AS rate_b, errors_c / views_c AS rate_c\n"
        "    FROM (\n"
        f"        SELECT sumIf(weight, release = {BASELINE}) AS views_b,"
        f" sumIf(weight, release = {CANDIDATE}) AS views_c\n"
        f"        FROM {views.name} WHERE {_both_releases(views)}\n"
        "    ) AS v CROSS JOIN (\n"
        f"        SELECT sumIf(weight, release = {BASELINE}) AS errors_b,"
        f" sumIf(weight, release = {CANDIDATE}) AS errors_c\n"
        f"        FROM {errors.name} WHERE {_both_releases(errors)}\n"
        "    ) AS e\n"
        ")"
    )


def resource_sizes_sql() -> str:
    """Hourly resource rollup on long ranges, else raw resource timing; content hashes are
    folded so `app.3f2a1c.js` of both releases compare as one bundle (as in the rollup)."""
    raw, hourly = sql.RESOURCES_RAW, sql.RESOURCES_1H
    name = r"replaceRegexpOne(path(url), '\\.[0-9a-f]{6,}\\.', '.')"
    coarse = sql.coarse_condition(sql.VITALS_ROLLUP.lacking, ["release"])
    both = f"release IN ({BASELINE}, {CANDIDATE})"
    coarse_filters = " AND ".join(sql.variable_filter(v) for v in ("app", "environment"))
    return (
        "SELECT initiator_type, resource, baseline_bytes, candidate_bytes,\n"
        "    candidate_bytes - baseline_bytes AS change_bytes,\n"
        "    (candidate_bytes - baseline_bytes) / nullIf(baseline_bytes, 0) AS change\n"
        "FROM (\n"
        "    SELECT initiator_type, resource,\n"
        f"        sumIf(decoded_bytes, release = {BASELINE})"
        f" / sumIf(samples, release = {BASELINE}) AS baseline_bytes,\n"
        f"        sumIf(decoded_bytes, release = {CANDIDATE})"
        f" / sumIf(samples, release = {CANDIDATE}) AS candidate_bytes\n"
        "    FROM (\n"
        f"        SELECT initiator_type, {name} AS resource, release,"
        " decoded_size AS decoded_bytes, toUInt64(1) AS samples\n"
        f"        FROM {raw.name} WHERE NOT ({coarse}) AND {raw.time_filter} AND {both}"
        f" AND {_FILTERS}\n"
        "        UNION ALL\n"
        "        SELECT initiator_type, resource, release, decoded_bytes, samples\n"
        f"        FROM {hourly.name} WHERE {coarse} AND {hourly.time_filter} AND {both}"
        f" AND {coarse_filters}\n"
        "    )\n"
        "    GROUP BY initiator_type, resource\n"
        f"    HAVING sumIf(samples, release = {BASELINE}) > 0"
        f" AND sumIf(samples, release = {CANDIDATE}) > 0\n"
        ") ORDER BY abs(change_bytes) DESC, candidate_bytes DESC LIMIT 20"
    )


def endpoints_sql() -> str:
    base = sql.quantiles(f"release = {BASELINE}")
    cand = sql.quantiles(f"release = {CANDIDATE}")
    return (
        "SELECT method, url_template, baseline_p95, candidate_p95,\n"
        "    (candidate_p95 - baseline_p95) / nullIf(baseline_p95, 0) AS p95_change,\n"
        "    errors_b / weight_b AS baseline_error_share,"
        " errors_c / weight_c AS candidate_error_share\n"
        "FROM (\n"
        f"    SELECT method, url_template, {base}[{sql.P95}] AS baseline_p95,"
        f" {cand}[{sql.P95}] AS candidate_p95,\n"
        f"        sumIf(errors, release = {BASELINE}) AS errors_b,"
        f" sumIf(weight, release = {BASELINE}) AS weight_b,\n"
        f"        sumIf(errors, release = {CANDIDATE}) AS errors_c,"
        f" sumIf(weight, release = {CANDIDATE}) AS weight_c\n"
        f"    FROM {_source(sql.REQUESTS_ROLLUP)}\n"
        "    GROUP BY method, url_template HAVING weight_b > 0 AND weight_c > 0\n"
        ") ORDER BY candidate_p95 DESC LIMIT 15"
    )


def vital_over_time_sql() -> str:
    source = _source(sql.VITALS_ROLLUP, "name = ${vital:singlequote}", series=True)
    return (
        f"SELECT time, release, {sql.quantiles()}[{sql.P75}] AS p75\n"
        f"FROM {source}\n"
        "GROUP BY time, release ORDER BY time"
    )


_CHANGE_UNITS = {"p75_change": "percentunit", "p95_change": "percentunit", "change": "percentunit"}


def dashboard() -> dashboard_builder.Dashboard:
    variables = [
        release_variable("release", "Candidate release"),
        release_variable("baseline", "Baseline release", excluding="release"),
        custom_variable("vital", "Vital", sql.VITALS),
        *filter_variables(exclude=["release"]),
    ]
    ms_columns = {
        f"{side}_{p}": "ms" for side in ("baseline", "candidate") for p in ("p50", "p75", "p95")
    }
    return (
        new_dashboard(
            KEY,
            "vitalsight · Release comparison",
            "Baseline vs candidate release: vitals, errors, resource sizes and endpoints, with"
            " the change and its two-sided p-value (significant below 0.05).",
            variables,
        )
        .with_panel(
            table_panel(
                "Web vitals",
                vitals_sql(),
                description="p-value: two-proportion z-test on the share of good samples.",
                units={
                    **ms_columns,
                    **_CHANGE_UNITS,
                    "baseline_good_share": "percentunit",
                    "candidate_good_share": "percentunit",
                },
                height=8,
            )
        )
        .with_panel(
            table_panel(
                "${vital} p75 by route",
                routes_sql(),
                units={"baseline_p75": "ms", "candidate_p75": "ms", **_CHANGE_UNITS},
                links={"route": [row_link("Route details", "routes", route="route")]},
                span=12,
            )
        )
        .with_panel(timeseries_panel("${vital} p75 per release", vital_over_time_sql(), unit="ms"))
        .with_panel(
            table_panel(
                "Errors per page view",
                error_rate_sql(),
                description="p-value: two-sample Poisson z-test on errors per page view.",
                units={
                    "baseline_errors_per_view": "percentunit",
                    "candidate_errors_per_view": "percentunit",
                    **_CHANGE_UNITS,
                },
                height=5,
            )
        )
        .with_panel(
            table_panel(
                "Resource sizes (decoded)",
                resource_sizes_sql(),
                units={
                    "baseline_bytes": "decbytes",
                    "candidate_bytes": "decbytes",
                    "change_bytes": "decbytes",
                    **_CHANGE_UNITS,
                },
                span=12,
            )
        )
        .with_panel(
            table_panel(
                "Slowest endpoints",
                endpoints_sql(),
                units={
                    "baseline_p95": "ms",
                    "candidate_p95": "ms",
                    **_CHANGE_UNITS,
                    "baseline_error_share": "percentunit",
                    "candidate_error_share": "percentunit",
                },
                links={
                    "url_template": [
                        row_link(
                            "Endpoint",
                            "api_performance",
                            endpoint="url_template",
                        )
                    ]
                },
                span=12,
            )
        )
    )
