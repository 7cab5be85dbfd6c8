"""`vitalsight grafana build|push` and `vitalsight alerts validate`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from vitalsight.exporters.reader import DEFAULT_QUERY_URL
from vitalsight.exporters.store import DEFAULT_DATABASE

_QUERY_PASSWORD_FILE = "query-password"


@click.group()
def grafana() -> None:
    """Grafana as code: provisioning directory and push to a running Grafana."""


@grafana.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("grafana-provisioning"),
    show_default=True,
)
@click.option(
    "--mode",
    type=click.Choice(["embedded", "server"]),
    default="embedded",
    show_default=True,
    help="Datasource: vitalsight's query endpoint (embedded) or a ClickHouse server.",
)
@click.option("--host", help="Datasource host [default: vitalsight or clickhouse by mode].")
@click.option("--port", type=int, default=8123, show_default=True)
@click.option("--user", help="Datasource user [default: vitalsight or default by mode].")
@click.option("--database", default=DEFAULT_DATABASE, show_default=True)
@click.option(
    "--grafana-path",
    default="/etc/grafana/provisioning",
    show_default=True,
    help="Where Grafana sees the output directory.",
)
@click.option(
    "--no-policies",
    is_flag=True,
    help="Leave out notification policies (a provisioned tree replaces the whole tree).",
)
def build(
    out_dir: Path,
    mode: str,
    host: str | None,
    port: int,
    user: str | None,
    database: str,
    grafana_path: str,
    no_policies: bool,
) -> None:
    """Write a complete provisioning directory: datasource, dashboards, alerting."""
    from vitalsight.grafana import provisioning  # noqa: PLC0415

    default = provisioning.EMBEDDED if mode == "embedded" else provisioning.SERVER
    target = provisioning.DatasourceTarget(
        default.mode, host or default.host, port, user or default.user, database
    )
    written = provisioning.build(
        out_dir, target=target, include_policies=not no_policies, grafana_path=grafana_path
    )
    for path in written:
        click.echo(f"wrote {path}")


@grafana.command()
@click.option("--url", required=True, help="Grafana's URL, e.g. http://localhost:3000")
@click.option("--token", envvar="GRAFANA_TOKEN", help="Service account token [env GRAFANA_TOKEN].")
def push(url: str, token: str | None) -> None:
    """Apply folder, dashboards, alert rules, contact points and our notification route.

    Idempotent; reports created/updated/unchanged/skipped; never deletes anything.
    """
    from vitalsight.grafana import alerting  # noqa: PLC0415
    from vitalsight.grafana import push as pushing  # noqa: PLC0415
    from vitalsight.grafana.dashboards import all_dashboards  # noqa: PLC0415

    files = alerting.load()
    problems = alerting.validate(files)
    if problems:
        _fail(problems)
    report = pushing.push(
        pushing.connect(url, token),
        dashboards=all_dashboards(),
        alerting=files,
        environ=os.environ,
    )
    for change in report.changes:
        click.echo(str(change))
    counts = ", ".join(
        f"{report.count(a)} {a}" for a in ("created", "updated", "unchanged", "skipped")
    )
    click.echo(counts)


@click.group()
def alerts() -> None:
    """Alert rules in alert-rules/ (Grafana file-provisioning YAML)."""


@alerts.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--url",
    default=DEFAULT_QUERY_URL,
    show_default=True,
    help="ClickHouse HTTP endpoint to run rule queries on: vitalsight's query port or a server.",
)
@click.option("--user", default="vitalsight", show_default=True)
@click.option("--password", help="[default: read from DATA_DIR/query-password]")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("vitalsight-data"),
    show_default=True,
)
@click.option("--database", default=DEFAULT_DATABASE, show_default=True)
@click.option("--offline", is_flag=True, help="Check schema and references only; run no SQL.")
def validate(
    paths: tuple[Path, ...],
    url: str,
    user: str,
    password: str | None,
    data_dir: Path,
    database: str,
    offline: bool,
) -> None:
    """Check PATHS (default: alert-rules/): schema, references, and every rule's SQL."""
    from vitalsight.exporters.reader import connect_reader  # noqa: PLC0415
    from vitalsight.grafana import alerting  # noqa: PLC0415

    files = alerting.load(paths)
    client: Any = None
    if not offline:
        client = connect_reader(
            url, username=user, password=_password(password, data_dir), database=database
        )
    try:
        problems = alerting.validate(files, client)
    finally:
        if client is not None:
            client.close()
    if problems:
        _fail(problems)
    rules = sum(1 for _ in files.rules())
    click.echo(f"{len(files.documents)} files, {rules} rules: OK")


def _password(password: str | None, data_dir: Path) -> str:
    if password is not None:
        return password
    password_file = data_dir / _QUERY_PASSWORD_FILE
    if not password_file.exists():
        raise click.UsageError(f"no --password and no {password_file} (or use --offline)")
    return password_file.read_text(encoding="utf-8").strip()


def _fail(problems: list[Any]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    raise click.exceptions.Exit(1)
