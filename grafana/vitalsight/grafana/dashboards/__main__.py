"""`python -m vitalsight.grafana.dashboards DIR`: write every dashboard as DIR/<stem>.json."""

from __future__ import annotations

import sys
from pathlib import Path

from vitalsight.grafana.dashboards import all_dashboards, dashboard_json


def write_dashboards(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, model in all_dashboards().items():
        path = directory / f"{stem}.json"
        path.write_text(dashboard_json(model), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m vitalsight.grafana.dashboards DIRECTORY", file=sys.stderr)
        return 2
    for path in write_dashboards(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
