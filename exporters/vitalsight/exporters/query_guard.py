"""What a request to the query endpoint may run on the embedded store: reads only, bounded.

The endpoint is reachable by Grafana, so a query must not write, change the store's settings,
read local files or reach the network. Three layers enforce that, so no single parser has to
be right:

1. ``split_query`` (a small lexer here) takes the trailing ``FORMAT`` and ``SETTINGS`` clauses
   off the text, and refuses several statements, ``INTO OUTFILE`` and statements that do not
   start like a read.
2. ClickHouse parses the rest: ``formatQuery()`` over a query parameter (so nothing in the text
   runs) proves it is one statement and returns it formatted; ``check_ast`` then inspects
   ``EXPLAIN AST`` of that formatted statement (statement kind, table functions, ``file()``,
   nested ``SETTINGS``). The formatted text is what runs, so what was checked is what runs.
3. The statement runs with ``SETTINGS ... readonly = 1`` appended (``build_settings``):
   ClickHouse itself refuses writes and the table functions that reach files or the network,
   and enforces the time and result-size limits.

Errors are ``QueryError`` carrying a ClickHouse error code, so clients see the same
``Code: N. DB::Exception: ...`` they would get from a ClickHouse server with a readonly user.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# ClickHouse error codes (src/Common/ErrorCodes.cpp) used by the endpoint.
BAD_ARGUMENTS = 36
NOT_IMPLEMENTED = 48
SYNTAX_ERROR = 62
UNKNOWN_FORMAT = 73
UNKNOWN_DATABASE = 81
READONLY = 164
QUERY_IS_TOO_LARGE = 229
TOO_MANY_ROWS_OR_BYTES = 396
AUTHENTICATION_FAILED = 516

ERROR_NAMES: dict[int, str] = {
    BAD_ARGUMENTS: "BAD_ARGUMENTS",
    NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    SYNTAX_ERROR: "SYNTAX_ERROR",
    UNKNOWN_FORMAT: "UNKNOWN_FORMAT",
    UNKNOWN_DATABASE: "UNKNOWN_DATABASE",
    READONLY: "READONLY",
    QUERY_IS_TOO_LARGE: "QUERY_IS_TOO_LARGE",
    TOO_MANY_ROWS_OR_BYTES: "TOO_MANY_ROWS_OR_BYTES",
    AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED",
}


class QueryError(Exception):
    """A refusal or failure reported to the client as a ClickHouse exception."""

    def __init__(self, code: int, message: str, *, text: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self._text = text

    def clickhouse_text(self) -> str:
        """The exception as ClickHouse writes it in an HTTP error body."""
        if self._text is not None:
            return self._text
        name = ERROR_NAMES.get(self.code, "UNKNOWN_EXCEPTION")
        return f"Code: {self.code}. DB::Exception: {self.message}. ({name})"


# ---------------------------------------------------------------------------------------------
# Statement kinds

# First keywords of statements that write, change state or settings: refused before parsing.
# Any other first word goes on to ClickHouse's parser (a typo is a syntax error there) and the
# statement kind is then checked on the AST.
WRITE_KEYWORDS = frozenset(
    {
        "INSERT",
        "CREATE",
        "ALTER",
        "DROP",
        "UNDROP",
        "TRUNCATE",
        "OPTIMIZE",
        "SYSTEM",
        "KILL",
        "SET",
        "GRANT",
        "REVOKE",
        "RENAME",
        "ATTACH",
        "DETACH",
        "EXCHANGE",
        "DELETE",
        "UPDATE",
        "USE",
        "BACKUP",
        "RESTORE",
        "MOVE",
        "CHECK",
        "WATCH",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "REPLACE",
    }
)

# Root nodes of `EXPLAIN AST` for those statements (ClickHouse 26.x node names).
_READ_ROOT_PREFIXES = ("SelectWithUnionQuery", "Show", "Describe", "Exists", "Explain")

# Table functions that only compute rows: everything else (file, url, s3, remote, mysql,
# executable, Python, ...) can reach files, the network or the process and is refused.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "generate_series",
        "generateseries",
        "values",
        "view",
        "null",
    }
)

# Ordinary functions that read files even with readonly = 1 (chDB runs as clickhouse-local, where
# file() is not confined to user_files_path), or load models from paths.
DENIED_FUNCTIONS = frozenset({"file", "catboostevaluate", "modelevaluate"})


# ---------------------------------------------------------------------------------------------
# Output formats

# Formats a client may ask for (FORMAT clause or default_format), by their ClickHouse names.
# Left out on purpose: formats that read a schema or template file named by a setting
# (Template, Protobuf*, CapnProto, CustomSeparated*), and wire protocols (MySQLWire, ...).
ALLOWED_FORMATS = (
    "TabSeparated",
    "TabSeparatedRaw",
    "TabSeparatedWithNames",
    "TabSeparatedWithNamesAndTypes",
    "TabSeparatedRawWithNames",
    "TabSeparatedRawWithNamesAndTypes",
    "TSV",
    "TSVRaw",
    "TSVWithNames",
    "TSVWithNamesAndTypes",
    "TSVRawWithNames",
    "TSVRawWithNamesAndTypes",
    "CSV",
    "CSVWithNames",
    "CSVWithNamesAndTypes",
    "JSON",
    "JSONStrings",
    "JSONCompact",
    "JSONCompactStrings",
    "JSONColumns",
    "JSONColumnsWithMetadata",
    "JSONCompactColumns",
    "JSONEachRow",
    "JSONStringsEachRow",
    "JSONCompactEachRow",
    "JSONCompactEachRowWithNames",
    "JSONCompactEachRowWithNamesAndTypes",
    "JSONCompactStringsEachRow",
    "JSONCompactStringsEachRowWithNames",
    "JSONCompactStringsEachRowWithNamesAndTypes",
    "JSONObjectEachRow",
    "JSONLines",
    "JSONL",
    "NDJSON",
    "PrettyJSONEachRow",
    "PrettyJSONLines",
    "PrettyNDJSON",
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
    "Values",
    "Vertical",
    "Pretty",
    "PrettyCompact",
    "PrettyCompactMonoBlock",
    "PrettyNoEscapes",
    "PrettyCompactNoEscapes",
    "PrettySpace",
    "PrettySpaceNoEscapes",
    "PrettyMonoBlock",
    "PrettyNoEscapesMonoBlock",
    "PrettySpaceMonoBlock",
    "PrettyCompactNoEscapesMonoBlock",
    "PrettySpaceNoEscapesMonoBlock",
    "Markdown",
    "MD",
    "XML",
    "TSKV",
    "SQLInsert",
    "Null",
    "RawBLOB",
    "Prometheus",
)
_FORMATS_BY_LOWER = {name.lower(): name for name in ALLOWED_FORMATS}


def resolve_format(name: str) -> str:
    """Return the ClickHouse name of an allowed output format (names are case-insensitive)."""
    canonical = _FORMATS_BY_LOWER.get(name.lower())
    if canonical is None:
        raise QueryError(
            UNKNOWN_FORMAT, f"Output format {name} is unknown or not served by this endpoint"
        )
    return canonical


# ---------------------------------------------------------------------------------------------
# Settings

# Settings a request may set (URL parameters or the query's trailing SETTINGS clause). They
# change how a read is computed or printed; nothing here reaches files, the network or writes.
ALLOWED_SETTINGS = frozenset(
    {
        "max_execution_time",
        "max_result_bytes",
        "max_result_rows",
        "result_overflow_mode",
        "limit",
        "offset",
        "max_threads",
        "max_block_size",
        "max_rows_to_read",
        "max_bytes_to_read",
        "read_overflow_mode",
        "max_rows_to_group_by",
        "group_by_overflow_mode",
        "max_bytes_before_external_group_by",
        "max_bytes_before_external_sort",
        "max_memory_usage",
        "join_use_nulls",
        "join_algorithm",
        "join_default_strictness",
        "session_timezone",
        "date_time_output_format",
        "date_time_input_format",
        "date_time_overflow_behavior",
        "cast_string_to_dynamic_use_inference",
        "aggregate_functions_null_for_empty",
        "transform_null_in",
        "prefer_column_name_to_alias",
        "enable_analyzer",
        "allow_experimental_analyzer",
        "extremes",
        "totals_mode",
        "totals_auto_threshold",
        "final",
        "do_not_merge_across_partitions_select_final",
        "count_distinct_implementation",
        "joined_subquery_requires_alias",
        "use_skip_indexes",
        "force_primary_key",
        "force_index_by_date",
        "optimize_read_in_order",
        "optimize_aggregation_in_order",
        "output_format_json_quote_64bit_integers",
        "output_format_json_quote_64bit_floats",
        "output_format_json_quote_denormals",
        "output_format_json_quote_decimals",
        "output_format_json_named_tuples_as_objects",
        "output_format_json_escape_forward_slashes",
        "output_format_json_array_of_rows",
        "output_format_json_validate_utf8",
        "output_format_decimal_trailing_zeros",
        "output_format_arrow_string_as_string",
        "output_format_arrow_low_cardinality_as_dictionary",
        "output_format_parquet_string_as_string",
        "output_format_tsv_crlf_end_of_line",
        "output_format_csv_crlf_end_of_line",
        "output_format_write_statistics",
        "output_format_pretty_max_rows",
        "output_format_pretty_color",
        "format_csv_delimiter",
        "format_tsv_null_representation",
        "format_csv_null_representation",
        "log_comment",
    }
)

# Request parameters of the ClickHouse HTTP interface that are not settings, or settings with
# no effect here (no sessions, no progress headers, no inserts). They are accepted and ignored.
IGNORED_PARAMS = frozenset(
    {
        "query",
        "database",
        "user",
        "password",
        "quota_key",
        "default_format",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "compress",
        "decompress",
        "enable_http_compression",
        "http_zlib_compression_level",
        "client_protocol_version",
        "wait_end_of_query",
        "buffer_size",
        "send_progress_in_http_headers",
        "http_headers_progress_interval_ms",
        "cancel_http_readonly_queries_on_client_close",
        "http_native_compression_disable_checksumming_on_decompress",
        "role",
        "stacktrace",
        "log_queries",
        "log_query_threads",
        "async_insert",
        "wait_for_async_insert",
        "insert_deduplicate",
        "mutations_sync",
        "http_response_buffer_size",
        "http_wait_end_of_query",
        "add_http_cors_header",
        "output_format_enable_streaming",
    }
)


@dataclass(frozen=True)
class QueryLimits:
    """Bounds applied to every statement the endpoint runs.

    Attributes:
        max_execution_time: seconds one statement may run; a request may only lower it.
        max_result_bytes: bytes one result may hold (ClickHouse ``max_result_bytes`` and the
            size of the formatted response); a request may only lower it.
    """

    max_execution_time: float
    max_result_bytes: int


def build_settings(
    requested: Iterable[tuple[str, str]], limits: QueryLimits
) -> list[tuple[str, str]]:
    """Return the ``SETTINGS`` list (name, SQL literal) for a statement.

    ``requested`` holds the URL-parameter settings then the query's own trailing ``SETTINGS``
    (later wins). Unknown or disallowed names are refused as a ClickHouse readonly user would
    be refused; the limits can only be lowered; ``readonly = 1`` always comes last.
    """
    chosen: dict[str, str] = {}
    for name, value in requested:
        if name == "readonly":
            # Asking for readonly 1 or 2 is harmless (Grafana may send it); 0 is a refusal.
            if value.strip() in ("1", "2"):
                continue
            raise QueryError(READONLY, "Cannot modify 'readonly' setting in readonly mode")
        if name not in ALLOWED_SETTINGS:
            raise QueryError(
                READONLY,
                f"Cannot modify '{name}' setting in readonly mode "
                "(this endpoint applies only its allowlisted settings)",
            )
        chosen[name] = value
    out = [
        (name, quote_string(value))
        for name, value in chosen.items()
        if name not in ("max_execution_time", "max_result_bytes")
    ]
    out.append(
        (
            "max_execution_time",
            _format_number(
                _lowered(chosen.get("max_execution_time"), limits.max_execution_time, float)
            ),
        )
    )
    out.append(
        (
            "max_result_bytes",
            _format_number(_lowered(chosen.get("max_result_bytes"), limits.max_result_bytes, int)),
        )
    )
    if "result_overflow_mode" not in chosen:
        out.append(("result_overflow_mode", "'throw'"))
    out.append(("timeout_overflow_mode", "'throw'"))
    out.append(("readonly", "1"))
    return out


def _lowered(value: str | None, limit: float, kind: type[int] | type[float]) -> float:
    if value is None:
        return limit
    try:
        number = kind(value.strip())
    except ValueError:
        raise QueryError(BAD_ARGUMENTS, f"Cannot parse setting value {value!r}") from None
    # 0 means "no limit" in ClickHouse: the endpoint's limit stays.
    return limit if number <= 0 else min(number, limit)


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def settings_clause(settings: Iterable[tuple[str, str]]) -> str:
    """Render a settings list as a ``SETTINGS`` clause (names are allowlisted identifiers)."""
    return "SETTINGS " + ", ".join(f"{name} = {literal}" for name, literal in settings)


def quote_string(value: str) -> str:
    """A ClickHouse string literal for any text."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def escape_param(value: str) -> str:
    """Encode text as a query-parameter value (ClickHouse parses those in the Escaped format)."""
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )


# ---------------------------------------------------------------------------------------------
# Lexer and trailing clauses


@dataclass(frozen=True)
class _Token:
    kind: str  # word, number, string, qident, punct
    text: str
    start: int
    end: int
    depth: int

    def is_word(self, word: str) -> bool:
        return self.kind == "word" and self.text.upper() == word


@dataclass(frozen=True)
class SplitQuery:
    """A query with its trailing clauses taken off.

    Attributes:
        body: the statement without trailing ``FORMAT``/``SETTINGS`` and ``;``.
        keyword: its first keyword, upper case.
        format: the name in a trailing ``FORMAT`` clause, if any.
        settings: the trailing ``SETTINGS`` clause as (name, value text) pairs.
    """

    body: str
    keyword: str
    format: str | None
    settings: tuple[tuple[str, str], ...]


_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[^\W\d]\w*")
_HEREDOC = re.compile(r"\$(\w*)\$")
_OPEN = "([{"
_CLOSE = ")]}"


def _tokenize(text: str) -> list[_Token]:
    """Significant tokens of ClickHouse SQL (comments and whitespace dropped)."""
    tokens: list[_Token] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i) or (ch == "#" and text[i + 1 : i + 2] in (" ", "!")):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif ch in "'`\"":
            end = _skip_quoted(text, i, ch)
            kind = "string" if ch == "'" else "qident"
            tokens.append(_Token(kind, text[i:end], i, end, depth))
            i = end
        elif ch == "$" and (match := _HEREDOC.match(text, i)):
            close = text.find(match.group(0), match.end())
            if close < 0:
                raise QueryError(SYNTAX_ERROR, "Syntax error: unterminated heredoc")
            end = close + len(match.group(0))
            tokens.append(_Token("string", text[i:end], i, end, depth))
            i = end
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            match = _NUMBER.match(text, i)
            end = match.end() if match else i + 1
            tokens.append(_Token("number", text[i:end], i, end, depth))
            i = end
        elif match := _WORD.match(text, i):
            tokens.append(_Token("word", match.group(0), i, match.end(), depth))
            i = match.end()
        else:
            if ch in _CLOSE:
                depth = max(0, depth - 1)
            tokens.append(_Token("punct", ch, i, i + 1, depth))
            if ch in _OPEN:
                depth += 1
            i += 1
    return tokens


def _skip_block_comment(text: str, i: int) -> int:
    # ClickHouse block comments nest.
    level, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            level += 1
            j += 2
        elif text.startswith("*/", j):
            level -= 1
            j += 2
            if level == 0:
                return j
        else:
            j += 1
    raise QueryError(SYNTAX_ERROR, "Syntax error: unterminated comment")


def _skip_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
        elif ch == quote:
            if text[j + 1 : j + 2] == quote:  # doubled quote
                j += 2
            else:
                return j + 1
        else:
            j += 1
    raise QueryError(SYNTAX_ERROR, "Syntax error: unterminated quoted literal")


def _unquote(token: _Token) -> str:
    if token.kind not in ("qident", "string"):
        return token.text
    inner = token.text[1:-1]
    quote = token.text[0]
    inner = inner.replace(quote * 2, quote)
    return re.sub(
        r"\\(.)",
        lambda m: {"t": "\t", "n": "\n", "r": "\r", "0": "\0"}.get(m.group(1), m.group(1)),
        inner,
    )


def _setting_value(tokens: list[_Token]) -> str | None:
    """The text value of a literal setting value, or None when it is not one literal."""
    if (
        len(tokens) == 2
        and tokens[0].kind == "punct"
        and tokens[0].text in "+-"
        and (tokens[1].kind == "number")
    ):
        return tokens[0].text + tokens[1].text
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if token.kind == "string":
        return _unquote(token) if token.text.startswith("'") else None
    if token.kind in ("number", "word"):
        return token.text
    return None


def _parse_settings(tokens: list[_Token]) -> tuple[tuple[str, str], ...] | None:
    """Parse ``name = literal, ...``; None when the tokens are not such a list."""
    if not tokens:
        return None
    items: list[tuple[str, str]] = []
    current: list[_Token] = []
    groups: list[list[_Token]] = []
    for token in tokens:
        if token.kind == "punct" and token.text == "," and token.depth == tokens[0].depth:
            groups.append(current)
            current = []
        else:
            current.append(token)
    groups.append(current)
    for group in groups:
        if (
            len(group) < 3
            or group[0].kind not in ("word", "qident")
            or not (group[1].kind == "punct" and group[1].text == "=")
        ):
            return None
        value = _setting_value(group[2:])
        if value is None:
            return None
        items.append((_unquote(group[0]), value))
    return tuple(items)


def split_query(text: str) -> SplitQuery:
    """Take the trailing ``FORMAT`` and ``SETTINGS`` clauses off one statement.

    Raises:
        QueryError: empty text, several statements, ``INTO OUTFILE``, a statement that starts
            like a write, or a trailing ``SETTINGS`` value that is not one literal.
    """
    tokens = _tokenize(text)
    while tokens and tokens[-1].kind == "punct" and tokens[-1].text == ";":
        tokens.pop()
    if not tokens:
        raise QueryError(SYNTAX_ERROR, "Syntax error: Empty query")
    if any(t.kind == "punct" and t.text == ";" for t in tokens):
        raise QueryError(SYNTAX_ERROR, "Syntax error (Multi-statements are not allowed)")
    for first, second in itertools.pairwise(tokens):
        if first.is_word("INTO") and second.is_word("OUTFILE"):
            raise QueryError(READONLY, "Cannot execute query in readonly mode: INTO OUTFILE")
    keyword = next((t.text.upper() for t in tokens if t.kind == "word"), "")
    if keyword in WRITE_KEYWORDS:
        raise QueryError(
            READONLY,
            f"Cannot execute query in readonly mode: {keyword} statements are refused",
        )

    end = len(tokens)
    fmt: str | None = None
    settings: tuple[tuple[str, str], ...] | None = None
    for _ in range(2):
        if (
            fmt is None
            and end >= 2
            and tokens[end - 2].is_word("FORMAT")
            and (tokens[end - 2].depth == 0 and tokens[end - 1].kind in ("word", "qident"))
        ):
            fmt = _unquote(tokens[end - 1])
            end -= 2
            continue
        if settings is None:
            start = next(
                (
                    i
                    for i in range(end - 1, -1, -1)
                    if tokens[i].is_word("SETTINGS") and tokens[i].depth == 0
                ),
                None,
            )
            if start is not None:
                parsed = _parse_settings(tokens[start + 1 : end])
                looks_like_settings = end - start > 2 and tokens[start + 2].text == "="
                if parsed is None and looks_like_settings:
                    raise QueryError(
                        SYNTAX_ERROR, "Only literal values are supported in the SETTINGS clause"
                    )
                if parsed is not None:
                    settings = parsed
                    end = start
                    continue
        break
    body_end = tokens[end].start if end < len(tokens) else tokens[-1].end
    return SplitQuery(
        body=text[:body_end].rstrip(),
        keyword=keyword,
        format=fmt,
        settings=settings or (),
    )


# ---------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True)
class _AstLine:
    depth: int
    text: str


def check_ast(dump: str) -> str:
    """Check ``EXPLAIN AST`` of the formatted statement; return the root node name.

    Refuses (code 164) statements that are not reads, table functions outside
    ``ALLOWED_TABLE_FUNCTIONS``, the functions in ``DENIED_FUNCTIONS``, ``SETTINGS`` inside the
    statement (they would apply after ``readonly = 1`` and some still take effect), and
    ``INTO OUTFILE`` or ``FORMAT`` left in the text.

    Identifiers and aliases are printed raw and may hold newlines, so a crafted name can add
    lines to the dump; it cannot remove or reorder the real ones, so at worst it causes a
    refusal. Real node lines are read by their leading node name only.
    """
    lines = [
        _AstLine(len(raw) - len(raw.lstrip(" ")), raw.strip())
        for raw in dump.splitlines()
        if raw.strip()
    ]
    if not lines:
        raise QueryError(SYNTAX_ERROR, "Syntax error: Empty query")
    root = lines[0].text.split(" ", 1)[0]
    if not root.startswith(_READ_ROOT_PREFIXES):
        raise QueryError(READONLY, f"Cannot execute query in readonly mode ({root})")
    for index, line in enumerate(lines):
        node, _, rest = line.text.partition(" ")
        if node == "Function":
            name = rest.split(" ", 1)[0].lower()
            parent = lines[index - 1].text if index else ""
            if parent.startswith("TableExpression") and name not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryError(
                    READONLY,
                    f"Cannot execute query in readonly mode: table function {name} is refused",
                )
            if name in DENIED_FUNCTIONS:
                raise QueryError(
                    READONLY, f"Cannot execute query in readonly mode: function {name} is refused"
                )
        elif node == "Set" and not (root == "Explain" and line.depth == 1):
            raise QueryError(
                READONLY,
                "Cannot modify settings in readonly mode: SETTINGS are only accepted at the end "
                "of the query",
            )
        elif line.depth == 1 and root == "SelectWithUnionQuery" and node != "ExpressionList":
            raise QueryError(
                READONLY, "Cannot execute query in readonly mode: INTO OUTFILE or FORMAT in query"
            )
    return root


def request_settings(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """The settings among HTTP request parameters (everything not a known request parameter)."""
    return [
        (name, value)
        for name, value in params.items()
        if name not in IGNORED_PARAMS and not name.startswith("param_")
    ]
