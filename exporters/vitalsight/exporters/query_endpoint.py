"""A read-only ClickHouse HTTP interface over the embedded store.

Only one process can open a chDB directory and Grafana's ClickHouse datasource cannot open
one at all, so ``vitalsight serve`` answers the ClickHouse HTTP protocol (default port 8123)
from the store it owns. Every reader (Grafana, ``vitalsight report``, the insight service,
tests) then speaks to the embedded store as it would to a ClickHouse server:

    app = create_query_app(store, user="grafana", password=secret)
    web.run_app(app, port=DEFAULT_PORT)  # or mount it with an AppRunner beside the receivers

What is implemented, and what the two clients that matter (clickhouse-connect and
clickhouse-go, the driver of grafana-clickhouse-datasource) send, is in ``QUERY_ENDPOINT.md``
next to this file. The read-only rules are in ``query_guard``; the Native rewriting for
``client_protocol_version`` is in ``native_format``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar, runtime_checkable

from aiohttp import web

from vitalsight.exporters import http_compression
from vitalsight.exporters.native_format import (
    NativeFormatError,
    header_block,
    to_protocol_revision,
)
from vitalsight.exporters.query_guard import (
    AUTHENTICATION_FAILED,
    BAD_ARGUMENTS,
    NOT_IMPLEMENTED,
    QUERY_IS_TOO_LARGE,
    TOO_MANY_ROWS_OR_BYTES,
    UNKNOWN_DATABASE,
    QueryError,
    QueryLimits,
    build_settings,
    check_ast,
    escape_param,
    request_settings,
    resolve_format,
    settings_clause,
    split_query,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8123
DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_EXECUTION_TIME = 15.0  # seconds; the writer waits for the store while a query runs
DEFAULT_MAX_QUERY_BYTES = 1024 * 1024
DEFAULT_WORKERS = 4
DEFAULT_FORMAT = "TabSeparated"
SERVER_DISPLAY_NAME = "vitalsight"

_T = TypeVar("_T")
REALM = "vitalsight"

# src/Server/HTTP/exceptionCodeToHTTPStatus.cpp (ClickHouse 25.x), plus READONLY -> 403: a
# refused write is a permission problem, and a 5xx would invite retries.
_HTTP_STATUS: dict[int, int] = {
    194: 401,  # REQUIRED_PASSWORD
    192: 403,
    193: 403,
    516: 403,
    512: 403,  # UNKNOWN_USER, WRONG_PASSWORD, AUTH..., ROLE
    164: 403,  # READONLY
    **dict.fromkeys(
        (
            36,
            427,
            6,
            25,
            26,
            38,
            41,
            72,
            441,
            675,
            676,
            27,
            376,
            15,
            44,
            8,
            37,
            123,
            167,
            168,
            223,
            62,
            117,
            53,
            321,
        ),
        400,
    ),
    **dict.fromkeys((60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511), 404),
    229: 413,  # QUERY_IS_TOO_LARGE
    48: 501,  # NOT_IMPLEMENTED
    209: 503,
    76: 503,
    439: 503,  # SOCKET_TIMEOUT, CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK
    381: 411,  # HTTP_LENGTH_REQUIRED
    159: 408,  # TIMEOUT_EXCEEDED
}

_CHDB_CODE = re.compile(r"^Code: (\d+)\.")
# formatQuery() errors quote the wrapper statement; the client only needs its own query.
_WRAPPER_SCOPE = re.compile(r":? In scope SELECT formatQuery\(.*\)\. \(", re.DOTALL)
_FORMAT_PARAM = "vitalsight_query_text"


@runtime_checkable
class QueryStore(Protocol):
    """What the endpoint needs from a store (``ChdbStore`` has it; the server store has not:
    clients query the server itself)."""

    database: str

    def query(
        self, sql: str, *, output_format: str = ..., params: Mapping[str, str] | None = ...
    ) -> bytes:
        """Run one statement and return its output in ``output_format``."""


@dataclass(frozen=True)
class _ServerInfo:
    timezone: str = "UTC"


@dataclass(frozen=True)
class _Prepared:
    """One checked request, ready to run."""

    body: str
    output_format: str
    settings: list[tuple[str, str]]
    params: dict[str, str]
    revision: int
    timezone: str | None


def create_query_app(
    store: QueryStore,
    *,
    user: str,
    password: str,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    max_execution_time: float = DEFAULT_MAX_EXECUTION_TIME,
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
    workers: int = DEFAULT_WORKERS,
) -> web.Application:
    """Build the aiohttp application answering the ClickHouse HTTP protocol from ``store``.

    Args:
        store: the embedded store (``ChdbStore``); statements run on its connection, one at a
            time with the writer's.
        user: the only user name accepted.
        password: its password; required, compared in constant time.
        max_result_bytes: largest result a query may return (ClickHouse ``max_result_bytes``
            and the size of the formatted body); a request may only lower it.
        max_execution_time: seconds a statement may run (ClickHouse ``max_execution_time``), so
            a heavy panel cannot hold the store from the writer for long.
        max_query_bytes: largest request body, decompressed.
        workers: threads that wait on the store for queries.

    Returns:
        An application serving ``/``, ``/ping`` and ``/replicas_status``.

    Raises:
        ValueError: missing credentials or non-positive limits.
    """
    if not user or not password:
        raise ValueError("the query endpoint needs a user and a password")
    if max_result_bytes <= 0 or max_execution_time <= 0 or max_query_bytes <= 0 or workers <= 0:
        raise ValueError("query endpoint limits must be positive")
    endpoint = _QueryEndpoint(
        store,
        user=user,
        password=password,
        limits=QueryLimits(
            max_execution_time=max_execution_time, max_result_bytes=max_result_bytes
        ),
        max_query_bytes=max_query_bytes,
        workers=workers,
    )
    app = web.Application(client_max_size=max_query_bytes + 64 * 1024)
    app.router.add_route("*", "/", endpoint.handle_query)
    app.router.add_get("/ping", _ok)
    app.router.add_get("/replicas_status", _ok)
    app.on_startup.append(endpoint.on_startup)
    app.on_cleanup.append(endpoint.on_cleanup)
    return app


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="Ok.\n", content_type="text/plain")


class _QueryEndpoint:
    def __init__(
        self,
        store: QueryStore,
        *,
        user: str,
        password: str,
        limits: QueryLimits,
        max_query_bytes: int,
        workers: int,
    ) -> None:
        self._store = store
        self._user = user.encode()
        self._password = password.encode()
        self._limits = limits
        self._max_query_bytes = max_query_bytes
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vs-query")
        self._info = _ServerInfo()

    # -- lifecycle -----------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        try:
            raw = await self._run(
                partial(self._store.query, "SELECT timezone()", output_format="TabSeparatedRaw")
            )
            self._info = _ServerInfo(timezone=raw.decode().strip() or "UTC")
        except Exception:
            logger.warning("could not read the store's timezone; reporting UTC", exc_info=True)

    async def on_cleanup(self, app: web.Application) -> None:
        # A running statement ends within max_execution_time; wait for it off the loop.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None, partial(self._executor.shutdown, wait=True, cancel_futures=True)
        )

    async def _run(self, call: partial[_T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # -- requests ------------------------------------------------------------------------

    async def handle_query(self, request: web.Request) -> web.StreamResponse:
        query_id = (
            request.query.get("query_id")
            or request.headers.get("X-ClickHouse-Query-Id")
            or str(uuid.uuid4())
        )
        if request.method in ("GET", "HEAD") and "query" not in request.query:
            return await _ok(request)  # ClickHouse answers a bare GET / like /ping
        started = time.perf_counter_ns()
        try:
            if request.method not in ("GET", "POST"):
                raise QueryError(
                    BAD_ARGUMENTS, f"HTTP method {request.method} is not supported; use GET or POST"
                )
            self._authenticate(request)
            prepared = await self._prepare(request)
            body = await self._run(partial(self._execute, prepared))
        except QueryError as exc:
            return self._error_response(exc, request, query_id)
        return self._result_response(request, prepared, body, query_id, started)

    def _authenticate(self, request: web.Request) -> None:
        """Credentials as ClickHouse reads them: X-ClickHouse-* headers, Basic auth, or params."""
        headers, params = request.headers, request.query
        header_user = headers.get("X-ClickHouse-User")
        header_key = headers.get("X-ClickHouse-Key")
        authorization = headers.get("Authorization")
        in_params = "user" in params or "password" in params
        if header_user is not None or header_key is not None:
            if authorization or in_params:
                raise _auth_error(
                    "Invalid authentication: it is not allowed to use X-ClickHouse HTTP headers "
                    "and other authentication methods simultaneously"
                )
            user, password = header_user or "", header_key or ""
        elif authorization:
            if in_params:
                raise _auth_error(
                    "Invalid authentication: it is not allowed to use Authorization HTTP header "
                    "and authentication via parameters simultaneously"
                )
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "basic":
                raise _auth_error(
                    f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported"
                )
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise _auth_error("Invalid authentication: malformed Basic credentials") from None
            user, _, password = decoded.partition(":")
        elif in_params:
            user, password = params.get("user", ""), params.get("password", "")
        else:
            raise QueryError(
                AUTHENTICATION_FAILED,
                "Authentication failed: this endpoint requires a user and a password",
            )
        user_ok = hmac.compare_digest(user.encode(), self._user)
        password_ok = hmac.compare_digest(password.encode(), self._password)
        if not (user_ok and password_ok):
            raise _auth_error(
                f"{user}: Authentication failed: password is incorrect, "
                "or there is no user with such name"
            )

    async def _prepare(self, request: web.Request) -> _Prepared:
        params: dict[str, str] = dict(request.query)
        if params.get("compress", "0") not in ("0", "false"):
            raise QueryError(
                NOT_IMPLEMENTED,
                "compress=1 (ClickHouse block compression of the response) is not supported by "
                "this endpoint; use HTTP compression (Accept-Encoding: zstd, lz4, gzip, deflate)",
            )
        if params.get("decompress", "0") not in ("0", "false"):
            raise QueryError(
                NOT_IMPLEMENTED,
                "decompress=1 (ClickHouse block compression of the request) is not supported; "
                "use Content-Encoding",
            )
        body = await self._read_body(request, params)
        query = params.get("query", "")
        if query and body:
            query += "\n"  # ClickHouse joins the query parameter and the body with a newline
        query += body
        if len(query.encode()) > self._max_query_bytes:
            raise QueryError(QUERY_IS_TOO_LARGE, "Max query size exceeded")

        database = params.get("database") or request.headers.get("X-ClickHouse-Database")
        if database and database != self._store.database:
            raise QueryError(
                UNKNOWN_DATABASE,
                f"Database {database} does not exist: this endpoint serves only "
                f"{self._store.database}",
            )
        split = split_query(query)
        output_format = resolve_format(
            split.format
            or params.get("default_format")
            or request.headers.get("X-ClickHouse-Format")
            or DEFAULT_FORMAT
        )
        requested = [*request_settings(params), *split.settings]
        settings = build_settings(requested, self._limits)
        timezone = next((v for k, v in reversed(requested) if k == "session_timezone" and v), None)
        return _Prepared(
            body=split.body,
            output_format=output_format,
            settings=settings,
            params={
                k.removeprefix("param_"): v for k, v in params.items() if k.startswith("param_")
            },
            revision=_int_param(params, "client_protocol_version"),
            timezone=timezone,
        )

    async def _read_body(self, request: web.Request, params: dict[str, str]) -> str:
        if not request.can_read_body:
            return ""
        content_type = request.headers.get("Content-Type", "")
        try:
            if content_type.startswith("multipart/form-data"):
                # clickhouse-connect sends long bound parameters as form fields.
                form = await request.post()
                query = ""
                for name, value in form.items():
                    if not isinstance(value, str):
                        raise QueryError(
                            NOT_IMPLEMENTED, "External data (file fields) is not supported"
                        )
                    if name == "query":
                        query = value
                    else:
                        params[name] = value
                return query
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise QueryError(QUERY_IS_TOO_LARGE, "Max query size exceeded") from None
        try:
            raw = http_compression.decode(
                raw, request.headers.get("Content-Encoding", ""), max_size=self._max_query_bytes
            )
        except http_compression.EncodingError as exc:
            raise QueryError(BAD_ARGUMENTS, str(exc)) from None
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise QueryError(BAD_ARGUMENTS, "The query is not valid UTF-8") from None

    def _execute(self, prepared: _Prepared) -> bytes:
        """Parse, check and run one statement (in a worker thread)."""
        # formatQuery over a parameter: ClickHouse parses the text as exactly one statement
        # without running any of it, and the formatted text is what is checked and run.
        formatted = self._store_query(
            f"SELECT formatQuery({{{_FORMAT_PARAM}:String}})",
            output_format="RawBLOB",
            params={_FORMAT_PARAM: escape_param(prepared.body)},
        ).decode()
        root = check_ast(
            self._store_query(
                f"EXPLAIN AST {formatted}", output_format="TSVRaw", params=prepared.params
            ).decode()
        )
        settings = settings_clause(prepared.settings)
        result = self._store_query(
            f"{formatted}\n{settings}",
            output_format=prepared.output_format,
            params=prepared.params,
        )
        if prepared.output_format == "Native":
            if not result and root == "SelectWithUnionQuery":
                result = header_block(
                    self._describe(formatted, settings, prepared), prepared.revision
                )
            else:
                try:
                    result = to_protocol_revision(result, prepared.revision)
                except NativeFormatError as exc:
                    raise QueryError(NOT_IMPLEMENTED, str(exc)) from None
        if len(result) > self._limits.max_result_bytes:
            raise QueryError(
                TOO_MANY_ROWS_OR_BYTES,
                f"Limit for result exceeded, max bytes: {self._limits.max_result_bytes}, "
                f"current bytes: {len(result)}",
            )
        return result

    def _describe(
        self, formatted: str, settings: str, prepared: _Prepared
    ) -> list[tuple[str, str]]:
        # chDB writes nothing for an empty Native result; ClickHouse writes the column header,
        # which clients need for column names (Grafana) and types (clickhouse-connect).
        raw = self._store_query(
            f"DESCRIBE TABLE ({formatted})\n{settings}",
            output_format="JSONCompactEachRow",
            params=prepared.params,
        )
        return [(row[0], row[1]) for row in map(json.loads, raw.decode().splitlines()) if row]

    def _store_query(self, sql: str, *, output_format: str, params: Mapping[str, str]) -> bytes:
        try:
            return self._store.query(sql, output_format=output_format, params=params)
        except Exception as exc:  # chDB raises RuntimeError subclasses with ClickHouse text
            raise _store_error(exc) from None

    # -- responses -----------------------------------------------------------------------

    def _common_headers(self, query_id: str, timezone: str | None = None) -> dict[str, str]:
        return {
            "X-ClickHouse-Server-Display-Name": SERVER_DISPLAY_NAME,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": timezone or self._info.timezone,
        }

    def _result_response(
        self,
        request: web.Request,
        prepared: _Prepared,
        body: bytes,
        query_id: str,
        started_ns: int,
    ) -> web.Response:
        headers = self._common_headers(query_id, prepared.timezone)
        headers["X-ClickHouse-Format"] = prepared.output_format
        headers["X-ClickHouse-Summary"] = json.dumps(
            {
                "read_rows": "0",
                "read_bytes": "0",
                "written_rows": "0",
                "written_bytes": "0",
                "total_rows_to_read": "0",
                "result_bytes": str(len(body)),
                "elapsed_ns": str(time.perf_counter_ns() - started_ns),
            },
            separators=(",", ":"),
        )
        headers["Content-Type"] = _content_type(prepared.output_format)
        params = request.query
        encoding = None
        if params.get("enable_http_compression", "1") not in ("0", "false"):
            encoding = http_compression.choose_encoding(request.headers.get("Accept-Encoding", ""))
        if encoding is not None and body:
            level = _int_param(params, "http_zlib_compression_level") or (
                http_compression.DEFAULT_ZLIB_LEVEL
            )
            body = http_compression.encode(body, encoding, level=min(max(level, 1), 9))
            headers["Content-Encoding"] = encoding
        return web.Response(body=body, headers=headers)

    def _error_response(self, exc: QueryError, request: web.Request, query_id: str) -> web.Response:
        status = _HTTP_STATUS.get(exc.code, 500)
        headers = self._common_headers(query_id)
        headers["X-ClickHouse-Exception-Code"] = str(exc.code)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        if exc.code == AUTHENTICATION_FAILED and not _has_credentials(request):
            status = 401
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        logger.debug("query %s refused or failed: %s", query_id, exc.clickhouse_text())
        return web.Response(
            status=status, body=(exc.clickhouse_text() + "\n").encode(), headers=headers
        )


def _auth_error(message: str) -> QueryError:
    return QueryError(AUTHENTICATION_FAILED, message)


def _has_credentials(request: web.Request) -> bool:
    headers = request.headers
    return bool(
        "X-ClickHouse-User" in headers
        or "X-ClickHouse-Key" in headers
        or "Authorization" in headers
        or "user" in request.query
        or "password" in request.query
    )


def _int_param(params: Mapping[str, str], name: str) -> int:
    value = params.get(name, "")
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise QueryError(BAD_ARGUMENTS, f"Cannot parse {name}={value!r} as an integer") from None


def _store_error(exc: Exception) -> QueryError:
    text = str(exc).strip()
    match = _CHDB_CODE.match(text)
    if match is None:
        logger.warning("store error without a ClickHouse code", exc_info=exc)
        return QueryError(1002, text or type(exc).__name__)  # UNKNOWN_EXCEPTION
    text = _WRAPPER_SCOPE.sub(". (", text)
    return QueryError(int(match.group(1)), text, text=text)


_NDJSON_FORMATS = frozenset(
    {
        "JSONEachRow",
        "JSONStringsEachRow",
        "JSONLines",
        "JSONL",
        "NDJSON",
        "JSONCompactEachRow",
        "JSONCompactStringsEachRow",
    }
)
_BINARY_FORMATS = frozenset(
    {
        "Native",
        "RowBinary",
        "RowBinaryWithNames",
        "RowBinaryWithNamesAndTypes",
        "Arrow",
        "ArrowStream",
        "Parquet",
        "ORC",
        "Avro",
        "BSONEachRow",
        "MsgPack",
        "Npy",
        "RawBLOB",
    }
)


def _content_type(output_format: str) -> str:
    """The Content-Type ClickHouse's output formats report (IOutputFormat::getContentType)."""
    if output_format.startswith(("TabSeparated", "TSV")):
        content_type = "text/tab-separated-values; charset=UTF-8"
    elif output_format.startswith("CSV"):
        header = "present" if "WithNames" in output_format else "absent"
        content_type = f"text/csv; charset=UTF-8; header={header}"
    elif output_format in _NDJSON_FORMATS:
        content_type = "application/x-ndjson; charset=UTF-8"
    elif "JSON" in output_format:
        content_type = "application/json; charset=UTF-8"
    elif output_format == "XML":
        content_type = "application/xml; charset=UTF-8"
    elif output_format in _BINARY_FORMATS:
        content_type = "application/octet-stream"
    else:
        content_type = "text/plain; charset=UTF-8"
    return content_type


__all__ = [
    "DEFAULT_MAX_EXECUTION_TIME",
    "DEFAULT_MAX_QUERY_BYTES",
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_PORT",
    "DEFAULT_WORKERS",
    "QueryStore",
    "create_query_app",
]
