"""What the receiver promises under pressure: limits, keys, backpressure, durability."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otlp_samples import vitals_request
from tests.receivers.test_otlp_http import PROTOBUF, decode_status, marker, post
from tests.serve_process import ServeProcess


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[ServeProcess]:
    config = tmp_path / "vitalsight.yaml"
    config.write_text(
        "limits:\n  max_request_bytes: 4096\n  max_decompressed_bytes: 16384\n",
        encoding="utf-8",
    )
    process = ServeProcess(tmp_path / "data", ["--config", str(config)]).start()
    yield process
    process.stop()


def test_oversized_body_is_413(limited_server: ServeProcess) -> None:
    body = vitals_request(marker(), 40).SerializeToString()
    assert len(body) > 4096
    status, headers, response = post(limited_server, "/v1/logs", body, PROTOBUF)
    assert status == 413
    assert "exceeds 4096 bytes" in decode_status(response, headers["Content-Type"]).message


def test_zip_bomb_is_413(limited_server: ServeProcess) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)
    assert len(bomb) < 4096
    status, headers, response = post(
        limited_server, "/v1/logs", bomb, PROTOBUF, **{"Content-Encoding": "gzip"}
    )
    assert status == 413
    assert (
        "decompressed body exceeds 16384"
        in decode_status(response, headers["Content-Type"]).message
    )


def test_api_key_required_when_configured(tmp_path: Path) -> None:
    process = ServeProcess(tmp_path / "data", ["--api-key", "k-123"]).start()
    try:
        body = vitals_request(marker(), 1).SerializeToString()
        assert post(process, "/v1/logs", body, PROTOBUF)[0] == 401
        wrong = post(process, "/v1/logs", body, PROTOBUF, **{"X-Vitalsight-Key": "nope"})
        assert wrong[0] == 401
        assert "API key" in decode_status(wrong[2], wrong[1]["Content-Type"]).message
        ok = post(process, "/v1/logs", body, PROTOBUF, **{"X-Vitalsight-Key": "k-123"})
        assert ok[0] == 200
        beacon = process.http_url
        process.http_url = beacon  # the beacon form: key in the query string
        status = post_with_query_key(process, body, "k-123")
        assert status == 200
    finally:
        process.stop()


def post_with_query_key(process: ServeProcess, body: bytes, key: str) -> int:
    path = f"/v1/logs?api_key={key}"
    return post(process, path, body, PROTOBUF)[0]


def test_full_queue_answers_503_and_loses_nothing_accepted(tmp_path: Path) -> None:
    """A tiny queue that never flushes by itself: the 6th row is refused with Retry-After;
    a graceful stop writes the 5 accepted rows, which survive a restart."""
    data_dir = tmp_path / "data"
    args = ["--queue-rows", "5", "--flush-rows", "1000", "--flush-interval", "600"]
    process = ServeProcess(data_dir, args).start()
    accepted, refused = marker(), marker()
    try:
        assert (
            post(process, "/v1/logs", vitals_request(accepted, 5).SerializeToString(), PROTOBUF)[0]
            == 200
        )
        status, headers, body = post(
            process, "/v1/logs", vitals_request(refused, 1).SerializeToString(), PROTOBUF
        )
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert "queue is full" in decode_status(body, headers["Content-Type"]).message
    finally:
        assert process.stop() == 0
    restarted = ServeProcess(data_dir).start()
    try:
        assert restarted.rows(
            f"SELECT count() FROM rum_vitals WHERE startsWith(metric_id, '{accepted}')"
        ) == [(5,)]
        assert restarted.rows(
            f"SELECT count() FROM otel_logs WHERE "
            f"startsWith(LogAttributes['browser.web_vital.id'], '{refused}')"
        ) == [(0,)]
    finally:
        restarted.stop()


def test_timestamps_round_trip_exactly(server: ServeProcess) -> None:
    """Nanosecond event times survive intact (no epoch-scale confusion, no TTL loss)."""
    mark = marker()
    three_days_ago = (time.time_ns() // 1_000_000_000 - 3 * 86_400) * 1_000_000_000 + 123_456_789
    body = vitals_request(mark, 1, time_ns=three_days_ago).SerializeToString()
    assert post(server, "/v1/logs", body, PROTOBUF)[0] == 200
    assert server.wait_for_count("rum_vitals", 1, where=f"metric_id = '{mark}-0'") == 1
    raw = server.rows(
        "SELECT toUnixTimestamp64Nano(Timestamp) FROM otel_logs "
        f"WHERE LogAttributes['browser.web_vital.id'] = '{mark}-0'"
    )
    assert raw == [(three_days_ago,)]
    fact = server.rows(
        f"SELECT toUnixTimestamp64Milli(timestamp) FROM rum_vitals WHERE metric_id = '{mark}-0'"
    )
    assert fact == [(three_days_ago // 1_000_000,)]


def test_refused_requests_leave_accepted_data_intact(limited_server: ServeProcess) -> None:
    """Malformed, oversized and wrong-type requests between good ones change nothing that
    was accepted: every acknowledged row is stored exactly once."""
    before, after = marker(), marker()
    body = vitals_request(before, 3).SerializeToString()
    assert post(limited_server, "/v1/logs", body, PROTOBUF)[0] == 200
    refusals = [
        post(limited_server, "/v1/logs", b"\x0a\xff\xff", PROTOBUF)[0],
        post(
            limited_server, "/v1/logs", vitals_request(marker(), 40).SerializeToString(), PROTOBUF
        )[0],
        post(limited_server, "/v1/logs", body, "application/xml")[0],
        post(
            limited_server,
            "/v1/logs",
            gzip.compress(b"\0" * 100_000),
            PROTOBUF,
            **{"Content-Encoding": "gzip"},
        )[0],
    ]
    assert refusals == [400, 413, 415, 413]
    assert (
        post(limited_server, "/v1/logs", vitals_request(after, 2).SerializeToString(), PROTOBUF)[0]
        == 200
    )
    for mark, expected in ((before, 3), (after, 2)):
        where = f"startsWith(metric_id, '{mark}')"
        assert limited_server.wait_for_count("rum_vitals", expected, where=where) == expected
    assert limited_server.rows("SELECT count() FROM otel_logs") == [(5,)]
