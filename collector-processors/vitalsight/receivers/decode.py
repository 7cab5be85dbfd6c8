"""Decoding OTLP/HTTP bodies: content encoding, protobuf, and the OTLP JSON mapping.

OTLP JSON differs from protobuf's canonical JSON in one way that matters: trace and span
ids are hex strings, not base64 (OTLP spec, "JSON Protobuf Encoding"). We rewrite them to
base64 and let protobuf's own JSON parser do the rest (camelCase or snake_case names,
int64 as strings or numbers, enums as integers, unknown fields ignored as the spec asks).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from vitalsight.receivers.signals import Signal

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# sendBeacon cannot send application/json cross-origin without a preflight, so browsers
# send OTLP JSON as text/plain; we accept it as JSON.
JSON_TYPES = frozenset({JSON, "text/plain"})
_ID_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)


class MalformedPayloadError(Exception):
    """The body cannot be decoded; the message is the reason sent back with a 400."""


class PayloadTooLargeError(Exception):
    """The body, once decompressed, is over the limit (413)."""


class UnsupportedMediaTypeError(Exception):
    """Neither protobuf nor JSON (415)."""


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header, lower case."""
    return content_type.split(";", 1)[0].strip().lower()


def decompress(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo Content-Encoding, refusing to inflate past `limit` bytes (zip bombs)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaTypeError(f"unsupported Content-Encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedPayloadError(f"body is not valid {encoding}: {exc}") from exc
    if len(out) > limit:
        raise PayloadTooLargeError(f"decompressed body exceeds {limit} bytes")
    if not inflater.eof:
        raise MalformedPayloadError(f"body is a truncated {encoding} stream")
    return out


def decode_request(signal: Signal, body: bytes, content_type: str) -> Any:
    """Parse an export request of `signal` from a decompressed body."""
    kind = media_type(content_type)
    if kind == PROTOBUF:
        return _decode_protobuf(signal, body)
    if kind in JSON_TYPES:
        return _decode_json(signal, body)
    raise UnsupportedMediaTypeError(
        f"unsupported Content-Type {content_type!r}; use {PROTOBUF} or {JSON}"
    )


def _decode_protobuf(signal: Signal, body: bytes) -> Any:
    try:
        return signal.request_type.FromString(body)
    except DecodeError as exc:
        raise MalformedPayloadError(
            f"invalid protobuf {signal.request_type.__name__}: {exc}"
        ) from exc


def _decode_json(signal: Signal, body: bytes) -> Any:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayloadError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedPayloadError("invalid OTLP JSON: the body must be a JSON object")
    _hex_ids_to_base64(document)
    try:
        return json_format.ParseDict(document, signal.request_type(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise MalformedPayloadError(f"invalid OTLP JSON: {exc}") from exc


def _hex_ids_to_base64(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = _hex_to_base64(key, value)
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def _hex_to_base64(key: str, value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode("ascii")
    except ValueError as exc:
        raise MalformedPayloadError(f"invalid OTLP JSON: {key} {value!r} is not hex") from exc


def encode_response(message: Any, content_type: str) -> tuple[bytes, str]:
    """Serialize a response (or google.rpc.Status) in the request's encoding."""
    if media_type(content_type) in JSON_TYPES:
        text = json_format.MessageToJson(message, indent=None)
        return text.encode("utf-8"), JSON
    return message.SerializeToString(), PROTOBUF
