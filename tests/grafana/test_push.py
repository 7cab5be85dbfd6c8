"""`vitalsight grafana push` against a stand-in for Grafana's HTTP API (no Grafana server
can run here): the exact requests, idempotency, and that nothing foreign is touched."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from grafana_client.client import GrafanaUnauthorizedError

from tests.grafana.grafana_standin import REDACTED, GrafanaState, Recorded, running
from vitalsight.grafana import alerting, push
from vitalsight.grafana.cli import grafana
from vitalsight.grafana.uids import FOLDER_UID

TOKEN = "glsa_test-token"
ENVIRON = {
    "VITALSIGHT_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x",
    "VITALSIGHT_ALERT_EMAILS": "rum@example.com",
}  # no PagerDuty key: that contact point is skipped
FOREIGN_ROUTE = {"receiver": "team-email", "object_matchers": [["team", "=", "backend"]]}


def small_dashboards() -> dict[str, dict[str, Any]]:
    return {
        "overview": {
            "uid": "vitalsight-overview",
            "title": "Overview",
            "tags": ["vitalsight"],
            "panels": [{"id": 1, "type": "stat", "title": "Sessions"}],
        },
        "sessions": {
            "uid": "vitalsight-sessions",
            "title": "Sessions",
            "tags": ["vitalsight"],
            "panels": [],
        },
    }


@pytest.fixture
def state() -> GrafanaState:
    """A Grafana that already has the team's own things, which push must leave alone."""
    grafana_state = GrafanaState(token=TOKEN)
    grafana_state.folders["team"] = {"id": 1, "uid": "team", "title": "Team"}
    grafana_state.dashboards["team-dashboard"] = {
        "dashboard": {"uid": "team-dashboard", "title": "Team", "tags": [], "id": 1, "version": 3},
        "meta": {"folderUid": "team"},
    }
    # Someone else's dashboard already sits at one of our uids: push must not take it over.
    grafana_state.dashboards["vitalsight-sessions"] = {
        "dashboard": {
            "uid": "vitalsight-sessions",
            "title": "Mine",
            "tags": [],
            "id": 2,
            "version": 1,
        },
        "meta": {"folderUid": "team"},
    }
    grafana_state.contact_points["team-email"] = {
        "uid": "team-email",
        "name": "team-email",
        "type": "email",
        "settings": {"addresses": "team@example.com"},
    }
    grafana_state.policies = {"receiver": "team-email", "routes": [FOREIGN_ROUTE]}
    return grafana_state


@pytest.fixture
def url(state: GrafanaState) -> Iterator[str]:
    with running(state) as base:
        yield base


def run_push(url: str, files: alerting.AlertingFiles | None = None) -> push.PushReport:
    return push.push(
        push.connect(url, TOKEN),
        dashboards=small_dashboards(),
        alerting=files or alerting.load(),
        environ=ENVIRON,
    )


def actions(report: push.PushReport) -> dict[tuple[str, str], str]:
    return {(c.kind, c.name): c.action for c in report.changes}


def test_first_push_creates_everything_through_the_documented_api(
    url: str, state: GrafanaState
) -> None:
    before = copy.deepcopy((state.dashboards["team-dashboard"], state.contact_points["team-email"]))
    report = run_push(url)
    assert all(r.status < 400 or (r.method == "GET" and r.status == 404) for r in state.requests), [
        r for r in state.requests if r.status >= 400
    ]
    done = actions(report)
    assert done[("folder", FOLDER_UID)] == "created"
    assert done[("dashboard", "vitalsight-overview")] == "created"
    assert done[("dashboard", "vitalsight-sessions")] == "skipped"
    rule_uids = {rule["uid"] for _, _, _, rule in alerting.load().rules()}
    assert {n for (k, n), a in done.items() if k == "alert-rule" and a == "created"} == rule_uids
    assert done[("contact-point", "vitalsight-slack")] == "created"
    assert done[("contact-point", "vitalsight-email")] == "created"
    assert done[("contact-point", "vitalsight-pagerduty")] == "skipped"
    assert done[("policy", "managed_by=vitalsight route")] == "updated"

    writes = [(r.method, r.path) for r in state.writes()]
    assert writes[:2] == [("POST", "/api/folders"), ("POST", "/api/dashboards/db")]
    assert writes.count(("POST", "/api/v1/provisioning/alert-rules")) == len(rule_uids)
    assert (
        "PUT",
        "/api/v1/provisioning/folder/vitalsight/rule-groups/vitalsight-web-vitals",
    ) in writes
    assert not any(r.method == "DELETE" for r in state.requests)

    created: Recorded = next(r for r in state.writes() if r.path == "/api/dashboards/db")
    assert created.body["folderUid"] == FOLDER_UID and created.body["overwrite"] is False
    assert state.group_intervals[(FOLDER_UID, "vitalsight-web-vitals")] == 300
    assert state.group_intervals[(FOLDER_UID, "vitalsight-insights")] == 60
    rule = state.rules["vitalsight-vital-regression"]
    assert rule["folderUID"] == FOLDER_UID and rule["for"] == "15m"
    assert "$__fromTime" in rule["data"][0]["model"]["rawSql"]  # macros go to Grafana as is
    slack = state.contact_points["vitalsight-slack"]["settings"]
    assert slack["url"] == ENVIRON["VITALSIGHT_SLACK_WEBHOOK_URL"]
    # the team's things are untouched; our route comes first, theirs is kept
    assert (state.dashboards["team-dashboard"], state.contact_points["team-email"]) == before
    assert state.dashboards["vitalsight-sessions"]["dashboard"]["title"] == "Mine"
    assert state.policies["receiver"] == "team-email"
    routes = state.policies["routes"]
    assert routes[1:] == [FOREIGN_ROUTE]
    assert routes[0]["object_matchers"] == [["managed_by", "=", "vitalsight"]]
    assert routes[0]["routes"] == []  # the PagerDuty route went with its contact point


def test_second_push_changes_nothing(url: str, state: GrafanaState) -> None:
    run_push(url)
    writes_before = len(state.writes())
    report = run_push(url)
    assert len(state.writes()) == writes_before
    assert report.count("created") == report.count("updated") == 0
    assert report.count("unchanged") > 0
    assert {c.name for c in report.changes if c.action == "skipped"} == {
        "vitalsight-sessions",
        "vitalsight-pagerduty",
    }


def test_an_edited_rule_is_updated_alone(url: str, state: GrafanaState, tmp_path: Path) -> None:
    run_push(url)
    source = (alerting.DEFAULT_RULES_DIR / "insights.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "insights.yaml"
    edited.write_text(source.replace("params: [50]", "params: [70]"), encoding="utf-8")
    files = alerting.load([edited])
    writes_before = len(state.writes())
    report = run_push(url, files)
    new_writes = state.writes()[writes_before:]
    assert [(r.method, r.path) for r in new_writes] == [
        ("PUT", "/api/v1/provisioning/alert-rules/vitalsight-insight-anomaly")
    ]
    threshold = new_writes[0].body["data"][2]["model"]["conditions"][0]["evaluator"]
    assert threshold == {"type": "gt", "params": [70]}
    assert actions(report)[("alert-rule", "vitalsight-insight-anomaly")] == "updated"


def test_a_redacted_secret_does_not_count_as_a_change(url: str, state: GrafanaState) -> None:
    run_push(url)
    listed = [r for r in state.requests if r.path.endswith("/contact-points")][-1]
    assert listed.method == "GET"
    slack = state.contact_points["vitalsight-slack"]
    assert slack["settings"]["url"] != REDACTED  # stored, only redacted when read
    assert actions(run_push(url))[("contact-point", "vitalsight-slack")] == "unchanged"


def test_a_wrong_token_is_refused(url: str, state: GrafanaState) -> None:
    with pytest.raises(GrafanaUnauthorizedError):
        push.push(push.connect(url, "wrong"), dashboards={}, alerting=alerting.load(), environ={})
    assert state.writes() == []


def test_cli_push_reports_what_changed(url: str, state: GrafanaState) -> None:
    result = CliRunner().invoke(
        grafana, ["push", "--url", url, "--token", TOKEN], env=ENVIRON, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "created   folder vitalsight" in result.output
    assert "created   dashboard vitalsight-overview" in result.output
    assert "skipped   contact-point vitalsight-pagerduty (unset: VITALSIGHT_PAGERDUTY_KEY)" in (
        result.output
    )
    assert len(state.dashboards) >= 8  # every dashboard from all_dashboards()


def test_a_rule_we_did_not_create_is_left_alone(url: str, state: GrafanaState) -> None:
    state.folders[FOLDER_UID] = {"id": 9, "uid": FOLDER_UID, "title": "vitalsight RUM"}
    theirs = {
        "uid": "vitalsight-slow-endpoint",
        "title": "Their rule",
        "condition": "A",
        "data": [{"refId": "A", "datasourceUid": "x", "model": {"refId": "A"}}],
        "folderUID": FOLDER_UID,
        "ruleGroup": "theirs",
        "noDataState": "OK",
        "execErrState": "Error",
        "for": "1m",
        "orgID": 1,
        "labels": {"team": "backend"},
    }
    state.rules[theirs["uid"]] = copy.deepcopy(theirs)
    state.group_intervals[(FOLDER_UID, "theirs")] = 600
    report = run_push(url)
    assert actions(report)[("alert-rule", "vitalsight-slow-endpoint")] == "skipped"
    assert state.rules["vitalsight-slow-endpoint"] == theirs
    assert state.group_intervals[(FOLDER_UID, "theirs")] == 600
    touched = {r.path for r in state.writes()}
    assert "/api/v1/provisioning/alert-rules/vitalsight-slow-endpoint" not in touched
