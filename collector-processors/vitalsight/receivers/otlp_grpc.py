"""OTLP/gRPC receiver: the collector TraceService, MetricsService and LogsService.

grpcio decodes the protobuf; a full queue answers UNAVAILABLE (retryable in the OTLP
spec), a wrong API key UNAUTHENTICATED.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from vitalsight.exporters.exporter import ExportStatus
from vitalsight.receivers.api_keys import bearer_token, is_known_key
from vitalsight.receivers.client_address import (
    ClientAddressPolicy,
    forwarded_or_peer,
    grpc_peer_address,
    stamp_client_address,
)
from vitalsight.receivers.ingest_queue import Ingest
from vitalsight.receivers.signals import LOGS, METRICS, TRACES, Signal

API_KEY_METADATA = "x-vitalsight-key"


class _ExportService:
    """One OTLP service; grpcio calls `Export` for each request."""

    def __init__(
        self,
        signal: Signal,
        pipeline: Ingest,
        api_keys: frozenset[str],
        client_address: ClientAddressPolicy | None,
    ):
        self._signal = signal
        self._pipeline = pipeline
        self._api_keys = api_keys
        self._client_address = client_address

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802 (gRPC method name)
        if self._api_keys and not self._authorized(context):
            self._pipeline.reject(self._signal, "unauthorized")
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown API key")
        if self._client_address is not None:
            metadata = dict(context.invocation_metadata() or ())
            address = forwarded_or_peer(
                str(metadata.get("x-forwarded-for", "")),
                grpc_peer_address(context.peer()),
                trust_forwarded=self._client_address.trust_forwarded_for,
            )
            stamp_client_address(self._signal, request, address)
        result = self._pipeline.ingest(self._signal, request, transport="grpc")
        if result.status is ExportStatus.QUEUE_FULL:
            await context.abort(grpc.StatusCode.UNAVAILABLE, result.message)
        if result.status is ExportStatus.FAILED:
            await context.abort(grpc.StatusCode.INTERNAL, result.message)
        return self._signal.response(result.rejected_items, result.message)

    def _authorized(self, context: grpc.aio.ServicerContext) -> bool:
        metadata = dict(context.invocation_metadata() or ())
        offered = str(metadata.get(API_KEY_METADATA, ""))
        if not offered:
            offered = bearer_token(str(metadata.get("authorization", "")))
        return is_known_key(offered, self._api_keys)


def create_grpc_server(
    pipeline: Ingest,
    *,
    address: str,
    max_message_bytes: int,
    api_keys: Collection[str] = (),
    client_address: ClientAddressPolicy | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the three OTLP services bound; returns it and its port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
        ]
    )
    keys = frozenset(api_keys)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        _ExportService(TRACES, pipeline, keys, client_address), server
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
        _ExportService(METRICS, pipeline, keys, client_address), server
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
        _ExportService(LOGS, pipeline, keys, client_address), server
    )
    port = server.add_insecure_port(address)
    return server, port
