"""`vitalsight grafana build`: a complete provisioning directory Grafana can load, whose
alert-rule queries (read back from the built YAML) run on a real `vitalsight serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.serve_process import ServeProcess
from vitalsight.grafana import alerting, provisioning
from vitalsight.grafana.cli import grafana
from vitalsight.grafana.dashboards import all_dashboards
from vitalsight.grafana.uids import DASHBOARD_UIDS, DATASOURCE_TYPE, DATASOURCE_UID, FOLDER_UID
from vitalsight.service.demo_send import send_demo

DASHBOARD = {"uid": "vitalsight-overview", "title": "Overview", "panels": [], "tags": []}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_build_writes_datasource_dashboards_and_alerting(tmp_path: Path) -> None:
    written = provisioning.build(tmp_path, dashboards={"overview": DASHBOARD})
    relative = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert relative == sorted(
        [
            "datasources/vitalsight.yaml",
            "dashboards/vitalsight.yaml",
            "dashboards/vitalsight/overview.json",
            *(f"alerting/{p.name}" for p in alerting.rule_files()),
        ]
    )
    (source,) = _yaml(tmp_path / "datasources" / "vitalsight.yaml")["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == DATASOURCE_TYPE
    assert source["jsonData"] == {
        "host": "vitalsight",
        "port": 8123,
        "protocol": "http",
        "secure": False,
        "username": "vitalsight",
        "defaultDatabase": "vitalsight",
    }
    assert source["secureJsonData"] == {"password": "$VITALSIGHT_QUERY_PASSWORD"}
    (provider,) = _yaml(tmp_path / "dashboards" / "vitalsight.yaml")["providers"]
    assert provider["folderUid"] == FOLDER_UID and provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/vitalsight"
    built = json.loads((tmp_path / "dashboards" / "vitalsight" / "overview.json").read_text())
    assert built == DASHBOARD
    # the alerting files are the sources, byte for byte, and still valid
    for path in alerting.rule_files():
        assert (tmp_path / "alerting" / path.name).read_bytes() == path.read_bytes()
    assert alerting.validate(alerting.load([tmp_path / "alerting"])) == []


def test_server_mode_and_no_policies(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        grafana,
        [
            "build",
            "--out",
            str(tmp_path),
            "--mode",
            "server",
            "--no-policies",
            "--grafana-path",
            "/provisioning",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (source,) = _yaml(tmp_path / "datasources" / "vitalsight.yaml")["datasources"]
    assert source["jsonData"]["host"] == "clickhouse"
    assert source["jsonData"]["username"] == "default"
    assert not (tmp_path / "alerting" / "notification-policies.yaml").exists()
    assert (tmp_path / "alerting" / "contact-points.yaml").exists()
    (provider,) = _yaml(tmp_path / "dashboards" / "vitalsight.yaml")["providers"]
    assert provider["options"]["path"] == "/provisioning/dashboards/vitalsight"
    # every dashboard, as all_dashboards() builds it (its queries are tested on data there)
    models = all_dashboards()
    for stem, model in models.items():
        path = tmp_path / "dashboards" / "vitalsight" / f"{stem}.json"
        assert json.loads(path.read_text()) == model
    assert {m["uid"] for m in models.values()} == set(DASHBOARD_UIDS.values())


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("provisioning") / "data").start()
    try:
        send_demo(process.http_url, seed=3, minutes=5, sessions_per_minute=10)
        process.wait_for_count("rum_vitals_1m", 1)
        yield process
    finally:
        process.stop()


def test_built_alert_queries_run_on_the_query_endpoint(tmp_path: Path, serve: ServeProcess) -> None:
    provisioning.build(tmp_path, dashboards={})
    files = alerting.load([tmp_path / "alerting"])
    client = serve.client()
    try:
        assert alerting.validate(files, client) == []
    finally:
        client.close()
    assert len(list(files.sql_queries())) == 4


ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_wires_the_stack() -> None:
    compose = _yaml(COMPOSE)["services"]
    assert set(compose) == {
        "clickhouse",
        "vitalsight",
        "otel-collector",
        "insights",
        "grafana-provisioning",
        "grafana",
    }
    collector_config = compose["otel-collector"]["volumes"][0].split(":")[0]
    forward = _yaml(ROOT / collector_config)["exporters"]["otlphttp/vitalsight"]["endpoint"]
    assert forward == "http://vitalsight:4318"
    store_url = compose["vitalsight"]["environment"]["VITALSIGHT_SERVE_CLICKHOUSE_URL"]
    assert store_url.startswith("http://vitalsight:")
    assert store_url.endswith("@clickhouse:8123/vitalsight")
    build = compose["grafana-provisioning"]["command"]
    assert build[:2] == ["grafana", "build"] and build[build.index("--mode") + 1] == "server"
    grafana_service = compose["grafana"]
    assert grafana_service["environment"]["GF_INSTALL_PLUGINS"] == DATASOURCE_TYPE
    assert "grafana-provisioning:/etc/grafana/provisioning:ro" in grafana_service["volumes"]
    assert grafana_service["depends_on"]["grafana-provisioning"] == {
        "condition": "service_completed_successfully"
    }
    for service in compose.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    # the ClickHouse user and the datasource user agree
    user = build[build.index("--user") + 1]
    assert compose["clickhouse"]["environment"]["CLICKHOUSE_USER"] == user


def _compose_command() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("docker compose is not installed here")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
