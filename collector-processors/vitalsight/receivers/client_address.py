"""The sender's address, for the enrich processor's coarse geo lookup.

Only stamped when a processor that consumes and then drops it (enrich) is in the pipeline:
otherwise the IP would be stored. Behind a proxy or an OTel Collector the peer is the proxy,
so `trust_forwarded_for` takes the first X-Forwarded-For hop instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vitalsight.processors.otlp_records import set_str
from vitalsight.receivers.signals import Signal

CLIENT_ADDRESS_ATTRIBUTE = "client.address"  # OpenTelemetry semantic conventions
_RESOURCE_LISTS = {
    "traces": "resource_spans",
    "metrics": "resource_metrics",
    "logs": "resource_logs",
}


@dataclass(frozen=True)
class ClientAddressPolicy:
    """Stamp `client.address`; trust the first X-Forwarded-For hop when behind a proxy."""

    trust_forwarded_for: bool = False


def forwarded_or_peer(forwarded_for: str | None, peer: str | None, *, trust_forwarded: bool) -> str:
    """The client's address: the first X-Forwarded-For hop when trusted, else the peer."""
    if trust_forwarded and forwarded_for:
        return forwarded_for.split(",", 1)[0].strip()
    return peer or ""


def grpc_peer_address(peer: str) -> str:
    """`ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` → the address without the port."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    return ""


def stamp_client_address(signal: Signal, request: Any, address: str) -> None:
    """Put the address on every resource of the request, unless a sender already did."""
    if not address:
        return
    for resource_block in getattr(request, _RESOURCE_LISTS[signal.name]):
        attributes = resource_block.resource.attributes
        if not any(kv.key == CLIENT_ADDRESS_ATTRIBUTE for kv in attributes):
            set_str(attributes, CLIENT_ADDRESS_ATTRIBUTE, address)
