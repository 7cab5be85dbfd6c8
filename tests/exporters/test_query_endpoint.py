"""The ClickHouse-compatible query endpoint over the embedded store, through real clients.

The endpoint runs on a real localhost port (an event loop in a thread); clickhouse-connect
talks to it as to a ClickHouse server, and raw HTTP requests replay what clickhouse-go (the
driver of Grafana's ClickHouse datasource) sends.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import http.server
import json
import math
import struct
import threading
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from aiohttp import web
from clickhouse_connect.driver.exceptions import DatabaseError

from vitalsight.exporters import http_compression
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.native_format import (
    NativeFormatError,
    header_block,
    to_protocol_revision,
)
from vitalsight.exporters.query_endpoint import create_query_app
from vitalsight.exporters.query_guard import (
    QueryError,
    QueryLimits,
    build_settings,
    check_ast,
    settings_clause,
    split_query,
)

USER = "grafana"
PASSWORD = "s3cret-pass"
DATABASE = "vitalsight"
CLICKHOUSE_GO_REVISION = 54459  # clickhouse-go v2 DBMS_TCP_PROTOCOL_VERSION (lib/proto/const.go)

T1 = datetime(2024, 5, 1, 10, 0, 0, 125000)
ROWS = [
    (1, T1, {"route": "/a"}, [1, 2, 3], "chrome", None, math.nan),
    (2, datetime(2024, 5, 1, 10, 0, 1), {}, [], "firefox", "slow", 2500.5),
    (3, datetime(2024, 5, 1, 10, 0, 2), {"route": "/b", "k": "v"}, [7], "chrome", "", -0.25),
]
TS_NS_1 = int(datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC).timestamp()) * 10**9 + 123456789


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    opened = ChdbStore(tmp_path_factory.mktemp("query-endpoint") / "data", database=DATABASE)
    opened.command(
        "CREATE TABLE vitals (id UInt32, ts DateTime64(3), ts_ns DateTime64(9, 'UTC'), "
        "attrs Map(String, String), buckets Array(UInt16), browser LowCardinality(String), "
        "note Nullable(String), value Float64) ENGINE = MergeTree ORDER BY id"
    )
    opened.command(
        "INSERT INTO vitals VALUES "
        "(1, '2024-05-01 10:00:00.125', '2024-05-01 10:00:00.123456789', {'route': '/a'}, "
        "[1, 2, 3], 'chrome', NULL, nan), "
        "(2, '2024-05-01 10:00:01', '2024-05-01 10:00:01', {}, [], 'firefox', 'slow', 2500.5), "
        "(3, '2024-05-01 10:00:02', '2024-05-01 10:00:02', {'route': '/b', 'k': 'v'}, [7], "
        "'chrome', '', -0.25)"
    )
    opened.command(
        "CREATE TABLE page_views (route LowCardinality(String), views UInt64) "
        "ENGINE = MergeTree ORDER BY route"
    )
    opened.command("INSERT INTO page_views VALUES ('/a', 10), ('/b', 5)")
    yield opened
    opened.close()


def _serve(store: ChdbStore, **options: Any) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(create_query_app(store, user=USER, password=PASSWORD, **options))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        sockets = getattr(site._server, "sockets", None)
        assert sockets
        return runner, int(sockets[0].getsockname()[1])

    runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def endpoint(store: ChdbStore) -> Iterator[str]:
    yield from _serve(store)


@pytest.fixture(scope="module")
def tight_endpoint(store: ChdbStore) -> Iterator[str]:
    """The same store behind an endpoint with small limits."""
    yield from _serve(store, max_execution_time=0.5, max_result_bytes=300_000)


def _client(url: str, **options: Any) -> Any:
    port = int(url.rsplit(":", 1)[1])
    options.setdefault("username", USER)
    options.setdefault("password", PASSWORD)
    return clickhouse_connect.get_client(host="127.0.0.1", port=port, **options)


@pytest.fixture(scope="module")
def client(endpoint: str) -> Iterator[Any]:
    opened = _client(endpoint, database=DATABASE)
    yield opened
    opened.close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path}")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"secret,x\n1,2\n")

    def do_HEAD(self) -> None:
        self.requests.append(f"HEAD {self.path}")
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server that records every request: a refused query must never reach it."""
    requests: list[str] = []
    handler = type("Recorder", (_Recorder,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], requests
    server.shutdown()
    server.server_close()
    thread.join(10)


# ---------------------------------------------------------------------------------------------
# Raw HTTP


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def http_request(
    url: str,
    *,
    params: dict[str, str] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = (USER, PASSWORD),
    path: str = "/",
    method: str | None = None,
) -> Reply:
    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(full, data=body, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        try:
            return Reply(error.code, dict(error.headers), error.read())
        finally:
            error.close()


# ---------------------------------------------------------------------------------------------
# A Native decoder written from the ClickHouse wire format, independent of the endpoint's code,
# that reads blocks the way clickhouse-go's Block.Decode does for a given revision.


class NativeReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varint(self) -> int:
        result = shift = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        assert len(chunk) == size, "truncated"
        self.pos += size
        return chunk

    def unpack(self, fmt: str, count: int) -> list[Any]:
        size = struct.calcsize(fmt)
        return list(struct.unpack(f"<{count}{fmt}", self.take(size * count)))

    def strings(self, count: int) -> list[str]:
        return [self.take(self.varint()).decode() for _ in range(count)]

    def column(self, type_name: str, rows: int) -> list[Any]:  # noqa: PLR0911
        fixed = {"UInt8": "B", "UInt16": "H", "UInt32": "I", "UInt64": "Q", "Float64": "d"}
        if type_name in fixed:
            return self.unpack(fixed[type_name], rows)
        if type_name == "String":
            return self.strings(rows)
        if type_name.startswith("DateTime64("):
            return self.unpack("q", rows)
        if type_name.startswith("Nullable("):
            nulls = self.take(rows)
            values = self.column(type_name[9:-1], rows)
            return [None if nulls[i] else values[i] for i in range(rows)]
        if type_name.startswith(("Array(", "Map(")):
            offsets = self.unpack("Q", rows)
            spans = list(zip([0, *offsets[:-1]], offsets, strict=True))
            if type_name.startswith("Array("):
                flat = self.column(type_name[6:-1], offsets[-1])
                return [flat[i:j] for i, j in spans]
            key_type, value_type = (part.strip() for part in type_name[4:-1].split(","))
            keys, values = self.column(key_type, offsets[-1]), self.column(value_type, offsets[-1])
            return [dict(zip(keys[i:j], values[i:j], strict=True)) for i, j in spans]
        if type_name == "LowCardinality(String)":
            flags = struct.unpack("<Q", self.take(8))[0]
            assert flags & (1 << 9), "expected keys in the block"
            keys = self.strings(struct.unpack("<Q", self.take(8))[0])
            count = struct.unpack("<Q", self.take(8))[0]
            fmt = "BHIQ"[flags & 0xFF]
            return [keys[i] for i in self.unpack(fmt, count)]
        raise AssertionError(f"test decoder does not read {type_name}")


def decode_native(data: bytes, revision: int) -> tuple[list[tuple[str, str]], list[list[Any]]]:
    """Columns and rows of a Native response as a client of ``revision`` reads it."""
    reader = NativeReader(data)
    columns: list[tuple[str, str]] = []
    rows: list[list[Any]] = []
    while reader.pos < len(data):
        if revision > 0:  # BlockInfo: field 1, field 2, [field 3], 0
            assert reader.varint() == 1
            assert reader.take(1) == b"\x00"
            assert reader.varint() == 2
            assert struct.unpack("<i", reader.take(4))[0] == -1
            field = reader.varint()
            if revision >= 54480:
                assert field == 3 and reader.varint() == 0
                field = reader.varint()
            assert field == 0
        count, nrows = reader.varint(), reader.varint()
        block: list[list[Any]] = []
        columns = []
        for _ in range(count):
            name, type_name = reader.strings(2)
            if revision >= 54454:
                assert reader.take(1) == b"\x00", "custom serialization flag"
            if nrows and type_name.startswith("LowCardinality("):
                assert struct.unpack("<Q", reader.take(8))[0] == 1  # key version prefix
            if nrows and type_name.startswith("Array(LowCardinality("):
                raise AssertionError("not needed here")
            columns.append((name, type_name))
            block.append(reader.column(type_name, nrows) if nrows else [])
        rows += [list(row) for row in zip(*block, strict=True)]
    return columns, rows


# ---------------------------------------------------------------------------------------------
# clickhouse-connect


def test_ping_and_bare_root_answer_ok_without_credentials(endpoint: str) -> None:
    for path in ("/ping", "/"):
        reply = http_request(endpoint, path=path, auth=None, method="GET")
        assert (reply.status, reply.text) == (200, "Ok.\n")


def test_connect_reads_version_timezone_and_protocol(client: Any, store: ChdbStore) -> None:
    version = store.query("SELECT version()").decode().strip()
    assert client.server_version == version
    assert client.server_tz == UTC
    # The client probed client_protocol_version=54405 and found BlockInfo in the answer.
    assert client.protocol_version == 54405
    assert client.ping()


def test_query_returns_rows_and_column_types(client: Any) -> None:
    result = client.query(
        "SELECT id, ts, attrs, buckets, browser, note, value FROM vitals ORDER BY id"
    )
    assert result.column_names == ("id", "ts", "attrs", "buckets", "browser", "note", "value")
    assert [t.name for t in result.column_types] == [
        "UInt32",
        "DateTime64(3)",
        "Map(String, String)",
        "Array(UInt16)",
        "LowCardinality(String)",
        "Nullable(String)",
        "Float64",
    ]
    rows = result.result_rows
    assert [row[:6] for row in rows] == [row[:6] for row in ROWS]
    assert math.isnan(rows[0][6])
    assert [row[6] for row in rows[1:]] == [2500.5, -0.25]


def test_datetime64_9_keeps_nanoseconds_through_arrow(client: Any) -> None:
    table = client.query_arrow("SELECT id, ts_ns, browser FROM vitals ORDER BY id")
    assert table.column_names == ["id", "ts_ns", "browser"]
    assert str(table.schema.field("ts_ns").type) == "timestamp[ns, tz=UTC]"
    assert table.column("ts_ns").cast("int64").to_pylist()[0] == TS_NS_1
    assert table.column("browser").to_pylist() == ["chrome", "firefox", "chrome"]
    assert client.query("SELECT ts_ns FROM vitals WHERE id = 1").result_rows[0][0].replace(
        tzinfo=None
    ) == datetime(2024, 5, 1, 10, 0, 0, 123456)


def test_query_df(client: Any) -> None:
    frame = client.query_df("SELECT browser, count() AS n FROM vitals GROUP BY browser ORDER BY n")
    assert frame.to_dict("list") == {"browser": ["firefox", "chrome"], "n": [1, 2]}


def test_server_side_parameters_are_bound(client: Any) -> None:
    result = client.query(
        "SELECT {x:UInt32} + 1 AS v, {s:String} AS s, {a:Array(UInt8)} AS a",
        parameters={"x": 3, "s": "it's a\ttab\nand a line", "a": [1, 2]},
    )
    assert result.result_rows == [(4, "it's a\ttab\nand a line", [1, 2])]
    rows = client.query(
        "SELECT id FROM vitals WHERE browser = {b:String} ORDER BY id", parameters={"b": "chrome"}
    ).result_rows
    assert rows == [(1,), (3,)]


def test_long_parameters_sent_as_form_fields(endpoint: str) -> None:
    # clickhouse-connect moves bound parameters into multipart form fields when they are long
    # (or always, with form_encode_query_params).
    reader = _client(endpoint, form_encode_query_params=True)
    try:
        long_text = "x" * 10_000
        result = reader.query("SELECT length({s:String}) AS n", parameters={"s": long_text})
        assert result.result_rows == [(10_000,)]
    finally:
        reader.close()


def test_command_returns_tab_separated_values(client: Any) -> None:
    assert client.command("SELECT 1") == 1
    assert client.command("SELECT 'a', 2") == ["a", "2"]
    assert client.command("EXISTS TABLE vitals") == 1


def test_show_and_describe(client: Any) -> None:
    tables = [row[0] for row in client.query("SHOW TABLES").result_rows]
    assert tables == ["page_views", "vitals"]
    described = client.query("DESCRIBE TABLE vitals").result_rows
    assert [(row[0], row[1]) for row in described][:2] == [
        ("id", "UInt32"),
        ("ts", "DateTime64(3)"),
    ]


def test_empty_result_keeps_column_names_and_types(client: Any) -> None:
    result = client.query("SELECT id, browser FROM vitals WHERE id > 100")
    assert result.result_rows == []
    assert result.column_names == ("id", "browser")
    assert [t.name for t in result.column_types] == ["UInt32", "LowCardinality(String)"]


def test_clickhouse_errors_surface_with_code_and_message(client: Any) -> None:
    with pytest.raises(DatabaseError) as unknown_column:
        client.query("SELECT no_such_column FROM vitals")
    assert unknown_column.value.code == 47
    assert "Unknown expression identifier" in str(unknown_column.value)
    with pytest.raises(DatabaseError) as unknown_table:
        client.query("SELECT * FROM no_such_table")
    assert unknown_table.value.code == 60
    with pytest.raises(DatabaseError) as syntax:
        client.query("SELEC 1")
    assert syntax.value.code == 62


def test_wrong_password_is_refused(endpoint: str) -> None:
    with pytest.raises(DatabaseError) as refused:
        _client(endpoint, password="wrong")
    assert refused.value.code == 516
    assert "Authentication failed" in str(refused.value)


def test_store_answers_cleanly_after_a_query_that_failed_mid_stream(client: Any) -> None:
    # chDB keeps the partial output of a failed statement; the store drains it.
    with pytest.raises(DatabaseError) as failed:
        client.query(
            "SELECT number, throwIf(number = 50000) FROM system.numbers LIMIT 100000 "
            "SETTINGS max_block_size = 1000"
        )
    assert failed.value.code == 395
    assert client.query("SELECT 42 AS answer").result_rows == [(42,)]
    assert client.command("SELECT count() FROM vitals") == 3


# ---------------------------------------------------------------------------------------------
# Read-only


WRITES = [
    "INSERT INTO vitals (id) VALUES (99)",
    "INSERT INTO vitals (id) SELECT 99",
    "CREATE TABLE evil (a UInt8) ENGINE = Memory",
    "CREATE VIEW evil AS SELECT 1",
    "ALTER TABLE vitals DELETE WHERE 1",
    "ALTER TABLE vitals ADD COLUMN evil UInt8",
    "DELETE FROM vitals WHERE 1",
    "UPDATE vitals SET value = 0 WHERE 1",
    "DROP TABLE vitals",
    "DROP DATABASE vitalsight",
    "TRUNCATE TABLE vitals",
    "RENAME TABLE vitals TO evil",
    "OPTIMIZE TABLE vitals FINAL",
    "SYSTEM FLUSH LOGS",
    "SYSTEM DROP MARK CACHE",
    "KILL QUERY WHERE 1",
    "SET max_threads = 1",
    "USE system",
    "GRANT SELECT ON *.* TO default",
    "CREATE USER evil",
    "ATTACH TABLE evil",
    "DETACH TABLE vitals",
    "EXCHANGE TABLES vitals AND page_views",
    "BACKUP TABLE vitals TO Disk('default', 'x')",
    # bypass attempts
    "/* comment */ DrOp TaBlE vitals",
    "-- comment\nDROP TABLE vitals",
    "SELECT 1; DROP TABLE vitals",
    "SELECT 1;DROP TABLE vitals;",
    "SELECT ';'; DROP TABLE vitals",
    "SELECT 1 /* ; */; DROP TABLE vitals",
    "SELECT 1 -- ;\n; DROP TABLE vitals",
    "WITH 1 AS x INSERT INTO vitals (id) SELECT x",
    "(SELECT 1) ; TRUNCATE TABLE vitals",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT * FROM (SELECT id FROM vitals SETTINGS readonly = 0)",
    "SELECT 1 SETTINGS allow_introspection_functions = 1",
    "SELECT 1 SETTINGS max_threads = (SELECT 1)",
]


def test_writes_are_refused_and_the_data_is_intact(client: Any, store: ChdbStore) -> None:
    for sql in WRITES:
        with pytest.raises(DatabaseError) as refused:
            client.command(sql)
        assert refused.value.code in (164, 62), sql
    assert client.command("SELECT count() FROM vitals") == 3
    assert store.rows("SELECT count() FROM vitals") == [(3,)]
    tables = store.rows(f"SELECT name FROM system.tables WHERE database = '{DATABASE}' ORDER BY 1")
    assert tables == [("page_views",), ("vitals",)]
    assert store.rows("SELECT count() FROM system.columns WHERE table = 'vitals'") == [(8,)]


def _io_attempts(port: int, tmp: Path) -> list[str]:
    target = f"http://127.0.0.1:{port}"
    return [
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "SELECT * FROM FILE('/etc/hostname', 'LineAsString')",
        "SELECT file('/etc/hostname')",
        "SELECT `file`('/etc/hostname')",
        "DESCRIBE TABLE file('/etc/passwd', 'CSVWithNames')",
        f"SELECT * FROM url('{target}/select', 'CSVWithNames')",
        f"DESCRIBE url('{target}/describe', 'CSVWithNames')",
        f"SELECT * FROM (SELECT * FROM url('{target}/subquery', 'CSV', 'a String'))",
        f"SELECT id FROM vitals WHERE toString(id) IN (SELECT * FROM url('{target}/in', 'CSV'))",
        f"SELECT * FROM vitals AS v JOIN url('{target}/join', 'CSV', 'id UInt32') AS u USING id",
        f"WITH t AS (SELECT * FROM url('{target}/cte', 'CSV')) SELECT * FROM t",
        f"SELECT 1 UNION ALL SELECT * FROM url('{target}/union', 'CSV', 'a UInt8')",
        f"SELECT * FROM view(SELECT * FROM url('{target}/view', 'CSV'))",
        f"EXPLAIN SELECT * FROM url('{target}/explain', 'CSV')",
        f"EXPLAIN QUERY TREE SELECT * FROM url('{target}/explain-tree', 'CSV')",
        f"SELECT * FROM s3('{target}/bucket/key.csv')",
        f"SELECT * FROM remote('127.0.0.1:{port}', system.one)",
        f"SELECT * FROM mysql('127.0.0.1:{port}', 'db', 't', 'u', 'p')",
        f"SELECT * FROM postgresql('127.0.0.1:{port}', 'db', 't', 'u', 'p')",
        f"SELECT * FROM hdfs('hdfs://127.0.0.1:{port}/x', 'TSV', 'a String')",
        f"SELECT * FROM azureBlobStorage('{target}', 'container', 'blob.csv')",
        "SELECT * FROM executable('id', 'TSV', 'a String')",
        "SELECT * FROM sqlite('/tmp/evil.db', 't')",
        "SELECT * FROM jdbc('datasource', 'schema', 'table')",
        "SELECT * FROM odbc('DSN=x', 'db', 't')",
        "SELECT * FROM input('a String')",
        "SELECT * FROM Python(store)",
        f"SELECT 1 INTO OUTFILE '{tmp / 'outfile.txt'}'",
        f"SELECT 1 FORMAT Template SETTINGS format_template_resultset = '{tmp / 'x'}'",
    ]


def test_files_and_network_are_unreachable(
    client: Any, listener: tuple[int, list[str]], tmp_path: Path
) -> None:
    port, requests = listener
    for sql in _io_attempts(port, tmp_path):
        with pytest.raises(DatabaseError) as refused:
            client.command(sql)
        assert refused.value.code in (164, 62, 73), (sql, str(refused.value))
        assert "vm" not in str(refused.value).split("server response:", 1)[-1].split("(for url")[0]
    assert requests == []
    assert not (tmp_path / "outfile.txt").exists()
    assert client.command("SELECT count() FROM vitals") == 3


def test_harmless_table_functions_and_settings_still_work(client: Any) -> None:
    assert client.command("SELECT sum(number) FROM numbers(10)") == 45
    assert client.command("SELECT count() FROM vitals SETTINGS max_threads = 1") == 3
    rows = client.query("SELECT number FROM system.numbers LIMIT 3 SETTINGS limit = 2").result_rows
    assert rows == [(0,), (1,)]


def test_refusals_over_raw_http_use_clickhouse_error_shape(endpoint: str) -> None:
    reply = http_request(endpoint, params={"query": "DROP TABLE vitals"}, method="GET")
    assert reply.status == 403
    assert reply.headers["X-ClickHouse-Exception-Code"] == "164"
    assert reply.text.startswith("Code: 164. DB::Exception: Cannot execute query in readonly mode")
    assert reply.text.endswith("(READONLY)\n")


def test_timeout_ends_a_heavy_query(tight_endpoint: str) -> None:
    reader = _client(tight_endpoint)
    try:
        with pytest.raises(DatabaseError) as slow:
            reader.query("SELECT count() FROM system.numbers")
        assert slow.value.code == 159
        # A request cannot raise the limit, only lower it.
        with pytest.raises(DatabaseError):
            reader.command("SELECT count() FROM system.numbers SETTINGS max_execution_time = 60")
        assert reader.command("SELECT count() FROM vitals") == 3
    finally:
        reader.close()


def test_result_size_is_capped(tight_endpoint: str) -> None:
    reply = http_request(
        tight_endpoint, body=b"SELECT number FROM system.numbers LIMIT 100000 FORMAT JSONEachRow"
    )
    assert reply.status == 500
    assert reply.headers["X-ClickHouse-Exception-Code"] == "396"
    small = http_request(tight_endpoint, body=b"SELECT number FROM numbers(3) FORMAT CSV")
    assert (small.status, small.text) == (200, "0\n1\n2\n")


# ---------------------------------------------------------------------------------------------
# Protocol details over raw HTTP


def test_authentication_methods(endpoint: str) -> None:
    query = {"query": "SELECT 1"}
    by_header = http_request(
        endpoint,
        params=query,
        auth=None,
        method="GET",
        headers={"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD},
    )
    by_params = http_request(
        endpoint, params={**query, "user": USER, "password": PASSWORD}, auth=None, method="GET"
    )
    by_basic = http_request(endpoint, params=query, method="GET")
    assert [r.text for r in (by_header, by_params, by_basic)] == ["1\n"] * 3

    missing = http_request(endpoint, params=query, auth=None, method="GET")
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    wrong = http_request(endpoint, params=query, auth=(USER, "nope"), method="GET")
    assert wrong.status == 403
    mixed = http_request(endpoint, params={**query, "user": USER, "password": PASSWORD})
    for reply in (missing, wrong, mixed):
        assert reply.headers["X-ClickHouse-Exception-Code"] == "516"
        assert reply.text.startswith("Code: 516. DB::Exception: ")


def test_formats_parameters_and_headers(endpoint: str) -> None:
    reply = http_request(
        endpoint, body=b"SELECT 1 AS x, 'a' AS s format jsoneachrow", params={"query_id": "q-1"}
    )
    assert reply.text == '{"x":1,"s":"a"}\n'
    assert reply.headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert reply.headers["X-ClickHouse-Query-Id"] == "q-1"
    assert reply.headers["X-ClickHouse-Timezone"] == "Etc/UTC"
    assert json.loads(reply.headers["X-ClickHouse-Summary"])["result_bytes"] == str(len(reply.body))
    assert "X-ClickHouse-Server-Display-Name" in reply.headers

    default = http_request(
        endpoint, body=b"SELECT 1 AS x", params={"default_format": "CSVWithNames"}
    )
    assert (default.text, default.headers["Content-Type"]) == (
        '"x"\n1\n',
        "text/csv; charset=UTF-8; header=present",
    )
    # The query parameter and the body are joined with a newline, as ClickHouse does.
    unset = http_request(endpoint, params={"query": "SELECT"}, body=b"{n:UInt8} * 2 AS n2")
    assert unset.headers["X-ClickHouse-Exception-Code"] == "456"  # UNKNOWN_QUERY_PARAMETER
    joined = http_request(
        endpoint, params={"query": "SELECT", "param_n": "21"}, body=b"{n:UInt8} * 2 AS n2"
    )
    assert joined.text == "42\n"
    assert http_request(endpoint, params={"database": DATABASE, "query": "SELECT 1"}).text == "1\n"
    other = http_request(endpoint, params={"database": "default", "query": "SELECT 1"})
    assert (other.status, other.headers["X-ClickHouse-Exception-Code"]) == (404, "81")
    unknown_format = http_request(endpoint, body=b"SELECT 1 FORMAT NoSuchFormat")
    assert unknown_format.headers["X-ClickHouse-Exception-Code"] == "73"
    unknown_setting = http_request(endpoint, params={"query": "SELECT 1", "allow_ddl": "1"})
    assert unknown_setting.headers["X-ClickHouse-Exception-Code"] == "164"


@pytest.mark.parametrize("encoding", http_compression.RESPONSE_ENCODINGS)
def test_response_compression(endpoint: str, encoding: str) -> None:
    reply = http_request(
        endpoint,
        body=b"SELECT number FROM numbers(1000) FORMAT TSV",
        headers={"Accept-Encoding": encoding},
    )
    assert reply.headers["Content-Encoding"] == encoding
    plain = "".join(f"{i}\n" for i in range(1000)).encode()
    assert (
        http_compression.decode(reply.body, encoding, max_size=10**6) == plain
        if (encoding != "gzip")
        else gzip.decompress(reply.body) == plain
    )
    off = http_request(
        endpoint,
        params={"enable_http_compression": "0"},
        body=b"SELECT 1",
        headers={"Accept-Encoding": encoding},
    )
    assert "Content-Encoding" not in off.headers and off.text == "1\n"


def test_compressed_request_body(endpoint: str) -> None:
    reply = http_request(
        endpoint, body=gzip.compress(b"SELECT 7"), headers={"Content-Encoding": "gzip"}
    )
    assert reply.text == "7\n"
    deflated = http_request(
        endpoint, body=zlib.compress(b"SELECT 8"), headers={"Content-Encoding": "deflate"}
    )
    assert deflated.text == "8\n"
    for encoding in ("zstd", "lz4"):
        if encoding in http_compression.RESPONSE_ENCODINGS:
            body = http_compression.encode(b"SELECT 9", encoding)
            reply = http_request(endpoint, body=body, headers={"Content-Encoding": encoding})
            assert reply.text == "9\n", encoding
    # 3 MB of spaces compress to a few kB; decoded they exceed the 1 MiB query limit.
    for encoding in ("gzip", "lz4"):
        if encoding in http_compression.RESPONSE_ENCODINGS:
            bomb = http_compression.encode(b"SELECT 1 --" + b" " * 3_000_000, encoding)
            assert len(bomb) < 100_000
            reply = http_request(endpoint, body=bomb, headers={"Content-Encoding": encoding})
            assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) in (
                (413, "229"),
                (400, "36"),
            ), encoding


# ---------------------------------------------------------------------------------------------
# What clickhouse-go (Grafana's ClickHouse datasource, HTTP protocol) sends


def _go_request(url: str, sql: str, revision: int = CLICKHOUSE_GO_REVISION, **extra: str) -> Reply:
    # conn_http.go: POST to /?database=..&default_format=Native&client_protocol_version=..,
    # the query as the body, Basic auth from the URL's userinfo, and for the datasource's
    # HTTP mode (CompressionGZIP) an Accept-Encoding: gzip header.
    params = {
        "database": DATABASE,
        "default_format": "Native",
        "client_protocol_version": str(revision),
        "limit": "0",
        **extra,
    }
    reply = http_request(
        url,
        params=params,
        body=sql.encode(),
        headers={"Accept-Encoding": "gzip", "User-Agent": "clickhouse-go/2.40.0 (lv:go/1.24)"},
    )
    if reply.headers.get("Content-Encoding") == "gzip":
        reply.body = gzip.decompress(reply.body)
    return reply


def test_clickhouse_go_handshake_and_ping(endpoint: str, store: ChdbStore) -> None:
    hello = _go_request(endpoint, "SELECT displayName(), version(), revision(), timezone()")
    assert hello.status == 200, hello.text
    assert hello.headers["X-ClickHouse-Format"] == "Native"
    columns, rows = decode_native(hello.body, CLICKHOUSE_GO_REVISION)
    assert [t for _, t in columns] == ["String", "String", "UInt32", "String"]
    expected = store.query("SELECT displayName(), version(), revision(), timezone()")
    name, version, revision, timezone = expected.decode().strip().split("\t")
    assert rows == [[name, version, int(revision), timezone]]
    # ping: SELECT 1 must come back as one column named "1".
    ping = decode_native(_go_request(endpoint, "SELECT 1").body, CLICKHOUSE_GO_REVISION)
    assert ping == ([("1", "UInt8")], [[1]])
    version_only = decode_native(
        _go_request(endpoint, "SELECT version()").body, CLICKHOUSE_GO_REVISION
    )
    assert version_only[1] == [[version]]


def test_clickhouse_go_reads_every_column_type(endpoint: str) -> None:
    sql = "SELECT id, ts, attrs, buckets, browser, note, value FROM vitals ORDER BY id"
    for revision in (CLICKHOUSE_GO_REVISION, 54405, 54480, 0):
        reply = _go_request(endpoint, sql, revision)
        columns, rows = decode_native(reply.body, revision)
        assert [name for name, _ in columns] == [
            "id",
            "ts",
            "attrs",
            "buckets",
            "browser",
            "note",
            "value",
        ]
        assert [row[0] for row in rows] == [1, 2, 3]
        assert rows[0][1] == int(T1.replace(tzinfo=UTC).timestamp() * 1000)
        assert [row[2] for row in rows] == [r[2] for r in ROWS]
        assert [row[3] for row in rows] == [r[3] for r in ROWS]
        assert [row[4] for row in rows] == ["chrome", "firefox", "chrome"]
        assert [row[5] for row in rows] == [None, "slow", ""]
        assert math.isnan(rows[0][6]) and rows[2][6] == -0.25


def test_clickhouse_go_gets_a_header_for_an_empty_result(endpoint: str) -> None:
    reply = _go_request(endpoint, "SELECT id, note FROM vitals WHERE id > 100")
    columns, rows = decode_native(reply.body, CLICKHOUSE_GO_REVISION)
    assert columns == [("id", "UInt32"), ("note", "Nullable(String)")] and rows == []


def test_clickhouse_go_native_block_compression_is_refused_clearly(endpoint: str) -> None:
    # clickhouse-go with Compression LZ4/ZSTD over HTTP sends compress=1 and expects
    # ClickHouse's checksummed block format; Grafana's HTTP mode uses gzip instead.
    reply = _go_request(endpoint, "SELECT 1", compress="1")
    assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) == (501, "48")


def test_native_with_revision_refuses_opaque_types(endpoint: str) -> None:
    reply = _go_request(endpoint, "SELECT uniqState(id) FROM vitals")
    assert reply.headers["X-ClickHouse-Exception-Code"] == "48"
    assert "finalizeAggregation" in reply.text
    plain = _go_request(endpoint, "SELECT finalizeAggregation(uniqState(id)) AS n FROM vitals")
    assert decode_native(plain.body, CLICKHOUSE_GO_REVISION)[1] == [[3]]


# ---------------------------------------------------------------------------------------------
# Units


def test_split_query_takes_trailing_clauses_off() -> None:
    split = split_query("select * from t -- c\n SETTINGS max_threads = 2, limit='5' FORMAT JSON;")
    assert (split.body, split.keyword, split.format) == ("select * from t -- c", "SELECT", "JSON")
    assert split.settings == (("max_threads", "2"), ("limit", "5"))
    assert split_query("SELECT settings, format FROM t AS settings").settings == ()
    assert split_query("SELECT ';' AS `;`, $$;$$ /* ; /* ; */ */").format is None


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("", 62),
        ("  ;  ", 62),
        ("SELECT 1; SELECT 2", 62),
        ("INSERT INTO t VALUES (1)", 164),
        ("SELECT 1 INTO OUTFILE 'x'", 164),
        ("SELECT 1 SETTINGS a = [1]", 62),
        ("'unterminated", 62),
    ],
)
def test_split_query_refusals(sql: str, code: int) -> None:
    with pytest.raises(QueryError) as refused:
        split_query(sql)
    assert refused.value.code == code


def test_check_ast_reads_node_names_not_identifiers() -> None:
    # A crafted alias can add lines to the dump, never hide a real node.
    dump = (
        "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
        "  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n"
        "   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n"
        "     TableExpression (children 1)\n      Function url (alias x\n      Function numbers)"
        " (children 1)\n"
    )
    with pytest.raises(QueryError, match="table function url"):
        check_ast(dump)
    assert check_ast("ShowTables\n") == "ShowTables"
    with pytest.raises(QueryError):
        check_ast("InsertQuery   (children 1)\n Identifier t\n")


def test_native_rewrite_round_trip_and_refusal(store: ChdbStore) -> None:
    plain = store.query("SELECT id, browser, attrs FROM vitals ORDER BY id", output_format="Native")
    assert to_protocol_revision(plain, 0) == plain
    columns, rows = decode_native(to_protocol_revision(plain, 54460), 54460)
    assert columns[1] == ("browser", "LowCardinality(String)") and len(rows) == 3
    assert decode_native(header_block([("a", "UInt8")], 54460), 54460) == ([("a", "UInt8")], [])
    opaque = store.query("SELECT sumState(1)", output_format="Native")
    with pytest.raises(NativeFormatError):
        to_protocol_revision(opaque, 54460)


def test_readonly_settings_stop_file_and_network_access_in_the_engine(store: ChdbStore) -> None:
    # The third layer alone: the SETTINGS clause every statement runs with makes ClickHouse
    # refuse table functions that reach files or the network, and writes.
    limits = QueryLimits(max_execution_time=5, max_result_bytes=1_000_000)
    clause = settings_clause(build_settings([("max_threads", "2")], limits))
    assert clause.endswith("readonly = 1")
    for sql in (
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')",
        "INSERT INTO vitals (id) SELECT 99",
    ):
        with pytest.raises(Exception, match=r"^Code: 164\."):
            store.query(f"{sql}\n{clause}")
    assert store.rows(f"SELECT count() FROM vitals\n{clause}") == [(3,)]
    # A request may lower the limits, never raise them (0 means "no limit" in ClickHouse).
    raised = dict(build_settings([("max_execution_time", "60"), ("max_result_bytes", "0")], limits))
    assert (raised["max_execution_time"], raised["max_result_bytes"]) == ("5", "1000000")
    lowered = dict(build_settings([("max_execution_time", "0.5")], limits))
    assert lowered["max_execution_time"] == "0.5"
