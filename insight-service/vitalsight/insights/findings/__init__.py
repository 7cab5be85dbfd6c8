"""One cycle's findings: detection on the rollups, then explanation of what was found.

One finder per kind: vital regressions (vitals), error spikes (errors), endpoint slowdowns
(endpoints). An endpoint slowdown a vital regression already blames is not a card of its own;
only a regression that can open (strict on the most recent data) or is open blames one, so a
passing candidate that never opens cannot silence a real slowdown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from vitalsight.insights.card import IncidentCard, Kind
from vitalsight.insights.findings.endpoints import WAITING_VITALS, EndpointFindings
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

    def findings(
        self,
        now: datetime,
        is_open: Callable[[IncidentKey], bool],
        open_cards: Iterable[IncidentCard] = (),
    ) -> list[Finding]:
        vitals = self._vitals.findings(now, is_open)
        candidates = blaming_cards(vitals, is_open)
        opened = [c for c in open_cards if c.kind is Kind.REGRESSION]
        return [
            *vitals,
            *self._errors.findings(now, is_open),
            *self._endpoints.findings(
                now,
                blamed_endpoints(candidates),
                blamed_endpoints(opened),
                self._vitals.testable(WAITING_VITALS),
            ),
        ]


def blaming_cards(
    findings: Iterable[Finding], is_open: Callable[[IncidentKey], bool]
) -> list[IncidentCard]:
    """The cards of the findings that can open this cycle (strict on the most recent data)
    or are open: the only ones whose cause claims an endpoint."""
    return [f.card for f in findings if (f.strict and f.holds) or is_open(f.key)]


def blamed_endpoints(cards: Iterable[IncidentCard]) -> set[str]:
    """The endpoints these regression cards name as their cause."""
    return {e.subject for c in cards for e in c.evidence if e.kind == "endpoint_latency"}
