"""The dashboards as built: the committed JSON is a fresh build, the models are in the
foundation SDK's normal form, every query reads our datasource with the filters applied,
and every drill-down link leads to a dashboard that has the variables it sets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from tests.grafana.dashboards_queries import all_queries
from vitalsight.grafana.dashboards import all_dashboards, dashboard_json, sdk_normal_form
from vitalsight.grafana.dashboards.query import ClickHouseQuery
from vitalsight.grafana.dashboards.sql import FILTER_VARIABLES
from vitalsight.grafana.uids import DASHBOARD_UIDS, DATASOURCE_TYPE, DATASOURCE_UID

COMMITTED = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
DASHBOARDS = all_dashboards()
UID_TO_STEM = {uid: stem for stem, uid in DASHBOARD_UIDS.items()}

# Panels that read raw fact rows on every range, each because no rollup has what it needs.
# Others read raw facts only on short ranges or with filters the hourly and daily rollups
# lack (`sql.rollup_source`), which shows as a query reading those rollups too.
RAW_READERS = {
    ("errors", "Occurrences (selected fingerprint, or all)"),  # stacks, sessions, traces
    ("sessions", "Recent sessions (last hour of the range)"),  # session ids
    ("sessions", "Session timeline"),
}
_COARSE_TABLE = re.compile(r"\brum_(vitals|requests|resources)(_series)?_1h\b")
_RAW_TABLE = re.compile(r"\brum_(vitals|page_views|requests|errors|resources)\b(?!_1[mhd])")
_VARIABLE_USE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(?!__)(\w+)")


def _variables(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in model["templating"]["list"]}


def _links(model: dict[str, Any]) -> list[str]:
    urls = []
    for panel in model["panels"]:
        config = panel.get("fieldConfig", {})
        urls += [link["url"] for link in config.get("defaults", {}).get("links", [])]
        for override in config.get("overrides", []):
            for prop in override["properties"]:
                if prop["id"] == "links":
                    urls += [link["url"] for link in prop["value"]]
    return urls


def test_one_dashboard_per_uid() -> None:
    assert set(DASHBOARDS) == set(DASHBOARD_UIDS)
    for stem, model in DASHBOARDS.items():
        assert model["uid"] == DASHBOARD_UIDS[stem]
        assert "vitalsight" in model["tags"]
        ids = [panel["id"] for panel in model["panels"]]
        assert len(ids) == len(set(ids)), stem


@pytest.mark.parametrize("stem", sorted(DASHBOARD_UIDS))
def test_committed_json_is_a_fresh_build(stem: str) -> None:
    committed = (COMMITTED / f"{stem}.json").read_text(encoding="utf-8")
    assert committed == dashboard_json(DASHBOARDS[stem]), (
        "regenerate: python -m vitalsight.grafana.dashboards grafana/dashboards"
    )


def test_the_module_writes_every_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "vitalsight.grafana.dashboards", str(tmp_path)], check=True
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s}.json" for s in DASHBOARDS)
    assert (tmp_path / "errors.json").read_text() == dashboard_json(DASHBOARDS["errors"])


@pytest.mark.parametrize("stem", sorted(DASHBOARD_UIDS))
def test_models_are_in_the_sdk_normal_form(stem: str) -> None:
    model = DASHBOARDS[stem]
    assert sdk_normal_form(model) == model
    for annotation in model["annotations"].get("list", []):
        if annotation.get("datasource", {}).get("type") == DATASOURCE_TYPE:
            target = annotation["target"]  # typed by our query model instead
            decoded = ClickHouseQuery.from_json(target)
            assert json.loads(json.dumps(decoded, cls=JSONEncoder)) == target


def test_every_query_is_a_clickhouse_sql_query_on_our_datasource() -> None:
    for stem, model in DASHBOARDS.items():
        for panel in model["panels"]:
            if panel["type"] in {"alertlist", "row"}:
                continue
            assert panel["targets"], (stem, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
                assert target["editorType"] == "sql"
                expected = {"traces": 3, "heatmap": 0, "timeseries": 0}.get(panel["type"], 1)
                assert target["format"] == expected, (stem, panel["title"])
                # the plugin's QueryType values (src/types/sql.ts)
                assert target["queryType"] == {0: "timeSeries", 1: "table", 3: "traces"}[expected]


def test_filter_variables_are_multi_select_with_all() -> None:
    for stem, model in DASHBOARDS.items():
        variables = _variables(model)
        expected = {
            "ai_insights": {"app", "environment"},
            "release_comparison": set(FILTER_VARIABLES) - {"release"},
        }.get(stem, set(FILTER_VARIABLES))
        assert expected <= set(variables), stem
        for name in expected:
            assert variables[name]["multi"] and variables[name]["includeAll"], (stem, name)
            assert variables[name]["current"]["value"] == ["$__all"]


def test_every_fact_query_applies_every_filter_of_its_dashboard() -> None:
    checked = 0
    for query in all_queries(DASHBOARDS):
        if query.kind != "panel" or "rum_insights" in query.raw_sql:
            continue
        if "session_id = ${session_id" in query.raw_sql or "otel_traces" in query.raw_sql:
            continue  # a selected session or trace is shown whole
        variables = _variables(DASHBOARDS[query.dashboard])
        for name in FILTER_VARIABLES:
            if variables.get(name, {}).get("includeAll"):  # Release comparison: single release
                assert f"$__conditionalAll({name} IN (${{{name}:singlequote}}), ${name})" in (
                    query.raw_sql
                ), (query.name, name)
        checked += 1
    assert checked > 30


def test_raw_facts_are_read_only_where_the_rollups_cannot_answer() -> None:
    readers = {
        (q.dashboard, q.title)
        for q in all_queries(DASHBOARDS)
        if q.kind == "panel"
        and _RAW_TABLE.search(q.raw_sql)
        and not _COARSE_TABLE.search(q.raw_sql)
    }
    assert readers == RAW_READERS


def test_queries_use_only_variables_their_dashboard_defines() -> None:
    for query in all_queries(DASHBOARDS):
        defined = set(_variables(DASHBOARDS[query.dashboard]))
        used = {a or b for a, b in _VARIABLE_USE.findall(query.raw_sql)}
        assert used <= defined, (query.name, used - defined)


def test_drill_down_links_carry_the_filters_and_set_existing_variables() -> None:
    checked = 0
    for stem, model in DASHBOARDS.items():
        own = set(_variables(model))
        for url in _links(model):
            if not url.startswith("/d/"):
                assert url == "${__data.fields.dashboard_url}", url
                continue
            uid, query = url.removeprefix("/d/").split("?", 1)
            target_vars = set(_variables(DASHBOARDS[UID_TO_STEM[uid]]))
            params = query.split("&")
            assert params[0] == "${__url_time_range}", url
            carried = {p[2:].split(":")[0] for p in params if p.startswith("${") and p != params[0]}
            pinned = dict(parse_qsl("&".join(p for p in params if p.startswith("var-"))))
            assert carried <= own, (stem, url)  # nothing undefined is interpolated
            assert {name.removeprefix("var-") for name in pinned} <= target_vars, (stem, url)
            # every filter the source and target share travels, carried or pinned
            shared = own & target_vars & set(FILTER_VARIABLES)
            assert shared <= carried | {n.removeprefix("var-") for n in pinned}, (stem, url)
            checked += 1
    assert checked >= 20
