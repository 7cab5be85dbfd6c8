"""The grafana-clickhouse-datasource query model, typed for the foundation SDK.

The SDK ships no ClickHouse query builder, so this is the plugin's SQL-editor query
(`CHSqlQuery` in the plugin's src/types/sql.ts) as a `Dataquery` variant, registered so
`Dashboard.from_json` reads our targets back into this class.
"""

from __future__ import annotations

import enum
from typing import Any, Self

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

from vitalsight.grafana.dashboards.datasource import DATASOURCE
from vitalsight.grafana.uids import DATASOURCE_TYPE

# The plugin version the query model was written against (Grafana 11.6 era).
PLUGIN_VERSION = "4.8.2"


class QueryFormat(enum.IntEnum):
    """How the plugin shapes the result (the backend's `format` option)."""

    TIME_SERIES = 0
    TABLE = 1
    LOGS = 2
    TRACE = 3


class QueryType(enum.StrEnum):
    """The plugin's display/query flavour; it must agree with the format."""

    TABLE = "table"
    TIME_SERIES = "timeSeries"  # sic: the plugin's QueryType.TimeSeries
    LOGS = "logs"
    TRACES = "traces"


_QUERY_TYPE = {
    QueryFormat.TIME_SERIES: QueryType.TIME_SERIES,
    QueryFormat.TABLE: QueryType.TABLE,
    QueryFormat.LOGS: QueryType.LOGS,
    QueryFormat.TRACE: QueryType.TRACES,
}


class ClickHouseQuery(cogvariants.Dataquery):
    """One SQL-editor query of the ClickHouse datasource."""

    def __init__(
        self,
        *,
        raw_sql: str = "",
        format_val: QueryFormat = QueryFormat.TABLE,
        ref_id: str = "A",
        datasource: dashboard.DataSourceRef | None = None,
        hide: bool | None = None,
    ) -> None:
        self.raw_sql = raw_sql
        self.format_val = format_val
        self.ref_id = ref_id
        self.datasource = datasource if datasource is not None else DATASOURCE
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": self.datasource,
            "editorType": "sql",
            "format": int(self.format_val),
            "pluginVersion": PLUGIN_VERSION,
            "queryType": str(_QUERY_TYPE[self.format_val]),
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        source = data.get("datasource")
        return cls(
            raw_sql=str(data.get("rawSql", "")),
            format_val=QueryFormat(int(data.get("format", QueryFormat.TABLE))),
            ref_id=str(data.get("refId", "A")),
            datasource=dashboard.DataSourceRef.from_json(source) if source else None,
            hide=data.get("hide"),
        )


class SqlQuery(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builder for panel targets: `SqlQuery(sql).time_series()`."""

    def __init__(self, raw_sql: str, *, ref_id: str = "A") -> None:
        self._internal = ClickHouseQuery(raw_sql=raw_sql, ref_id=ref_id)

    def build(self) -> ClickHouseQuery:
        return self._internal

    def time_series(self) -> Self:
        self._internal.format_val = QueryFormat.TIME_SERIES
        return self

    def table(self) -> Self:
        self._internal.format_val = QueryFormat.TABLE
        return self

    def traces(self) -> Self:
        self._internal.format_val = QueryFormat.TRACE
        return self


class ClickHouseAnnotationTarget(dashboard.AnnotationTarget):
    """A datasource annotation's query: Grafana reads it from `annotation.target`, which
    the SDK types as the built-in datasource's target, so the SQL query rides on a
    subclass."""

    def __init__(self, raw_sql: str) -> None:
        super().__init__()
        self.query = ClickHouseQuery(raw_sql=raw_sql, ref_id="Anno")

    def to_json(self) -> dict[str, object]:
        return self.query.to_json()


class AnnotationSqlQuery(dashboard_builder.AnnotationTarget):
    """Builder for an annotation's SQL query (`AnnotationQuery().target(...)`)."""

    def __init__(self, raw_sql: str) -> None:
        super().__init__()
        self._internal = ClickHouseAnnotationTarget(raw_sql)


def register() -> None:
    """Let `Dashboard.from_json` decode ClickHouse targets into `ClickHouseQuery`."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(
            identifier=DATASOURCE_TYPE, from_json_hook=ClickHouseQuery.from_json
        )
    )
