"""The `vitalsight insights` commands (serve, eval) and `vitalsight simulate`.

Each command lives beside the code it drives; this module only groups them.
"""

from __future__ import annotations

import click


@click.group()
def insights() -> None:
    """The insight service: regressions and anomalies, explained."""
