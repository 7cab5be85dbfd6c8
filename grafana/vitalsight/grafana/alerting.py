"""Load and validate the alerting provisioning files in `alert-rules/`.

`validate()` checks, in order, and reports every problem as `FILE:LINE: message`:
the schema (alert_schema.py), references (rule uids unique, `condition` and expression inputs
name a refId, datasource uids known, policy receivers defined, no unescaped `$` in labels,
which Grafana would replace with an environment variable), then, given a ClickHouse client,
every rule query: macros expanded as the datasource plugin does, run, and its result shaped
as Grafana alerting needs (string label columns and exactly one numeric value column).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from vitalsight.grafana.alert_schema import PROVISIONING_FILE_SCHEMA
from vitalsight.grafana.macros import MacroError, expand_macros
from vitalsight.grafana.uids import DATASOURCE_UID
from vitalsight.grafana.yaml_lines import LocatedDocument, PathKey, YamlSyntaxError, load_located

EXPRESSION_UID = "__expr__"
"""Grafana's pseudo datasource for server-side expressions (reduce, threshold, math)."""
RULES_DIR_ENV = "VITALSIGHT_ALERT_RULES_DIR"  # where an installed package finds alert-rules/
DEFAULT_RULES_DIR = Path(__file__).resolve().parents[3] / "alert-rules"
DEFAULT_INTERVAL_S = 60
_UNESCAPED_DOLLAR = re.compile(r"(?<!\$)\$(?!\$)")
_NUMERIC_TYPE = re.compile(r"^(Nullable\()?(U?Int\d+|Float\d+|Decimal.*)\)?$")
_LABEL_TYPE = re.compile(r"^(LowCardinality\()?(Nullable\()?(String|FixedString.*)\)*$")


@dataclass(frozen=True, order=True)
class Issue:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class SqlQuery:
    """One datasource query of a rule, where it is in its file."""

    document: LocatedDocument
    key: PathKey  # path to the data item
    rule_uid: str
    ref_id: str
    raw_sql: str
    time_range_s: tuple[int, int]  # relativeTimeRange (from, to), seconds before now
    interval_s: int

    @property
    def line(self) -> int:
        return self.document.line_of((*self.key, "model", "rawSql"))


@dataclass
class AlertingFiles:
    documents: list[LocatedDocument] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def rules(self) -> Iterator[tuple[LocatedDocument, PathKey, dict[str, Any], dict[str, Any]]]:
        """(document, path, group, rule) for every rule."""
        for doc in self.documents:
            for g, group in enumerate(_list(doc.data, "groups")):
                for r, rule in enumerate(_list(group, "rules")):
                    yield doc, ("groups", g, "rules", r), group, rule

    def sql_queries(self) -> Iterator[SqlQuery]:
        for doc, key, _, rule in self.rules():
            for d, item in enumerate(_list(rule, "data")):
                model = item.get("model", {})
                if item.get("datasourceUid") == EXPRESSION_UID or "rawSql" not in model:
                    continue
                window = item.get("relativeTimeRange", {"from": 600, "to": 0})
                interval_ms = int(model.get("intervalMs", DEFAULT_INTERVAL_S * 1000))
                yield SqlQuery(
                    doc,
                    (*key, "data", d),
                    str(rule.get("uid")),
                    str(item.get("refId")),
                    str(model["rawSql"]),
                    (int(window["from"]), int(window["to"])),
                    max(interval_ms // 1000, 1),
                )


def _list(container: Any, name: str) -> list[Any]:
    value = container.get(name) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def rule_files(paths: Sequence[Path] = ()) -> list[Path]:
    """The YAML files named, or found in the directories named (default: alert-rules/)."""
    found: list[Path] = []
    default = Path(os.environ.get(RULES_DIR_ENV, DEFAULT_RULES_DIR))
    for path in paths or [default]:
        found += sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    return found


def load(paths: Sequence[Path] = ()) -> AlertingFiles:
    files = AlertingFiles()
    for path in rule_files(paths):
        try:
            files.documents.append(load_located(path))
        except YamlSyntaxError as exc:
            files.issues.append(Issue(exc.path, exc.line, exc.message))
    return files


def validate(
    files: AlertingFiles, client: Any | None = None, *, now: datetime | None = None
) -> list[Issue]:
    """Every problem in `files`; with a ClickHouse `client`, rule queries are run too."""
    issues = list(files.issues)
    for doc in files.documents:
        issues += _schema_issues(doc)
    if issues:
        return sorted(issues)  # references and SQL are only meaningful on well-formed files
    issues += _reference_issues(files)
    if client is not None:
        moment = now or datetime.now(UTC)
        for query in files.sql_queries():
            issues += _sql_issues(query, client, moment)
    return sorted(issues)


def _schema_issues(doc: LocatedDocument) -> list[Issue]:
    validator = Draft202012Validator(PROVISIONING_FILE_SCHEMA)
    issues = []
    for error in validator.iter_errors(doc.data):
        key = tuple(error.absolute_path)
        where = ".".join(str(part) for part in key) or "(file)"
        issues.append(Issue(doc.path, doc.line_of(key), f"{where}: {error.message}"))
    return issues


def _reference_issues(files: AlertingFiles) -> list[Issue]:
    issues: list[Issue] = []
    seen_uids: dict[str, Issue] = {}
    for doc, key, _, rule in files.rules():
        uid = rule["uid"]
        here = Issue(doc.path, doc.line_of((*key, "uid")), "")
        if uid in seen_uids:
            first = seen_uids[uid]
            issues.append(_at(here, f"rule uid {uid!r} is also used at {first.path}:{first.line}"))
        seen_uids.setdefault(uid, here)
        issues += _rule_reference_issues(doc, key, rule)
    issues += _policy_issues(files)
    return issues


def _at(issue: Issue, message: str) -> Issue:
    return Issue(issue.path, issue.line, message)


def _rule_reference_issues(doc: LocatedDocument, key: PathKey, rule: dict[str, Any]) -> list[Issue]:
    issues = []
    ref_ids = [item["refId"] for item in rule["data"]]
    if rule["condition"] not in ref_ids:
        line = doc.line_of((*key, "condition"))
        issues.append(
            Issue(
                doc.path,
                line,
                f"condition {rule['condition']!r} is not a refId of this rule {ref_ids}",
            )
        )
    for d, item in enumerate(rule["data"]):
        item_key = (*key, "data", d)
        source = item["datasourceUid"]
        if source not in {DATASOURCE_UID, EXPRESSION_UID}:
            line = doc.line_of((*item_key, "datasourceUid"))
            issues.append(
                Issue(
                    doc.path,
                    line,
                    f"unknown datasource uid {source!r} "
                    f"(expected {DATASOURCE_UID!r} or {EXPRESSION_UID!r})",
                )
            )
        model = item["model"]
        model_source = (
            model.get("datasource", {}).get("uid")
            if isinstance(model.get("datasource"), dict)
            else None
        )
        if model_source is not None and model_source != source:
            line = doc.line_of((*item_key, "model", "datasource", "uid"))
            issues.append(
                Issue(
                    doc.path,
                    line,
                    f"model.datasource.uid {model_source!r} differs from datasourceUid {source!r}",
                )
            )
        if model.get("refId") != item["refId"]:
            line = doc.line_of((*item_key, "model", "refId"))
            issues.append(
                Issue(
                    doc.path,
                    line,
                    f"model.refId {model.get('refId')!r} differs from refId {item['refId']!r}",
                )
            )
        if source == EXPRESSION_UID:
            expression = model.get("expression")
            inputs = (
                re.findall(r"\$\{?(\w+)", expression)
                if model.get("type") == "math"
                else [expression]
            )
            for name in inputs:
                if name not in ref_ids:
                    line = doc.line_of((*item_key, "model", "expression"))
                    issues.append(
                        Issue(
                            doc.path,
                            line,
                            f"expression input {name!r} is not a refId of this rule {ref_ids}",
                        )
                    )
        elif not str(model.get("rawSql", "")).strip():
            issues.append(
                Issue(
                    doc.path, doc.line_of((*item_key, "model")), "model.rawSql is missing or empty"
                )
            )
    for name, value in rule.get("labels", {}).items():
        if _UNESCAPED_DOLLAR.search(value):
            line = doc.line_of((*key, "labels", name))
            issues.append(
                Issue(
                    doc.path,
                    line,
                    f"label {name!r} contains '$', which Grafana's file provisioning "
                    "replaces with an environment variable; write '$$'",
                )
            )
    return issues


def _policy_issues(files: AlertingFiles) -> list[Issue]:
    receivers = {
        point["name"] for doc in files.documents for point in _list(doc.data, "contactPoints")
    }
    issues = []
    for doc in files.documents:
        for p, policy in enumerate(_list(doc.data, "policies")):
            for key, route in _routes(policy, ("policies", p)):
                if "receiver" in route and route["receiver"] not in receivers:
                    line = doc.line_of((*key, "receiver"))
                    issues.append(
                        Issue(
                            doc.path,
                            line,
                            f"receiver {route['receiver']!r} is not a contact point "
                            f"in these files {sorted(receivers)}",
                        )
                    )
    return issues


def _routes(route: dict[str, Any], key: PathKey) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    yield key, route
    for r, child in enumerate(route.get("routes", [])):
        yield from _routes(child, (*key, "routes", r))


def expand_rule_sql(query: SqlQuery, now: datetime) -> str:
    """The rule's SQL as Grafana's ClickHouse datasource sends it when evaluated at `now`."""
    before_from, before_to = query.time_range_s
    return expand_macros(
        query.raw_sql,
        time_from=now - timedelta(seconds=before_from),
        time_to=now - timedelta(seconds=before_to),
        interval_s=query.interval_s,
        variables={},
    )


def _sql_issues(query: SqlQuery, client: Any, now: datetime) -> list[Issue]:
    where = f"rule {query.rule_uid} query {query.ref_id}"
    try:
        result = client.query(expand_rule_sql(query, now))
    except MacroError as exc:
        return [Issue(query.document.path, query.line, f"{where}: {exc}")]
    except Exception as exc:  # any server error is a finding, not a crash
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Issue(query.document.path, query.line, f"{where} failed: {first_line}")]
    problem = result_shape_problem(result.column_names, [t.name for t in result.column_types])
    return [Issue(query.document.path, query.line, f"{where}: {problem}")] if problem else []


def result_shape_problem(names: Sequence[str], types: Sequence[str]) -> str | None:
    """Grafana alerting turns a table into one series per row only when every column but
    one is a string (the labels) and that one is numeric (the value)."""
    numeric = [n for n, t in zip(names, types, strict=True) if _NUMERIC_TYPE.match(t)]
    other = [
        f"{n} {t}"
        for n, t in zip(names, types, strict=True)
        if not _NUMERIC_TYPE.match(t) and not _LABEL_TYPE.match(t)
    ]
    if len(numeric) != 1:
        return f"needs exactly one numeric column for alerting, got {numeric or 'none'}"
    if other:
        return f"columns other than the value must be strings (labels): {', '.join(other)}"
    return None


@dataclass(frozen=True)
class Firing:
    rule_uid: str
    labels: dict[str, str]
    value: float


def evaluate(files: AlertingFiles, client: Any, *, now: datetime | None = None) -> list[Firing]:
    """Which alert instances would fire at `now`: each rule's query run, then its reduce and
    threshold expressions applied to each row (one number per row, so reducers keep it)."""
    moment = now or datetime.now(UTC)
    firing: list[Firing] = []
    queries = {(q.rule_uid, q.ref_id): q for q in files.sql_queries()}
    for _, _, _, rule in files.rules():
        for labels, value in _condition_rows(rule, queries, client, moment):
            firing.append(Firing(rule["uid"], labels, value))
    return firing


def _condition_rows(
    rule: dict[str, Any], queries: dict[tuple[str, str], SqlQuery], client: Any, now: datetime
) -> Iterable[tuple[dict[str, str], float]]:
    models = {item["refId"]: item["model"] for item in rule["data"]}
    chain: list[dict[str, Any]] = []
    ref = rule["condition"]
    while (rule["uid"], ref) not in queries:
        chain.insert(0, models[ref])
        ref = models[ref]["expression"]
    result = client.query(expand_rule_sql(queries[(rule["uid"], ref)], now))
    for row in result.result_rows:
        labels = {
            n: str(v) for n, v in zip(result.column_names, row, strict=True) if isinstance(v, str)
        }
        value = next(float(v) for v in row if not isinstance(v, str))
        if all(_passes(model, value) for model in chain):
            yield labels, value


def _passes(model: dict[str, Any], value: float) -> bool:
    if model.get("type") != "threshold":
        return True  # reduce over a single number returns it
    evaluator = model["conditions"][0]["evaluator"]
    params = [float(p) for p in evaluator["params"]]
    kind = evaluator["type"]
    checks = {
        "gt": lambda: value > params[0],
        "lt": lambda: value < params[0],
        "within_range": lambda: params[0] < value < params[1],
        "outside_range": lambda: value < params[0] or value > params[1],
        "within_range_included": lambda: params[0] <= value <= params[1],
        "outside_range_included": lambda: value <= params[0] or value >= params[1],
    }
    return bool(checks[kind]())
