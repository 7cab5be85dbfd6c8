"""HTTP Content-Encoding for the query endpoint: what ClickHouse's HTTP interface offers.

Response encodings are chosen like ClickHouse's ``chooseHTTPCompressionMethod``
(src/IO/CompressionMethod.cpp): zstd, then lz4 (LZ4 frame), gzip, deflate (zlib stream).
zstd and lz4 are used when their modules are installed (clickhouse-connect depends on both);
Brotli, xz, bzip2 and snappy are not offered. Request bodies may use the same encodings;
their decompressed size is bounded so a small compressed body cannot exhaust memory.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any

DEFAULT_ZLIB_LEVEL = 3  # ClickHouse's http_zlib_compression_level default


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


_zstd: Any = _optional("compression.zstd") or _optional("backports.zstd")
_lz4: Any = _optional("lz4.frame")

# Most preferred first, as ClickHouse prefers them.
RESPONSE_ENCODINGS = tuple(
    name for name, ok in (("zstd", _zstd), ("lz4", _lz4), ("gzip", True), ("deflate", True)) if ok
)


class EncodingError(Exception):
    """A body in an unknown encoding, corrupt, or larger than allowed once decoded."""


def choose_encoding(accept_encoding: str) -> str | None:
    """The response encoding for an ``Accept-Encoding`` header, or None for identity."""
    offered: set[str] = set()
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        quality = params.strip()
        if quality.startswith("q=") and _is_zero(quality[2:]):
            continue
        offered.add(name.strip().lower())
    return next((name for name in RESPONSE_ENCODINGS if name in offered), None)


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def encode(data: bytes, encoding: str, *, level: int = DEFAULT_ZLIB_LEVEL) -> bytes:
    """Compress a response body."""
    if encoding == "zstd":
        return bytes(_zstd.compress(data))
    if encoding == "lz4":
        return bytes(_lz4.compress(data))
    if encoding == "gzip":
        compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush()
    if encoding == "deflate":
        return zlib.compress(data, level)
    raise EncodingError(f"unknown encoding {encoding}")


# Leading bytes of each encoding's stream (RFC 1952, RFC 1950, RFC 8878, LZ4 frame format).
def _is_encoded(data: bytes, encoding: str) -> bool:
    if encoding in ("gzip", "x-gzip"):
        return data.startswith(b"\x1f\x8b")
    if encoding == "deflate":
        return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0
    if encoding == "zstd":
        return data.startswith(b"\x28\xb5\x2f\xfd")
    # br has no magic number: only aiohttp (with brotli installed) decodes it.
    return encoding != "br"


def decode(data: bytes, encoding: str, *, max_size: int) -> bytes:
    """Decompress a request body, refusing one that decodes to more than ``max_size`` bytes.

    aiohttp's server already decodes gzip, deflate, br and zstd request bodies (its default
    ``auto_decompress=True``, bounded by the app's ``client_max_size``) but leaves the
    Content-Encoding header in place; a body that no longer starts like its encoding is taken
    as decoded. lz4 is always decoded here.
    """
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity") or not _is_encoded(data, encoding):
            out = data
        elif encoding in ("gzip", "x-gzip", "deflate"):
            # wbits 32 + MAX_WBITS reads gzip and zlib headers alike.
            decompressor = zlib.decompressobj(32 + zlib.MAX_WBITS)
            out = decompressor.decompress(data, max_size + 1)
        elif encoding == "zstd" and _zstd is not None:
            out = _zstd.ZstdDecompressor().decompress(data, max_length=max_size + 1)
        elif encoding == "lz4" and _lz4 is not None:
            out = _lz4.LZ4FrameDecompressor().decompress(data, max_length=max_size + 1)
        else:
            raise EncodingError(f"Unsupported Content-Encoding {encoding!r}")
    except EncodingError:
        raise
    except Exception as exc:
        raise EncodingError(f"Cannot decompress the request body ({encoding}): {exc}") from exc
    if len(out) > max_size:
        raise EncodingError(f"The request body is larger than {max_size} bytes once decompressed")
    return bytes(out)
