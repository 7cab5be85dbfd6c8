"""Insight service benchmark: detection quality over every shipped scenario, and cycle cost.

    .venv/bin/python bench/insights.py                 # all scenarios + the 50-route cycle
    .venv/bin/python bench/insights.py --skip-cycle    # quality only
    .venv/bin/python bench/insights.py insight-service/scenarios/bundle-growth.yaml

One temporary `vitalsight serve` (embedded chDB) receives every scenario through OTLP/HTTP
(each scenario has its own app), the engine replays each evaluation window minute by minute
(`vitalsight.insights.evaluate`), and the totals are printed next to the issue's targets.
Then a dedicated dataset, 24 h of traffic over 50 routes, is simulated into the same store
and single `run_cycle(now)` calls are timed. Nothing is asserted: figures only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from vitalsight.exporters.reader import connect_reader
from vitalsight.insights.engine import EngineSettings, InsightEngine
from vitalsight.insights.evaluate import (
    evaluate_scenarios,
    render_totals,
    totals,
    wait_until_stored,
)
from vitalsight.insights.simulate.local_serve import QUERY_PASSWORD, QUERY_USER, LocalServe
from vitalsight.insights.simulate.scenario import Scenario
from vitalsight.insights.simulate.send import send_scenario

SCENARIOS = sorted(
    (Path(__file__).resolve().parents[1] / "insight-service/scenarios").glob("*.yaml")
)
TARGETS = (
    "targets: precision >= 0.9, recall >= 0.9, top-1 cause >= 0.85, delay <= 2 min, cycle < 10 s"
)


def fifty_routes(page_views_per_minute: float) -> Scenario:
    """24 h of one app with 50 routes, each calling its own endpoint: the cycle-cost dataset."""
    routes = [
        {
            "route": f"/section-{i}/:id",
            "share": 1 + (i % 7),
            "resources": ["app.js"],
            "endpoints": [
                {"template": f"/api/section-{i}", "median_ms": 80 + 5 * i, "lcp_waits": i % 2 == 0}
            ],
        }
        for i in range(50)
    ]
    return Scenario.model_validate(
        {
            "name": "fifty-routes",
            "app": "bench-fifty-routes",
            "days": 1,
            "traffic": {"page_views_per_minute": page_views_per_minute},
            "resources": [{"name": "app.js", "transfer_kb": 200}],
            "routes": routes,
            "releases": [{"version": "1.0"}, {"version": "1.1", "start": "-2h"}],
            "evaluate": {"start": "-1h"},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", type=Path, default=SCENARIOS)
    parser.add_argument("--skip-cycle", action="store_true", help="no 50-route cycle timing")
    parser.add_argument("--cycle-traffic", type=float, default=40, help="page views/min, 50 routes")
    args = parser.parse_args()
    end = datetime.now(UTC)
    with LocalServe() as serve:
        reader = connect_reader(serve.query_url, username=QUERY_USER, password=QUERY_PASSWORD)
        started = time.monotonic()
        scores = evaluate_scenarios(args.scenarios, end=end, otlp_url=serve.otlp_url, reader=reader)
        render_totals(scores)
        t = totals(scores)
        cycles = [s for score in scores for s in score.cycle_seconds]
        delay = "n/a" if t.median_delay is None else f"{t.median_delay:.1f}"
        print(
            f"scenarios {len(scores)}: precision {t.precision:.2f}, recall {t.recall:.2f}, "
            f"top-1 cause {t.cause_accuracy:.2f}, median delay {delay} simulated min; "
            f"replay cycles {len(cycles)}, median {statistics.median(cycles):.3f} s; "
            f"{time.monotonic() - started:.0f} s in all"
        )
        if not args.skip_cycle:
            dataset = fifty_routes(args.cycle_traffic)
            summary = send_scenario(dataset, serve.otlp_url, end=end)
            wait_until_stored(reader, dataset.app, summary.log_records, timeout_s=900)
            engine = InsightEngine(reader, EngineSettings(app=dataset.app))
            seconds = []
            for _ in range(5):
                cycle_start = time.perf_counter()
                engine.run_cycle(end)
                seconds.append(time.perf_counter() - cycle_start)
            print(
                f"one cycle over 24 h x 50 routes ({summary.events:,} events): "
                f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s (5 cycles)"
            )
        print(TARGETS)
        reader.close()


if __name__ == "__main__":
    main()
