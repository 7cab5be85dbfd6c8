"""The alert rules in alert-rules/: every rule query, expanded as Grafana's ClickHouse
datasource expands it, runs through the query endpoint of a real `vitalsight serve` seeded
with `vitalsight demo`, and each rule fires on what the demo plants (and not elsewhere).
Validation errors point at FILE:LINE."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from tests.serve_process import QUERY_PASSWORD, QUERY_USER, ServeProcess
from vitalsight.grafana import alerting
from vitalsight.grafana.cli import alerts
from vitalsight.insights.card import INSIGHT_EVENT_NAME, IncidentCard, Kind, Status
from vitalsight.processors.otlp_records import set_str
from vitalsight.service.demo import REGRESSION, generate_demo
from vitalsight.service.demo_send import encode_request

MINUTES = 30
SESSIONS_PER_MINUTE = 15
SEED = 5


def _post(server: ServeProcess, path: str, body: bytes) -> None:
    request = urllib.request.Request(
        server.http_url + path,
        data=body,
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def _seed_baseline(server: ServeProcess, days_ago: int) -> None:
    """The same demo traffic `days_ago` days earlier, without the regressing release: the
    baseline the regression rule compares today's hour with."""
    start_ns = time.time_ns() - (days_ago * 86400 + MINUTES * 60) * 10**9
    for request in generate_demo(
        seed=SEED,
        minutes=MINUTES,
        sessions_per_minute=SESSIONS_PER_MINUTE,
        start_ns=start_ns,
        sessions_per_request=50,
    ):
        resources = getattr(request, "resource_logs", None) or request.resource_spans
        keep = [r for r in resources if _release(r.resource) != REGRESSION.release]
        del resources[:]
        resources.extend(keep)
        if keep:
            _post(server, *encode_request(request))


def _release(resource: Any) -> str:
    return next(
        (a.value.string_value for a in resource.attributes if a.key == "service.version"), ""
    )


def _card(card_id: str, status: Status, confidence: float) -> IncidentCard:
    now = datetime.now(UTC)
    return IncidentCard(
        id=card_id,
        status=status,
        opened_at=now - timedelta(minutes=5),
        updated_at=now,
        app="shop-web",
        kind=Kind.ANOMALY,
        metric="INP",
        route="/cart",
        baseline_value=180,
        current_value=320,
        change_pct=77.8,
        confidence=confidence,
    )


def _send_card(server: ServeProcess, card: IncidentCard) -> None:
    """A card as the insight service publishes it: one OTLP log record."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    set_str(resource_logs.resource.attributes, "service.name", "vitalsight-insights")
    record = resource_logs.scope_logs.add().log_records.add()
    record.time_unix_nano = time.time_ns()
    record.event_name = INSIGHT_EVENT_NAME
    for key, value in card.log_attributes().items():
        set_str(record.attributes, key, value)
    _post(server, "/v1/logs", gzip.compress(request.SerializeToString()))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("alerts") / "data").start()
    try:
        demo = [sys.executable, "-m", "vitalsight.service.cli", "demo", "--endpoint"]
        subprocess.run(
            [
                *demo,
                server.http_url,
                "--minutes",
                str(MINUTES),
                "--seed",
                str(SEED),
                "--sessions-per-minute",
                str(SESSIONS_PER_MINUTE),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        _seed_baseline(server, days_ago=1)
        _seed_baseline(server, days_ago=7)
        _send_card(server, _card("card-open", Status.OPEN, 0.8))
        _send_card(server, _card("card-resolved", Status.RESOLVED, 0.9))
        server.wait_for_count("rum_insights", 2)
        server.wait_for_count("rum_vitals_1m", 1, where="minute < now() - INTERVAL 6 DAY")
        time.sleep(1.5)  # the writer flushes each table on its own 1 s clock
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(seeded: ServeProcess) -> Iterator[Any]:
    opened = seeded.client()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def firing(client: Any) -> list[alerting.Firing]:
    return alerting.evaluate(alerting.load(), client)


def test_shipped_files_validate_and_every_query_runs(client: Any) -> None:
    files = alerting.load()
    assert alerting.validate(files, client) == []
    queries = list(files.sql_queries())
    assert {q.rule_uid for q in queries} == {
        "vitalsight-vital-regression",
        "vitalsight-error-rate-spike",
        "vitalsight-slow-endpoint",
        "vitalsight-insight-anomaly",
    }
    for query in queries:  # each returns rows on the seeded data, not just parses
        assert client.query(alerting.expand_rule_sql(query, datetime.now(UTC))).result_rows, query


def _fired(firing: list[alerting.Firing], uid: str) -> list[dict[str, str]]:
    return [f.labels for f in firing if f.rule_uid == uid]


def test_regression_rule_fires_for_the_planted_release_only(firing: list[alerting.Firing]) -> None:
    fired = _fired(firing, "vitalsight-vital-regression")
    assert {
        "app": REGRESSION.app,
        "route": REGRESSION.route,
        "vital": "LCP",
        "statistic": "p75",
    } in fired
    # docs-site has no 1.2.9: its hour equals yesterday's and last week's
    assert all(labels["app"] == REGRESSION.app for labels in fired)


def test_error_spike_rule_fires_where_the_new_error_appears(firing: list[alerting.Firing]) -> None:
    fired = _fired(firing, "vitalsight-error-rate-spike")
    assert {"app": REGRESSION.app, "route": REGRESSION.route} in fired


def test_slow_endpoint_rule_fires_for_the_slow_api(firing: list[alerting.Firing]) -> None:
    values = {
        f.labels["endpoint"]: f.value for f in firing if f.rule_uid == "vitalsight-slow-endpoint"
    }
    assert "/api/recommendations" in values
    assert all(value > 1000 for value in values.values())


def test_anomaly_rule_fires_for_open_cards_only(firing: list[alerting.Firing]) -> None:
    fired = _fired(firing, "vitalsight-insight-anomaly")
    assert [labels["id"] for labels in fired] == ["card-open"]
    assert fired[0]["kind"] == "anomaly" and fired[0]["route"] == "/cart"


def test_cli_validates_against_the_query_endpoint(seeded: ServeProcess) -> None:
    result = CliRunner().invoke(
        alerts,
        ["validate", "--url", seeded.query_url, "--user", QUERY_USER, "--password", QUERY_PASSWORD],
    )
    assert result.exit_code == 0, result.output
    assert "5 files, 4 rules: OK" in result.output


GOOD_SQL = "SELECT app, count() AS n FROM rum_vitals_1m WHERE $__timeFilter(minute) GROUP BY app"


def _rule_file(tmp_path: Path, sql: str = GOOD_SQL) -> Path:
    shipped = (alerting.DEFAULT_RULES_DIR / "insights.yaml").read_text(encoding="utf-8")
    start = shipped.index("              rawSql: |-")
    end = shipped.index("          - refId: B")
    body = "              rawSql: |-\n" + "".join(
        f"                {line}\n" for line in sql.splitlines()
    )
    path = tmp_path / "rules.yaml"
    path.write_text(shipped[:start] + body + shipped[end:], encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_query_that_fails_is_reported_at_its_rawsql_line(tmp_path: Path, client: Any) -> None:
    path = _rule_file(tmp_path, "SELECT app, count() AS n FROM no_such_table GROUP BY app")
    issues = alerting.validate(alerting.load([path]), client)
    assert len(issues) == 1
    assert str(issues[0]).startswith(
        f"{path}:{_line_of(path, 'rawSql:')}: rule vitalsight-insight-anomaly query A failed: "
    )
    assert "no_such_table" in issues[0].message


def test_a_result_alerting_cannot_use_is_reported(tmp_path: Path, client: Any) -> None:
    path = _rule_file(tmp_path, "SELECT count() AS n, sum(samples) AS s FROM rum_vitals_1m")
    (issue,) = alerting.validate(alerting.load([path]), client)
    assert issue.message == (
        "rule vitalsight-insight-anomaly query A: needs exactly one numeric column for "
        "alerting, got ['n', 's']"
    )


def test_a_good_custom_rule_passes(tmp_path: Path, client: Any) -> None:
    assert alerting.validate(alerting.load([_rule_file(tmp_path)]), client) == []


def _edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (alerting.DEFAULT_RULES_DIR / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "old", "new", "at", "message"),
    [
        (
            "insights.yaml",
            "title: RUM anomaly found by the insight service",
            "titel: RUM anomaly",
            "- uid: vitalsight-insight-anomaly",
            "groups.0.rules.0: Additional properties are not allowed ('titel' was unexpected)",
        ),
        (
            "insights.yaml",
            "noDataState: OK",
            "noDataState: Fine",
            "noDataState:",
            "groups.0.rules.0.noDataState: 'Fine' is not one of "
            "['OK', 'NoData', 'Alerting', 'KeepLast']",
        ),
        (
            "insights.yaml",
            "datasourceUid: vitalsight-clickhouse",
            "datasourceUid: prometheus",
            "datasourceUid: prometheus",
            "unknown datasource uid 'prometheus' (expected 'vitalsight-clickhouse' or '__expr__')",
        ),
        (
            "insights.yaml",
            "condition: C",
            "condition: D",
            "condition: D",
            "condition 'D' is not a refId of this rule ['A', 'B', 'C']",
        ),
        (
            "insights.yaml",
            "expression: A",
            "expression: X",
            "expression: X",
            "expression input 'X' is not a refId of this rule ['A', 'B', 'C']",
        ),
        (
            "insights.yaml",
            "team: frontend",
            "team: $TEAM",
            "team: $TEAM",
            "label 'team' contains '$', which Grafana's file provisioning replaces with an "
            "environment variable; write '$$'",
        ),
        (
            "insights.yaml",
            "interval: 1m",
            "interval: often",
            "interval: often",
            "groups.0.interval: 'often' does not match '^([0-9]+(ms|s|m|h|d|w))+$'",
        ),
        (
            "notification-policies.yaml",
            "- receiver: vitalsight-pagerduty",
            "- receiver: pager",
            "- receiver: pager",
            "receiver 'pager' is not a contact point in these files "
            "['vitalsight-email', 'vitalsight-pagerduty', 'vitalsight-slack']",
        ),
        (
            "insights.yaml",
            "    interval: 1m",
            "    interval: [1m",
            "interval: [1m",
            "invalid YAML: ",
        ),
    ],
)
def test_offline_errors_point_at_file_and_line(
    tmp_path: Path, name: str, old: str, new: str, at: str, message: str
) -> None:
    path = _edited(tmp_path, name, old, new)
    contact_points = tmp_path / "contact-points.yaml"
    contact_points.write_text(
        (alerting.DEFAULT_RULES_DIR / "contact-points.yaml").read_text(), encoding="utf-8"
    )
    issues = alerting.validate(alerting.load([tmp_path]))
    assert issues and all(i.path == path for i in issues), issues
    (issue,) = [i for i in issues if i.message.startswith(message)]
    line = _line_of(path, at)
    assert issue.line in (line, line + 1)  # a YAML parser may flag the next token


def test_cli_reports_problems_and_fails(tmp_path: Path) -> None:
    path = _edited(tmp_path, "insights.yaml", "condition: C", "condition: D")
    result = CliRunner().invoke(alerts, ["validate", "--offline", str(path)])
    assert result.exit_code == 1
    line = _line_of(path, "condition: D")
    assert f"{path}:{line}: condition 'D' is not a refId" in result.output


def test_duplicate_rule_uids_are_reported_at_the_second(tmp_path: Path) -> None:
    shipped = alerting.DEFAULT_RULES_DIR / "insights.yaml"
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (first, second):
        path.write_text(shipped.read_text(), encoding="utf-8")
    issues = alerting.validate(alerting.load([tmp_path]))
    line = _line_of(first, "- uid: vitalsight-insight-anomaly")
    assert [str(i) for i in issues] == [
        f"{second}:{line}: rule uid 'vitalsight-insight-anomaly' is also used at {first}:{line}"
    ]
