"""The server store: a ClickHouse server or cluster through clickhouse-connect.

Same SQL as the embedded store; inserts send the queued Arrow tables as `FORMAT Arrow`
(timestamp[ns] columns, so DateTime64(9) gets integer nanoseconds exactly).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect

from vitalsight.exporters.batch import TableRows

logger = logging.getLogger(__name__)


def client_settings_from_url(url: str, *, database: str | None = None) -> dict[str, Any]:
    """clickhouse-connect `get_client` arguments from `http(s)://user:pw@host:port/db`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"ClickHouse URL must be http:// or https://, got {url!r}")
    path_db = parts.path.strip("/")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or (8443 if parts.scheme == "https" else 8123),
        "username": unquote(parts.username or "default"),
        "password": unquote(parts.password or ""),
        "secure": parts.scheme == "https",
        "database": database or path_db or "default",
    }


class ClickHouseServerStore:
    """Writes to a ClickHouse server. The database is created if missing."""

    kind = "clickhouse"

    def __init__(self, url: str, *, database: str | None = None, client: Any = None) -> None:
        settings = client_settings_from_url(url, database=database)
        self.database = settings.pop("database")
        if client is None:
            bootstrap = clickhouse_connect.get_client(**settings)
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            bootstrap.close()
            client = clickhouse_connect.get_client(**settings, database=self.database)
        self._client = client
        self._closed = False

    def command(self, sql: str) -> None:
        self._client.command(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._client.query(sql).result_rows]

    def insert(self, batch: TableRows) -> None:
        self._client.insert_arrow(batch.table, batch.rows)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()
