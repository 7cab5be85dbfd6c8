"""End to end: sampled records stored through the real schema, re-weighted by the facts'
`1 / sample_rate`, add back up to the true count (docs/ARCHITECTURE.md, rollups)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from tests.otlp_samples import RESOURCE
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_logs
from vitalsight.exporters.schema import migrate
from vitalsight.processors.sample import build
from vitalsight.receivers.signals import LOGS
from vitalsight.service.otlp_build import event, logs_request

T0 = 1_760_000_000_000_000_000
ROUTES = ("/results", "/products/:id", "/checkout", "/health")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    opened = ChdbStore(Path(tmp_path_factory.mktemp("chdb")))
    migrate(opened)
    yield opened
    opened.close()


def traffic(sessions: int, seed: int = 11) -> tuple[list[LogRecord], int]:
    """Page views of `sessions` sessions (1-4 each, random routes, 3% with an error midway)."""
    rng = random.Random(seed)
    records: list[LogRecord] = []
    page_views = 0
    for i in range(sessions):
        session = f"{rng.getrandbits(64):016x}-{i}"
        views = rng.randint(1, 4)
        error_at = rng.randrange(views) if rng.random() < 0.03 else -1
        for view in range(views):
            context = {"session.id": session, "browser.page.route": rng.choice(ROUTES)}
            records.append(event("browser.page_view", T0 + view * 1_000_000_000, context))
            page_views += 1
            if view == error_at:
                records.append(event("exception", T0, {**context, "exception.type": "E"}))
    return records, page_views


def test_reweighting_by_sample_rate_recovers_the_true_count(store: ChdbStore) -> None:
    processor = build(
        {
            "rate": 0.1,
            "apps": {"shop-web": {"routes": {"/checkout": 1.0}}},
            "routes": {"/health": 0.02},
        }
    )
    records, true_page_views = traffic(40_000)
    for start in range(0, len(records), 5_000):
        request = logs_request(RESOURCE, records[start : start + 5_000])
        store.insert(encode_logs(processor.process(LOGS, request)).to_rows())
    stored, weight, rates = store.rows(
        "SELECT count(), sum(1 / sample_rate), groupUniqArray(sample_rate) FROM rum_page_views"
    )[0]
    (rollup_weight,) = store.rows("SELECT sum(weight) FROM rum_page_views_1m")[0]
    assert isinstance(stored, int) and stored < true_page_views / 3  # it did sample
    assert sorted(rates) == pytest.approx([0.02, 0.1, 1.0])
    assert weight == pytest.approx(true_page_views, rel=0.04)
    assert rollup_weight == pytest.approx(weight, rel=1e-4)
