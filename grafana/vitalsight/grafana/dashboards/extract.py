"""The ClickHouse queries of a built dashboard model (panels, query variables,
annotations), so tests and the benchmark execute exactly what Grafana would send."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vitalsight.grafana.uids import DATASOURCE_TYPE


@dataclass(frozen=True)
class PanelQuery:
    """One ClickHouse query of a dashboard: a panel target, a variable or an annotation."""

    dashboard: str
    title: str
    kind: str  # "panel", "variable" or "annotation"
    raw_sql: str
    format: int = 1

    @property
    def name(self) -> str:
        return f"{self.dashboard}: {self.title}"


def _is_clickhouse(thing: Mapping[str, Any]) -> bool:
    source = thing.get("datasource") or {}
    return bool(source.get("type") == DATASOURCE_TYPE)


def panel_queries(stem: str, model: Mapping[str, Any]) -> Iterator[PanelQuery]:
    for panel in model.get("panels", []):
        for target in panel.get("targets", []):
            if _is_clickhouse(target):
                yield PanelQuery(
                    stem, panel["title"], "panel", target["rawSql"], int(target["format"])
                )


def variable_queries(stem: str, model: Mapping[str, Any]) -> Iterator[PanelQuery]:
    for variable in model.get("templating", {}).get("list", []):
        if variable["type"] == "query" and _is_clickhouse(variable):
            yield PanelQuery(stem, f"${variable['name']}", "variable", variable["query"])


def annotation_queries(stem: str, model: Mapping[str, Any]) -> Iterator[PanelQuery]:
    for annotation in model.get("annotations", {}).get("list", []):
        if _is_clickhouse(annotation):
            target = annotation["target"]
            yield PanelQuery(stem, annotation["name"], "annotation", target["rawSql"])


def all_queries(dashboards: Mapping[str, Mapping[str, Any]]) -> list[PanelQuery]:
    queries: list[PanelQuery] = []
    for stem, model in dashboards.items():
        queries += variable_queries(stem, model)
        queries += panel_queries(stem, model)
        queries += annotation_queries(stem, model)
    return queries
