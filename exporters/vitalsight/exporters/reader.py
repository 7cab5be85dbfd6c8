"""The one read path: a clickhouse-connect client over the ClickHouse HTTP protocol.

It reads the embedded store through `vitalsight serve`'s query endpoint and a ClickHouse
server directly, with the same code. Readers never open chDB themselves.
"""

from __future__ import annotations

from typing import Any

import clickhouse_connect

from vitalsight.exporters.server_store import client_settings_from_url
from vitalsight.exporters.store import DEFAULT_DATABASE

DEFAULT_QUERY_URL = "http://127.0.0.1:8123"


def connect_reader(
    url: str = DEFAULT_QUERY_URL,
    *,
    username: str | None = None,
    password: str | None = None,
    database: str = DEFAULT_DATABASE,
) -> Any:
    """A clickhouse-connect client; explicit credentials override those in the URL.

    The embedded endpoint runs every statement read-only, so per-query settings belong in
    the SQL (`SETTINGS …`), not in clickhouse-connect's `settings=` argument.
    """
    settings = client_settings_from_url(url, database=database)
    if username is not None:
        settings["username"] = username
    if password is not None:
        settings["password"] = password
    return clickhouse_connect.get_client(**settings)
