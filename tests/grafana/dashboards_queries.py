"""Running a built dashboard's queries as Grafana would: variables resolved first, then
macros and variables expanded (`vitalsight.grafana.macros`) and the SQL sent through
clickhouse-connect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vitalsight.grafana.dashboards.extract import (
    PanelQuery,
    all_queries,
    panel_queries,
    variable_queries,
)
from vitalsight.grafana.macros import ALL, VariableValue, expand_macros


def default_variables(model: Mapping[str, Any]) -> dict[str, VariableValue]:
    """Each variable at its dashboard default: "All" for the filters, the first custom
    value, an empty text box, and the first option of a query variable without one
    (left to the caller, as it needs the data: see `with_query_defaults`)."""
    values: dict[str, VariableValue] = {}
    for variable in model.get("templating", {}).get("list", []):
        current = variable.get("current") or {}
        value = current.get("value")
        if variable["type"] == "textbox":
            values[variable["name"]] = variable.get("query", "")
        elif value is not None:
            values[variable["name"]] = value
    return values


def expand(
    query: PanelQuery,
    *,
    time_from: datetime,
    time_to: datetime,
    interval_s: int,
    variables: Mapping[str, VariableValue],
    all_values: Mapping[str, VariableValue] | None = None,
) -> str:
    return expand_macros(
        query.raw_sql,
        time_from=time_from,
        time_to=time_to,
        interval_s=interval_s,
        variables=variables,
        all_values=all_values,
    )


class DashboardRunner:
    """Runs a dashboard's queries as Grafana would for one time range: query variables are
    resolved first, in order (their options are what "All" stands for; one without a
    current value takes its first option), then panels are expanded with the current
    values and sent through clickhouse-connect. `initial` sets values before resolution,
    as a URL's `var-…` parameters do."""

    def __init__(
        self,
        client: Any,
        stem: str,
        model: Mapping[str, Any],
        *,
        time_from: datetime,
        time_to: datetime,
        interval_s: int,
        **initial: VariableValue,
    ) -> None:
        self.client = client
        self.stem = stem
        self.model = model
        self.time_from, self.time_to, self.interval_s = time_from, time_to, interval_s
        self.variables = {**default_variables(model), **initial}
        self.options: dict[str, list[str]] = {}
        for query in variable_queries(stem, model):
            name = query.title.removeprefix("$")
            values = [str(row[0]) for row in self.run(query)]
            self.options[name] = values
            if name not in self.variables and values:
                self.variables[name] = values[0]  # Grafana selects the first option

    def expanded(self, query: PanelQuery, **overrides: VariableValue) -> str:
        return expand(
            query,
            time_from=self.time_from,
            time_to=self.time_to,
            interval_s=self.interval_s,
            variables={**self.variables, **overrides},
            all_values=self.options,
        )

    def run(self, query: PanelQuery, **overrides: VariableValue) -> list[tuple[Any, ...]]:
        result = self.client.query(self.expanded(query, **overrides))
        return [tuple(row) for row in result.result_rows]

    def panel(self, title: str) -> PanelQuery:
        matches = [q for q in panel_queries(self.stem, self.model) if q.title == title]
        assert len(matches) == 1, f"{self.stem} has no single panel {title!r}"
        return matches[0]

    def records(self, title: str, **overrides: VariableValue) -> list[dict[str, Any]]:
        """A panel's rows as column → value."""
        result = self.client.query(self.expanded(self.panel(title), **overrides))
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


__all__ = ["ALL", "DashboardRunner", "PanelQuery", "all_queries", "default_variables", "expand"]
