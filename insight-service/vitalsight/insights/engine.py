"""The insight engine: one evaluation cycle over the RUM rollups at a given time.

`InsightEngine(reader, settings).run_cycle(now)` reads only data with timestamps before `now`
(whole minutes), so the same code runs live (now = wall clock) and replays history in
simulated time (now = each simulated minute). It keeps incident state between cycles and
returns the cards opened, updated or resolved in this cycle, summaries filled by the template.

The cards it produces (what an evaluator matches on):
- vital regressions: kind "regression", metric LCP/INP/CLS/TTFB/FCP, statistic p75, one card
  per route (route set), release/baseline_release set when a new release is compared with the
  previous one on the route (or dominates the window), scope {device|network|browser|country:
  value} when the change is confined to those values (several values joined by ",");
  cause_kind slow_endpoint / bundle_growth / long_tasks / release / traffic_mix / unknown.
  An LCP regression caused by a slow endpoint is ONE card (regression, cause slow_endpoint)
  per affected route; no separate slow_endpoint card is opened for that endpoint.
- error spikes: kind "error_spike", metric "error_rate", statistic "rate", values = errors per
  page view (unit "ratio"); route/release set when the fingerprint's errors are concentrated
  there; scope may hold browser, browser_version ("Safari 17"), device, country, network;
  cause_kind new_error (fingerprint unseen before) / release / unknown.
- endpoint slowdowns with no vital regression blamed on them: kind "slow_endpoint", metric
  "request_p95", statistic p95, scope {"endpoint": url_template}; cause_kind slow_endpoint.

A cycle: a few rollup queries (queries.py) → findings per kind (findings/, using the
statistics in detect/) → where and why (explain/) → incident lifecycle (lifecycle.py).
Opening needs two consecutive strict cycles; with the cohort's traffic at min_samples, a
clear regression opens within two simulated minutes of reaching it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vitalsight.insights.card import IncidentCard
from vitalsight.insights.findings import Detectors
from vitalsight.insights.lifecycle import IncidentTracker
from vitalsight.insights.queries import Filters
from vitalsight.insights.template import render

DEFAULT_CURRENT_WINDOWS = (1, 2, 3, 5, 10, 15, 20, 30)


class EngineSettings(BaseModel):
    """What the engine watches and how strict it is. Every field has a safe default."""

    model_config = ConfigDict(frozen=True)

    app: str | None = None  # only this app (None: every app in the data)
    environment: str | None = None  # only this environment (None: every environment)
    # Minimum traffic: a cohort (route; route + device or network; new release, also per
    # device) is tested once its current window holds this many samples (rows, not
    # re-weighted), and a baseline is used only with as many. Detection delay is measured
    # from the minute the changed cohort reaches it.
    min_samples: int = Field(default=60, ge=5)
    # Current windows (minutes ending at `now`), the shortest that reaches min_samples first:
    # a change is judged on data from after it started, not diluted by the hour before.
    current_windows_minutes: tuple[int, ...] = DEFAULT_CURRENT_WINDOWS
    # The recent baseline: [now - lookback, now - gap), excluding the last `gap` minutes so a
    # change that started up to `gap` minutes ago does not contaminate it.
    baseline_lookback_minutes: int = Field(default=180, ge=30)
    baseline_gap_minutes: int = Field(default=30, ge=1)
    # Seasonal baselines: the same clock hour (± half) that many days before.
    seasonal_days: tuple[int, ...] = (1, 7)
    seasonal_half_width_minutes: int = Field(default=30, ge=5)
    # Effect size AND significance, both required.
    min_change_pct: float = Field(default=15.0, gt=0)  # relative rise of the percentile
    min_z: float = Field(default=4.0, gt=0)  # one-sided z of the percentile shift
    error_rate_min_ratio: float = Field(default=2.0, gt=1)
    error_min_count: int = Field(default=5, ge=1)  # errors in the current window
    error_max_p_value: float = Field(default=1e-5, gt=0, lt=1)
    # Persistence: a candidate must hold in this many consecutive cycles before it opens.
    confirm_cycles: int = Field(default=2, ge=1)
    # Resolution: an open incident resolves after this many minutes without its condition.
    resolve_after_minutes: int = Field(default=15, ge=1)
    grafana_url: str = ""  # base of dashboard links on cards; empty: no link


class InsightEngine:
    """Runs detection cycles; holds incident state between them (one engine per watcher)."""

    def __init__(self, reader: Any, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        filters = Filters(self.settings.app, self.settings.environment)
        self._detectors = Detectors(reader, filters, self.settings)
        self._tracker = IncidentTracker(
            confirm_cycles=self.settings.confirm_cycles,
            resolve_after=timedelta(minutes=self.settings.resolve_after_minutes),
        )

    @property
    def open_incidents(self) -> list[IncidentCard]:
        return self._tracker.open_cards

    def run_cycle(self, now: datetime) -> list[IncidentCard]:
        """The cards opened, updated or resolved at `now` (naive datetimes are UTC)."""
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        findings = self._detectors.findings(now, self._tracker.is_open, self._tracker.open_cards)
        cards = self._tracker.observe(now, findings)
        return [card.model_copy(update={"summary": render(card)}) for card in cards]
