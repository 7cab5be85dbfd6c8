"""Write a complete Grafana provisioning directory: the ClickHouse datasource, the dashboards
with their file provider, and the alerting files from `alert-rules/`.

Layout (mount it as Grafana's `/etc/grafana/provisioning`):

    datasources/vitalsight.yaml          the ClickHouse datasource (uid from uids.py)
    dashboards/vitalsight.yaml           file provider for the folder below
    dashboards/vitalsight/<stem>.json    one file per dashboard
    alerting/<file>.yaml                 rules, contact points, notification policies
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from vitalsight.exporters.store import DEFAULT_DATABASE
from vitalsight.grafana.alerting import rule_files
from vitalsight.grafana.uids import DATASOURCE_TYPE, DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID

DEFAULT_GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
PASSWORD_ENV = "VITALSIGHT_QUERY_PASSWORD"
POLICIES_KEY = "policies"


@dataclass(frozen=True)
class DatasourceTarget:
    """Where Grafana's ClickHouse datasource reads from, over the ClickHouse HTTP protocol.

    `embedded`: `vitalsight serve`'s read-only query endpoint (chDB store);
    `server`: a ClickHouse server that vitalsight writes to.
    """

    mode: Literal["embedded", "server"]
    host: str
    port: int
    user: str
    database: str = DEFAULT_DATABASE


EMBEDDED = DatasourceTarget("embedded", host="vitalsight", port=8123, user="vitalsight")
SERVER = DatasourceTarget("server", host="clickhouse", port=8123, user="default")


def datasource_file(target: DatasourceTarget) -> dict[str, Any]:
    """Datasource provisioning for grafana-clickhouse-datasource v4 (`jsonData` keys as in
    the plugin's provisioning docs). The password stays out of the file: Grafana expands
    `$VITALSIGHT_QUERY_PASSWORD` from its environment."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": f"vitalsight ({target.mode})",
                "uid": DATASOURCE_UID,
                "type": DATASOURCE_TYPE,
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "host": target.host,
                    "port": target.port,
                    "protocol": "http",
                    "secure": False,
                    "username": target.user,
                    "defaultDatabase": target.database,
                },
                "secureJsonData": {"password": f"${PASSWORD_ENV}"},
            }
        ],
    }


def dashboard_provider(dashboards_path: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "vitalsight",
                "orgId": 1,
                "type": "file",
                "folder": FOLDER_TITLE,
                "folderUid": FOLDER_UID,
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": dashboards_path, "foldersFromFilesStructure": False},
            }
        ],
    }


def build(
    out_dir: Path,
    *,
    target: DatasourceTarget = EMBEDDED,
    dashboards: Mapping[str, dict[str, Any]] | None = None,
    rules: list[Path] | None = None,
    include_policies: bool = True,
    grafana_path: str = DEFAULT_GRAFANA_PROVISIONING,
) -> list[Path]:
    """Write the provisioning directory into `out_dir`; returns the files written.

    `grafana_path` is where Grafana will see `out_dir` (the dashboard provider needs the
    path inside Grafana). Without `include_policies`, notification policy files are left
    out, because a provisioned policy tree replaces the organisation's whole tree.
    """
    from vitalsight.grafana.dashboards import all_dashboards, dashboard_json  # noqa: PLC0415

    models = dict(all_dashboards() if dashboards is None else dashboards)
    written = [
        _write_yaml(out_dir / "datasources" / "vitalsight.yaml", datasource_file(target)),
        _write_yaml(
            out_dir / "dashboards" / "vitalsight.yaml",
            dashboard_provider(f"{grafana_path.rstrip('/')}/dashboards/vitalsight"),
        ),
    ]
    for stem, model in sorted(models.items()):
        path = out_dir / "dashboards" / "vitalsight" / f"{stem}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dashboard_json(model), encoding="utf-8")
        written.append(path)
    for source in rule_files(rules or ()):
        if not include_policies and _has_policies(source):
            continue
        destination = out_dir / "alerting" / source.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)  # as written, comments and all
        written.append(destination)
    return written


def _has_policies(path: Path) -> bool:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(document, dict) and POLICIES_KEY in document


def _write_yaml(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `vitalsight grafana build`; edit the source, not this file.\n"
        + yaml.safe_dump(document, sort_keys=False),
        encoding="utf-8",
    )
    return path
