"""Expand Grafana ClickHouse-datasource macros and dashboard variables the way Grafana does,
so every panel and alert query can be executed in tests without a Grafana server.

Grafana runs three passes, in this order, and so do we:

1. `$__conditionalAll(cond, $var)` — frontend, grafana/clickhouse-datasource
   `src/data/CHDatasource.ts` `applyConditionalAll()`: `cond` when the variable has a
   concrete selection, `1=1` when its value is `$__all` or empty.
2. Template variables — Grafana's `TemplateSrv.replace()` with the plugin's default formatter
   (`CHDatasource.ts` `format()`: an array becomes `'a','b'`, a single value goes in raw) and
   Grafana's named formats (`${var:csv}`, `${var:singlequote}`, `${var:sqlstring}`, ...;
   public/app/features/templating/formatRegistry.ts). Global variables `$__from`, `$__to`,
   `$__interval`, `$__interval_ms`, `$__range_s` are replaced here too.
3. Backend macros — grafana/clickhouse-datasource `pkg/macros/macros.go`, applied by
   grafana/sqlds `macros.go` (`\\$__name\\b` plus an optional parenthesised argument list,
   arguments split on commas and trimmed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALL = "$__all"
"""The value Grafana stores for a variable whose "All" option is selected."""

VariableValue = Sequence[str] | str


class MacroError(ValueError):
    """A query uses a macro or variable wrongly (argument count, unknown name or format)."""


@dataclass(frozen=True)
class _Range:
    time_from: datetime
    time_to: datetime
    interval_s: int


def expand_macros(
    sql: str,
    *,
    time_from: datetime,
    time_to: datetime,
    interval_s: int,
    variables: Mapping[str, VariableValue],
    all_values: Mapping[str, VariableValue] | None = None,
) -> str:
    """Return `sql` as the ClickHouse datasource would send it to ClickHouse.

    `variables` maps a dashboard variable's name to its current value: a `str` for a
    single-value variable, a sequence for a multi-value one, or `ALL` / `[ALL]` when "All" is
    selected. For "All", `all_values[name]` is what Grafana substitutes: a sequence of every
    option (no custom all value) or a `str` custom all value, inserted raw as Grafana does.
    """
    time_range = _Range(time_from.astimezone(UTC), time_to.astimezone(UTC), interval_s)
    sql = _apply_conditional_all(sql, variables)
    sql = _interpolate_variables(sql, time_range, variables, all_values or {})
    return _apply_backend_macros(sql, time_range)


# --- pass 1: $__conditionalAll -------------------------------------------------------------

_CONDITIONAL_ALL = "$__conditionalAll("


def _apply_conditional_all(sql: str, variables: Mapping[str, VariableValue]) -> str:
    # Like the plugin: innermost-last first (lastIndexOf), arguments split at depth-1 commas.
    index = sql.rfind(_CONDITIONAL_ALL)
    while index != -1:
        args, end = _macro_args(sql, index + len(_CONDITIONAL_ALL) - 1)
        if len(args) != 2:
            raise MacroError(f"$__conditionalAll expects 2 arguments, got {len(args)}")
        condition, variable = args[0], args[1].strip()
        name = variable.removeprefix("$").strip("{}")
        value = variables.get(name)
        phrase = "1=1" if value is not None and _is_all_or_empty(value) else condition
        sql = sql[:index] + phrase + sql[end:]
        index = sql.rfind(_CONDITIONAL_ALL)
    return sql


def _is_all_or_empty(value: VariableValue) -> bool:
    # The plugin tests `current.value.toString()`, so `[]` -> "" and `["$__all"]` -> "$__all".
    text = value if isinstance(value, str) else ",".join(value)
    return text in {"", ALL}


# --- pass 2: template variables -------------------------------------------------------------

# Grafana's variableRegex (public/app/features/variables/utils.ts): $var, [[var]], [[var:fmt]],
# ${var}, ${var:fmt}; a ${var.field} path is not supported here.
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)


def _singlequote(values: list[str]) -> str:
    return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)


def _doublequote(values: list[str]) -> str:
    return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)


def _sqlstring(values: list[str]) -> str:
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


# Grafana's formatRegistry.ts; each takes the value as a list (a single value is [value]).
_FORMATS: dict[str, Callable[[list[str]], str]] = {
    "raw": ",".join,
    "csv": ",".join,
    "pipe": "|".join,
    "singlequote": _singlequote,
    "doublequote": _doublequote,
    "sqlstring": _sqlstring,
    "json": lambda values: json.dumps(values if len(values) != 1 else values[0]),
}


def _interpolate_variables(
    sql: str,
    time_range: _Range,
    variables: Mapping[str, VariableValue],
    all_values: Mapping[str, VariableValue],
) -> str:
    globals_ = _global_variables(time_range)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if match.group(5):
            raise MacroError(f"variable field paths are not supported: {match.group(0)}")
        if name in globals_:
            return globals_[name]
        if name.startswith("__"):
            return match.group(0)  # a backend macro such as $__timeFilter: pass 3's job
        if name not in variables:
            raise MacroError(f"unknown variable ${name}")
        return _render(name, variables[name], fmt, all_values)

    return _VARIABLE.sub(replace, sql)


def _render(
    name: str, value: VariableValue, fmt: str | None, all_values: Mapping[str, VariableValue]
) -> str:
    if (value if isinstance(value, str) else list(value)) in (ALL, [ALL]):
        if name not in all_values:
            raise MacroError(f"${name} is set to All but its options are unknown")
        value = all_values[name]
        if isinstance(value, str):
            return value  # a custom all value is inserted unformatted (TemplateSrv.replace)
    if fmt is None:
        # The plugin's default formatter (CHDatasource.ts `format`).
        return value if isinstance(value, str) else _singlequote_unescaped(list(value))
    if fmt not in _FORMATS:
        raise MacroError(f"unknown variable format {fmt!r} in ${{{name}:{fmt}}}")
    return _FORMATS[fmt]([value] if isinstance(value, str) else list(value))


def _singlequote_unescaped(values: list[str]) -> str:
    # `'${value.join("','")}'`: the plugin quotes without escaping.
    return "'" + "','".join(values) + "'"


def _global_variables(time_range: _Range) -> dict[str, str]:
    # Grafana's built-in variables (docs: "Global variables"); $__from/$__to are epoch ms.
    from_ms = _epoch_ms(time_range.time_from)
    to_ms = _epoch_ms(time_range.time_to)
    interval_s = max(time_range.interval_s, 1)
    return {
        "__from": str(from_ms),
        "__to": str(to_ms),
        "__interval": _seconds_to_hms(interval_s),
        "__interval_ms": str(interval_s * 1000),
        "__range_s": str((to_ms - from_ms) // 1000),
    }


def _seconds_to_hms(seconds: int) -> str:
    # Grafana's rangeutil.secondsToHms: the largest whole unit.
    for unit, size in (("y", 31536000), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# --- pass 3: backend macros (pkg/macros/macros.go) ------------------------------------------


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _to_date(moment: datetime) -> str:
    return f"toDate('{moment:%Y-%m-%d}')"  # timeToDate


def _to_datetime(moment: datetime) -> str:
    return f"toDateTime({int(moment.timestamp())})"  # timeToDateTime: t.Unix()


def _to_datetime64(moment: datetime) -> str:
    return f"fromUnixTimestamp64Milli({_epoch_ms(moment)})"  # timeToDateTime64: t.UnixMilli()


def _range_filter(column: str, lower: str, upper: str) -> str:
    return f"{column} >= {lower} AND {column} <= {upper}"


def _one_arg(name: str, args: list[str]) -> str:
    if len(args) != 1 or not args[0]:
        raise MacroError(f"$__{name}: expected 1 argument, received {len(args)}")
    return args[0]


def _time_filter(r: _Range, args: list[str]) -> str:
    column = _one_arg("timeFilter", args)
    return _range_filter(column, _to_datetime(r.time_from), _to_datetime(r.time_to))


def _time_filter_ms(r: _Range, args: list[str]) -> str:
    column = _one_arg("timeFilter_ms", args)
    return _range_filter(column, _to_datetime64(r.time_from), _to_datetime64(r.time_to))


def _date_filter(r: _Range, args: list[str]) -> str:
    column = _one_arg("dateFilter", args)
    return _range_filter(column, _to_date(r.time_from), _to_date(r.time_to))


def _date_time_filter(r: _Range, args: list[str]) -> str:
    if len(args) != 2:
        raise MacroError(f"$__dateTimeFilter: expected 2 arguments, received {len(args)}")
    date_column, time_column = args
    dates = _range_filter(date_column, _to_date(r.time_from), _to_date(r.time_to))
    times = _range_filter(time_column, _to_datetime(r.time_from), _to_datetime(r.time_to))
    return f"({dates}) AND ({times})"


def _time_interval(r: _Range, args: list[str]) -> str:
    column = _one_arg("timeInterval", args)
    seconds = max(r.interval_s, 1)
    return f"toStartOfInterval(toDateTime({column}), INTERVAL {seconds} second)"


def _time_interval_ms(r: _Range, args: list[str]) -> str:
    column = _one_arg("timeInterval_ms", args)
    milliseconds = max(r.interval_s * 1000, 1)
    return f"toStartOfInterval(toDateTime64({column}, 3), INTERVAL {milliseconds} millisecond)"


_BACKEND_MACROS: dict[str, Callable[[_Range, list[str]], str]] = {
    "fromTime": lambda r, _: _to_datetime(r.time_from),
    "toTime": lambda r, _: _to_datetime(r.time_to),
    "fromTime_ms": lambda r, _: _to_datetime64(r.time_from),
    "toTime_ms": lambda r, _: _to_datetime64(r.time_to),
    "timeFilter": _time_filter,
    "timeFilter_ms": _time_filter_ms,
    "dateFilter": _date_filter,
    "dateTimeFilter": _date_time_filter,
    "dt": _date_time_filter,
    "timeInterval": _time_interval,
    "timeInterval_ms": _time_interval_ms,
    "interval_s": lambda r, _: str(max(r.interval_s, 1)),
}

# sqlds: `\$__name\b` then an optional argument list. Longest names first so that the
# alternation cannot stop at a prefix (`\b` already rejects `timeFilter` in `timeFilter_ms`).
_BACKEND_MACRO = re.compile(
    r"\$__(" + "|".join(sorted(_BACKEND_MACROS, key=len, reverse=True)) + r")\b"
)


def _apply_backend_macros(sql: str, time_range: _Range) -> str:
    parts: list[str] = []
    position = 0
    for match in _BACKEND_MACRO.finditer(sql):
        if match.start() < position:
            continue  # inside the argument list of a macro already replaced
        args: list[str] = []
        end = match.end()
        if sql.startswith("(", end):
            args, end = _macro_args(sql, end)
            args = [arg.strip() for arg in args]
        parts += [sql[position : match.start()], _BACKEND_MACROS[match.group(1)](time_range, args)]
        position = end
    parts.append(sql[position:])
    expanded = "".join(parts)
    if "$__" in expanded:
        leftover = re.search(r"\$__\w+", expanded)
        raise MacroError(f"unknown macro {leftover.group(0) if leftover else '$__'}")
    return expanded


def _macro_args(sql: str, open_paren: int) -> tuple[list[str], int]:
    """Split the argument list opening at `sql[open_paren]` on its top-level commas.

    Returns the raw arguments and the index just past the closing parenthesis.
    """
    args: list[str] = []
    depth = 0
    start = open_paren + 1
    for index in range(open_paren, len(sql)):
        char = sql[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:index])
                return args, index + 1
        elif char == "," and depth == 1:
            args.append(sql[start:index])
            start = index + 1
    raise MacroError(f"unbalanced parentheses after {sql[:open_paren][-30:]!r}")
