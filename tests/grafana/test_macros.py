"""Expansion of Grafana ClickHouse-datasource macros and variables, checked against the
outputs the plugin documents and its own tests (pkg/macros/macros_test.go)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vitalsight.grafana.macros import ALL, MacroError, VariableValue, expand_macros

FROM = datetime(2025, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
TO = datetime(2025, 3, 2, 11, 30, 0, 456000, tzinfo=UTC)
FROM_S, TO_S = int(FROM.timestamp()), int(TO.timestamp())
FROM_MS, TO_MS = FROM_S * 1000 + 123, TO_S * 1000 + 456


def expand(
    sql: str,
    variables: Mapping[str, VariableValue] | None = None,
    all_values: Mapping[str, VariableValue] | None = None,
    interval_s: int = 60,
) -> str:
    return expand_macros(
        sql,
        time_from=FROM,
        time_to=TO,
        interval_s=interval_s,
        variables=variables or {},
        all_values=all_values,
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("$__timeFilter(ts)", f"ts >= toDateTime({FROM_S}) AND ts <= toDateTime({TO_S})"),
        (
            "$__timeFilter_ms(ts)",
            f"ts >= fromUnixTimestamp64Milli({FROM_MS}) "
            f"AND ts <= fromUnixTimestamp64Milli({TO_MS})",
        ),
        ("$__dateFilter(d)", "d >= toDate('2025-03-01') AND d <= toDate('2025-03-02')"),
        (
            "$__dateTimeFilter(d, ts)",
            "(d >= toDate('2025-03-01') AND d <= toDate('2025-03-02')) AND "
            f"(ts >= toDateTime({FROM_S}) AND ts <= toDateTime({TO_S}))",
        ),
        ("$__fromTime", f"toDateTime({FROM_S})"),
        ("$__toTime", f"toDateTime({TO_S})"),
        ("$__fromTime()", f"toDateTime({FROM_S})"),
        ("$__fromTime_ms", f"fromUnixTimestamp64Milli({FROM_MS})"),
        ("$__toTime_ms", f"fromUnixTimestamp64Milli({TO_MS})"),
        ("$__interval_s", "60"),
        ("$__timeInterval(ts)", "toStartOfInterval(toDateTime(ts), INTERVAL 60 second)"),
        (
            "$__timeInterval_ms(ts)",
            "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 60000 millisecond)",
        ),
        (
            "$__timeInterval(toStartOfMinute(ts))",
            "toStartOfInterval(toDateTime(toStartOfMinute(ts)), INTERVAL 60 second)",
        ),
        ("$__from $__to", f"{FROM_MS} {TO_MS}"),
        ("$__interval $__interval_ms", "1m 60000"),
    ],
)
def test_backend_macros_expand_as_the_plugin_documents(sql: str, expected: str) -> None:
    assert expand(sql) == expected


def test_interval_is_at_least_one_second() -> None:
    assert expand("$__interval_s $__timeInterval(t)", interval_s=0) == (
        "1 toStartOfInterval(toDateTime(t), INTERVAL 1 second)"
    )


def test_non_utc_bounds_are_rendered_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    sql = expand_macros(
        "$__dateFilter(d)",
        time_from=datetime(2025, 3, 2, 1, 0, tzinfo=plus_two),
        time_to=datetime(2025, 3, 2, 3, 0, tzinfo=plus_two),
        interval_s=60,
        variables={},
    )
    assert sql == "d >= toDate('2025-03-01') AND d <= toDate('2025-03-02')"


def test_macros_in_a_full_query() -> None:
    sql = expand(
        "SELECT $__timeInterval(ts) AS t, count() FROM rum WHERE $__timeFilter(ts) "
        "AND route = '${route}' GROUP BY t",
        {"route": "/checkout"},
    )
    assert sql == (
        "SELECT toStartOfInterval(toDateTime(ts), INTERVAL 60 second) AS t, count() FROM rum "
        f"WHERE ts >= toDateTime({FROM_S}) AND ts <= toDateTime({TO_S}) "
        "AND route = '/checkout' GROUP BY t"
    )


@pytest.mark.parametrize(
    ("sql", "value", "expected"),
    [
        ("$v", "a", "a"),
        ("${v}", "a", "a"),
        ("[[v]]", "a", "a"),
        ("$v", ["a", "b"], "'a','b'"),  # plugin default formatter for arrays
        ("${v:singlequote}", ["a", "it's"], "'a','it\\'s'"),
        ("${v:singlequote}", "a", "'a'"),
        ("${v:sqlstring}", ["a", "it's"], "'a','it''s'"),
        ("${v:csv}", ["a", "b"], "a,b"),
        ("${v:doublequote}", ["a"], '"a"'),
        ("${v:pipe}", ["a", "b"], "a|b"),
        ("${v:raw}", ["a", "b"], "a,b"),
        ("[[v:csv]]", ["a", "b"], "a,b"),
    ],
)
def test_variable_formats(sql: str, value: VariableValue, expected: str) -> None:
    assert expand(sql, {"v": value}) == expected


def test_all_expands_to_every_option_without_a_custom_all_value() -> None:
    options = {"browser": ["Chrome", "Firefox"]}
    for selection in (ALL, [ALL]):
        assert expand("b IN ($browser)", {"browser": selection}, options) == (
            "b IN ('Chrome','Firefox')"
        )
    assert expand("b IN (${browser:sqlstring})", {"browser": ALL}, options) == (
        "b IN ('Chrome','Firefox')"
    )


def test_custom_all_value_is_inserted_unformatted() -> None:
    assert expand("r LIKE '${route:sqlstring}'", {"route": ALL}, {"route": "%"}) == "r LIKE '%'"


def test_all_without_known_options_is_an_error() -> None:
    with pytest.raises(MacroError, match=r"\$b is set to All"):
        expand("$b", {"b": ALL})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ALL, "WHERE 1=1 AND x"),
        ([ALL], "WHERE 1=1 AND x"),
        ([], "WHERE 1=1 AND x"),
        (["Chrome"], "WHERE browser IN ('Chrome') AND x"),
        (["Chrome", "Edge"], "WHERE browser IN ('Chrome','Edge') AND x"),
    ],
)
def test_conditional_all(value: VariableValue, expected: str) -> None:
    sql = "WHERE $__conditionalAll(browser IN (${browser:singlequote}), $browser) AND x"
    assert expand(sql, {"browser": value}, {"browser": ["Chrome", "Edge"]}) == expected


def test_several_conditional_alls() -> None:
    sql = "$__conditionalAll(a IN ($a), $a) AND $__conditionalAll(b = '$b', $b)"
    assert expand(sql, {"a": ALL, "b": "x"}, {"a": ["1"]}) == "1=1 AND b = 'x'"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("$__timeFilter()", r"\$__timeFilter: expected 1 argument"),
        ("$__timeFilter(a, b)", r"\$__timeFilter: expected 1 argument, received 2"),
        ("$__dateTimeFilter(a)", r"expected 2 arguments, received 1"),
        ("$__timeFilter(ts", "unbalanced parentheses"),
        ("$__nope(ts)", r"unknown macro \$__nope"),
        ("$missing", r"unknown variable \$missing"),
        ("${v:nope}", "unknown variable format 'nope'"),
        ("$__conditionalAll(a)", "expects 2 arguments, got 1"),
    ],
)
def test_misuse_is_reported(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message):
        expand(sql, {"v": "x"})
