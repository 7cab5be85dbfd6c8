"""OTLP/HTTP receiver: POST /v1/traces, /v1/metrics, /v1/logs (OTLP spec, "OTLP/HTTP").

Protobuf or JSON bodies, gzip/deflate, CORS for browsers. Every refusal carries a
google.rpc.Status with the reason, in the request's encoding: 400 malformed, 401 wrong
API key, 413 too large, 415 unknown content type, 503 + Retry-After when the ingest queue
is full (retryable; accepted data is never dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from google.rpc import code_pb2, status_pb2
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vitalsight.exporters.exporter import ExportStatus
from vitalsight.receivers.api_keys import bearer_token, is_known_key
from vitalsight.receivers.client_address import (
    ClientAddressPolicy,
    forwarded_or_peer,
    stamp_client_address,
)
from vitalsight.receivers.cors import cors_middleware
from vitalsight.receivers.decode import (
    JSON,
    MalformedPayloadError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    decode_request,
    decompress,
    encode_response,
)
from vitalsight.receivers.ingest_queue import Ingest
from vitalsight.receivers.signals import SIGNALS, Signal
from vitalsight.service.config import LimitsConfig
from vitalsight.service.selfmetrics import SelfMetrics

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-Vitalsight-Key"
API_KEY_PARAM = "api_key"  # sendBeacon cannot set headers, so browsers use the URL
_GRPC_CODES = {
    HTTPStatus.BAD_REQUEST: code_pb2.INVALID_ARGUMENT,
    HTTPStatus.UNAUTHORIZED: code_pb2.UNAUTHENTICATED,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: code_pb2.RESOURCE_EXHAUSTED,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: code_pb2.INVALID_ARGUMENT,
    HTTPStatus.SERVICE_UNAVAILABLE: code_pb2.UNAVAILABLE,
    HTTPStatus.INTERNAL_SERVER_ERROR: code_pb2.INTERNAL,
}


def create_otlp_app(
    pipeline: Ingest,
    *,
    limits: LimitsConfig,
    api_keys: Collection[str] = (),
    cors_origins: Collection[str] = ("*",),
    metrics: SelfMetrics | None = None,
    client_address: ClientAddressPolicy | None = None,
) -> web.Application:
    """The OTLP/HTTP application, with `/metrics` and `/healthz` beside it.

    With a `client_address` policy the sender's address is stamped on each resource as
    `client.address` (for a processor that turns it into coarse geo and drops it).
    """
    receiver = _OtlpHttpReceiver(pipeline, limits, frozenset(api_keys), client_address)
    app = web.Application(
        client_max_size=limits.max_request_bytes,
        # We inflate ourselves, with a limit on the inflated size (zip bombs).
        handler_args={"auto_decompress": False},
        middlewares=[cors_middleware(cors_origins, allow_headers=(API_KEY_HEADER,))],
    )
    app.router.add_post("/v1/{signal:traces|metrics|logs}", receiver.handle)
    app.router.add_get("/healthz", _healthz)
    if metrics is not None:
        app.router.add_get("/metrics", _metrics_handler(metrics))
    return app


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _metrics_handler(metrics: SelfMetrics) -> Any:
    async def handle(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST})

    return handle


class _OtlpHttpReceiver:
    def __init__(
        self,
        pipeline: Ingest,
        limits: LimitsConfig,
        api_keys: frozenset[str],
        client_address: ClientAddressPolicy | None,
    ) -> None:
        self._pipeline = pipeline
        self._limits = limits
        self._api_keys = api_keys
        self._client_address = client_address

    async def handle(self, request: web.Request) -> web.Response:
        signal = SIGNALS[request.match_info["signal"]]
        content_type = request.headers.get(hdrs.CONTENT_TYPE, "")
        refusal = self._check_request(request)
        if refusal is not None:
            return self._refuse(signal, content_type, *refusal)
        try:
            body = await request.read()
            raw = decompress(
                body,
                request.headers.get(hdrs.CONTENT_ENCODING, ""),
                self._limits.max_decompressed_bytes,
            )
            export_request = decode_request(signal, raw, content_type)
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(signal, content_type)
        except PayloadTooLargeError as exc:
            return self._refuse(signal, content_type, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(exc))
        except UnsupportedMediaTypeError as exc:
            return self._refuse(signal, JSON, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(exc))
        except MalformedPayloadError as exc:
            return self._refuse(signal, content_type, HTTPStatus.BAD_REQUEST, str(exc))
        if self._client_address is not None:
            address = forwarded_or_peer(
                request.headers.get(hdrs.X_FORWARDED_FOR),
                request.remote,
                trust_forwarded=self._client_address.trust_forwarded_for,
            )
            stamp_client_address(signal, export_request, address)
        return self._export(signal, export_request, content_type)

    def _check_request(self, request: web.Request) -> tuple[HTTPStatus, str] | None:
        if self._api_keys and not self._authorized(request):
            return HTTPStatus.UNAUTHORIZED, "missing or unknown API key"
        length = request.content_length
        if length is not None and length > self._limits.max_request_bytes:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self._too_large_reason()
        return None

    def _authorized(self, request: web.Request) -> bool:
        offered = (
            request.headers.get(API_KEY_HEADER)
            or request.query.get(API_KEY_PARAM)
            or bearer_token(request.headers.get(hdrs.AUTHORIZATION, ""))
        )
        return is_known_key(offered, self._api_keys)

    def _too_large_reason(self) -> str:
        return f"request body exceeds {self._limits.max_request_bytes} bytes"

    def _too_large(self, signal: Signal, content_type: str) -> web.Response:
        return self._refuse(
            signal, content_type, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self._too_large_reason()
        )

    def _export(self, signal: Signal, export_request: Any, content_type: str) -> web.Response:
        result = self._pipeline.ingest(signal, export_request, transport="http")
        if result.status is ExportStatus.QUEUE_FULL:
            return self._refuse(
                signal,
                content_type,
                HTTPStatus.SERVICE_UNAVAILABLE,
                result.message,
                headers={hdrs.RETRY_AFTER: str(self._limits.retry_after_s)},
                counted_by_pipeline=True,
            )
        if result.status is ExportStatus.FAILED:
            return self._refuse(
                signal,
                content_type,
                HTTPStatus.INTERNAL_SERVER_ERROR,
                result.message,
                counted_by_pipeline=True,
            )
        response = signal.response(result.rejected_items, result.message)
        body, media = encode_response(response, content_type)
        return web.Response(body=body, content_type=media)

    def _refuse(
        self,
        signal: Signal,
        content_type: str,
        status: HTTPStatus,
        reason: str,
        headers: dict[str, str] | None = None,
        counted_by_pipeline: bool = False,
    ) -> web.Response:
        if not counted_by_pipeline:
            self._pipeline.reject(signal, status.phrase.lower().replace(" ", "_"))
        message = status_pb2.Status(code=_GRPC_CODES[status], message=reason)
        body, media = encode_response(message, content_type)
        return web.Response(status=status, body=body, content_type=media, headers=headers)
