"""The client address stamped for the enrich processor."""

from __future__ import annotations

from tests.otlp_samples import fetch_spans_request, vitals_request
from vitalsight.processors.otlp_records import get_str
from vitalsight.receivers.client_address import (
    forwarded_or_peer,
    grpc_peer_address,
    stamp_client_address,
)
from vitalsight.receivers.signals import LOGS, TRACES


def test_forwarded_for_only_when_trusted() -> None:
    xff = "203.0.113.7, 10.0.0.2"
    assert forwarded_or_peer(xff, "10.0.0.9", trust_forwarded=True) == "203.0.113.7"
    assert forwarded_or_peer(xff, "10.0.0.9", trust_forwarded=False) == "10.0.0.9"
    assert forwarded_or_peer(None, "10.0.0.9", trust_forwarded=True) == "10.0.0.9"
    assert forwarded_or_peer(None, None, trust_forwarded=False) == ""


def test_grpc_peer_strings() -> None:
    assert grpc_peer_address("ipv4:198.51.100.4:50312") == "198.51.100.4"
    assert grpc_peer_address("ipv6:[2001:db8::1]:443") == "2001:db8::1"
    assert grpc_peer_address("unix:/tmp/sock") == ""


def test_stamps_every_resource_but_keeps_a_senders_value() -> None:
    logs = vitals_request("addr", 1)
    stamp_client_address(LOGS, logs, "198.51.100.4")
    assert get_str(logs.resource_logs[0].resource.attributes, "client.address") == "198.51.100.4"
    stamp_client_address(LOGS, logs, "192.0.2.1")
    assert get_str(logs.resource_logs[0].resource.attributes, "client.address") == "198.51.100.4"
    spans = fetch_spans_request("addr", 1)
    stamp_client_address(TRACES, spans, "")
    assert get_str(spans.resource_spans[0].resource.attributes, "client.address") is None
