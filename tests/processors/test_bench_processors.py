"""bench/processors.py, the processor micro-benchmark, on a small workload: it runs the
configured pipeline on real demo requests and reports every processor and the ratio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "processors.py"


def test_reports_each_configured_processor_and_the_throughput_ratio(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("pipeline: [scrub, sample]\nprocessors:\n  sample: {rate: 1.0}\n")
    result = subprocess.run(
        [sys.executable, str(BENCH), "--config", str(config), "--sessions", "20", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    events = re.search(r"^([\d,]+) events in \d+ requests", out, re.M)
    assert events is not None and int(events.group(1).replace(",", "")) > 100
    timed = dict(re.findall(r"^\s*(\S[\w +]*?)\s+([\d.]+) µs/event$", out, re.M))
    assert set(timed) == {
        "decode + encode",
        "request view",
        "scrub",
        "sample",
        "all processors",
        "then encode from the view",
    }
    assert all(float(value) > 0 for value in timed.values())
    ratio = re.search(r"with / without processors: (\d+)%", out)
    assert ratio is not None and 0 < int(ratio.group(1)) < 100
