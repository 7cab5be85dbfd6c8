"""The ClickHouse-server store without a server: the exact statements it sends through
clickhouse-connect, and the Arrow bytes clickhouse-connect makes of its inserts, loaded
into a real chDB table to prove they round-trip (no server can run here)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from clickhouse_connect.driver.query import arrow_buffer

from tests.otlp_samples import vitals_request
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_logs
from vitalsight.exporters.retention import RAW_TTL_COLUMNS, ROLLUP_TTL_COLUMNS, apply_retention
from vitalsight.exporters.schema import MIGRATIONS_TABLE, load_migrations, migrate
from vitalsight.exporters.server_store import ClickHouseServerStore, client_settings_from_url


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.result_rows = rows


class RecordingClient:
    """Stands in for clickhouse_connect's HttpClient: records every call our store makes."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.queries: list[str] = []
        self.inserts: list[dict[str, Any]] = []
        self.closed = False

    def command(self, sql: str) -> None:
        self.commands.append(sql)

    def query(self, sql: str) -> _Result:
        self.queries.append(sql)
        return _Result([])

    def insert_arrow(self, table: str, arrow_table: pa.Table) -> None:
        self.inserts.append({"table": table, "rows": arrow_table})

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def recorded() -> tuple[ClickHouseServerStore, RecordingClient]:
    client = RecordingClient()
    return ClickHouseServerStore("http://u:p@ch.internal:8123/rum", client=client), client


def test_url_gives_client_settings() -> None:
    assert client_settings_from_url("https://writer:s%40cret@ch.example:9443/rum") == {
        "host": "ch.example",
        "port": 9443,
        "username": "writer",
        "password": "s@cret",
        "secure": True,
        "database": "rum",
    }
    assert client_settings_from_url("http://ch:8123")["database"] == "default"
    with pytest.raises(ValueError, match="must be http"):
        client_settings_from_url("tcp://ch:9000")


def test_migrations_send_the_shared_sql_in_order(recorded: tuple[Any, RecordingClient]) -> None:
    store, client = recorded
    migrate(store)
    expected = [
        cmd
        for m in load_migrations()
        for cmd in (
            *m.statements,
            f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES ({m.version}, '{m.name}')",
        )
    ]
    assert client.commands[0].startswith(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}")
    assert client.commands[1:] == expected
    assert client.queries == [f"SELECT version FROM {MIGRATIONS_TABLE}"]


def test_retention_sends_one_ttl_alter_per_table(recorded: tuple[Any, RecordingClient]) -> None:
    store, client = recorded
    apply_retention(store, raw_days=14, rollup_days=200)
    assert "ALTER TABLE otel_logs MODIFY TTL TimestampTime + toIntervalDay(14)" in client.commands
    assert "ALTER TABLE rum_vitals_1m MODIFY TTL minute + toIntervalDay(200)" in client.commands
    assert len(client.commands) == len(RAW_TTL_COLUMNS) + len(ROLLUP_TTL_COLUMNS)


@pytest.fixture(scope="module")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    store = ChdbStore(tmp_path_factory.mktemp("native"))
    migrate(store)
    yield store
    store.close()


def test_insert_sends_arrow_that_round_trips_in_chdb(
    recorded: tuple[Any, RecordingClient], chdb_store: ChdbStore
) -> None:
    """The store hands clickhouse-connect the queued Arrow table; the exact bytes
    clickhouse-connect makes of it (`FORMAT Arrow`) load into the same schema in chDB with
    nanosecond timestamps intact."""
    store, client = recorded
    event_ns = time.time_ns() - 86_400 * 1_000_000_000 + 987_654_321
    store.insert(encode_logs(vitals_request("arrow", 2, time_ns=event_ns)).to_rows())
    (call,) = client.inserts
    assert call["table"] == "otel_logs"
    rows: pa.Table = call["rows"]
    assert rows.schema.field("Timestamp").type == pa.timestamp("ns")
    assert rows.column("Timestamp").cast(pa.int64()).to_pylist() == [event_ns, event_ns + 1_000_000]

    column_names, body = arrow_buffer(rows)
    columns = ", ".join(f"`{name}`" for name in column_names)
    with chdb_store._conn.send_insert(f"INSERT INTO otel_logs ({columns})", "Arrow") as inserter:
        inserter.append(bytes(body))  # type: ignore[arg-type]
        inserter.finish()
    assert chdb_store.rows(
        "SELECT toUnixTimestamp64Nano(Timestamp), LogAttributes['browser.web_vital.id'] "
        "FROM otel_logs WHERE startsWith(LogAttributes['browser.web_vital.id'], 'arrow') "
        "ORDER BY Timestamp"
    ) == [(event_ns, "arrow-0"), (event_ns + 1_000_000, "arrow-1")]
    assert chdb_store.rows(
        "SELECT count() FROM rum_vitals WHERE startsWith(metric_id, 'arrow')"
    ) == [(2,)]


def test_close_is_idempotent(recorded: tuple[Any, RecordingClient]) -> None:
    store, client = recorded
    store.close()
    store.close()
    assert client.closed
