"""The `vitalsight insights` commands (serve, eval) and `vitalsight simulate`.

Each command lives beside the code it drives; this module only groups them.
"""

from __future__ import annotations

import click

from vitalsight.insights.evaluate_command import eval_command
from vitalsight.insights.serve_command import serve


@click.group()
def insights() -> None:
    """The insight service: regressions and anomalies, explained."""


insights.add_command(serve)
insights.add_command(eval_command)
