"""The newcomer's path through the CLI: serve, demo, report, as separate processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.serve_process import QUERY_PASSWORD, QUERY_USER, ServeProcess


def vitalsight(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vitalsight.service.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_then_report_shows_the_seeded_regression(server: ServeProcess) -> None:
    sent = vitalsight("demo", "--endpoint", server.http_url, "--minutes", "30")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("sent ") and "events" in sent.stdout
    server.wait_for_count("rum_vitals", 500)
    deadline = time.monotonic() + 30
    while True:  # rows reach the rollups a flush after the facts
        shown = vitalsight(
            "report", "--url", server.query_url, "--user", QUERY_USER, "--password", QUERY_PASSWORD
        )
        assert shown.returncode == 0, shown.stderr
        if "/results" in shown.stdout and "Regressions" in shown.stdout:
            break
        assert time.monotonic() < deadline, shown.stdout
        time.sleep(0.5)
    regressions = shown.stdout.split("Regressions", 1)[1].split("Errors by route", 1)[0]
    assert "/results" in regressions and "LCP" in regressions and "1.2.9" in regressions


def test_report_without_password_explains_where_it_looked(tmp_path: Path) -> None:
    shown = vitalsight("report", "--data-dir", str(tmp_path))
    assert shown.returncode == 2
    assert f"no --password and no {tmp_path}/query-password" in shown.stderr


def test_serve_rejects_an_invalid_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("limits:\n  queue_rows: -1\n", encoding="utf-8")
    shown = vitalsight("serve", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert shown.returncode == 2
    assert "limits.queue_rows: Input should be greater than or equal to 1" in shown.stderr


def test_serve_rejects_an_unknown_processor(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("pipeline: [scrub, compress]\n", encoding="utf-8")
    shown = vitalsight("serve", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert shown.returncode == 2
    assert "pipeline: unknown processor compress; known: enrich, scrub, dedup, errors, sample" in (
        shown.stderr
    )
    assert not (tmp_path / "d").exists()  # refused before any I/O


def test_sourcemaps_upload_stores_maps_per_app_and_release(tmp_path: Path) -> None:
    build = tmp_path / "dist"
    build.mkdir()
    (build / "main.js").write_text("console.log(1);\n//# sourceMappingURL=main.js.map\n")
    (build / "main.js.map").write_text(
        '{"version":3,"file":"main.js","sources":["src/main.ts"],"names":[],"mappings":"AAAA"}'
    )
    store = tmp_path / "maps"
    shown = vitalsight(
        "sourcemaps",
        "upload",
        "--app",
        "shop-web",
        "--release",
        "1.2.9",
        "--store",
        str(store),
        str(build),
    )
    assert shown.returncode == 0, shown.stderr
    assert (store / "shop-web" / "1.2.9" / "main.js.map").is_file()
    assert f"stored {store / 'shop-web' / '1.2.9' / 'main.js.map'}" in shown.stdout

    (build / "main.js.map").write_text("not a source map")
    refused = vitalsight(
        "sourcemaps",
        "upload",
        "--app",
        "shop-web",
        "--release",
        "1.3.0",
        "--store",
        str(store),
        str(build),
    )
    assert refused.returncode == 1
    assert "main.js.map" in refused.stderr
    assert not (store / "shop-web" / "1.3.0").exists()
