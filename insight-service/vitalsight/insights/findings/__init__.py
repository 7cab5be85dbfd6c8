"""One cycle's findings: detection on the rollups, then explanation of what was found.

One finder per kind: vital regressions (vitals), error spikes (errors), endpoint slowdowns
(endpoints). An endpoint slowdown a vital regression already blames is not a card of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from vitalsight.insights.findings.endpoints import EndpointFindings
from vitalsight.insights.findings.errors import ErrorFindings
from vitalsight.insights.findings.vitals import VitalFindings
from vitalsight.insights.lifecycle import Finding, IncidentKey
from vitalsight.insights.queries import Filters

if TYPE_CHECKING:
    from vitalsight.insights.engine import EngineSettings


class Detectors:
    def __init__(self, reader: object, filters: Filters, settings: EngineSettings) -> None:
        self._vitals = VitalFindings(reader, filters, settings)
        self._errors = ErrorFindings(reader, filters, settings)
        self._endpoints = EndpointFindings(reader, filters, settings)

    def findings(self, now: datetime, is_open: Callable[[IncidentKey], bool]) -> list[Finding]:
        vitals = self._vitals.findings(now, is_open)
        blamed = {
            e.subject for f in vitals for e in f.card.evidence if e.kind == "endpoint_latency"
        }
        return [
            *vitals,
            *self._errors.findings(now, is_open),
            *self._endpoints.findings(now, blamed),
        ]
