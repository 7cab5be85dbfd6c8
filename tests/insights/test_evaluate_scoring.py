"""Matching and scoring rules of `vitalsight insights eval`, on cards built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.insights.simulate_helpers import small_scenario

from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status
from vitalsight.insights.evaluate import score, totals
from vitalsight.insights.simulate.scenario import ExpectedFinding

END = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
CHANGE = END - timedelta(minutes=60)  # the release's rollout start in small_scenario


def card(
    minutes_after_change: float,
    *,
    id: str = "c1",
    kind: Kind = Kind.REGRESSION,
    metric: str = "LCP",
    route: str = "/results",
    release: str = "1.1",
    scope: dict[str, str] | None = None,
    cause: CauseKind = CauseKind.SLOW_ENDPOINT,
    status: Status = Status.OPEN,
) -> IncidentCard:
    opened = CHANGE + timedelta(minutes=minutes_after_change)
    return IncidentCard(
        id=id,
        status=status,
        opened_at=opened,
        updated_at=opened,
        app="small-app",
        kind=kind,
        metric=metric,
        route=route,
        release=release,
        scope=scope or {},
        baseline_value=2000,
        current_value=2600,
        change_pct=30,
        cause_kind=cause,
    )


def test_a_matching_card_is_a_true_positive_with_its_cause_and_delay() -> None:
    onset = CHANGE + timedelta(minutes=7)
    result = score(small_scenario(), [card(8)], END, lambda finding, since: onset)
    (finding,) = result.findings
    assert finding.card is not None and finding.cause_correct is True
    assert finding.delay_minutes == 1
    assert result.false_positives == []
    t = totals([result])
    assert (t.precision, t.recall, t.cause_accuracy, t.median_delay) == (1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "wrong",
    [
        {"kind": Kind.ANOMALY},
        {"metric": "INP"},
        {"route": "/"},
        {"scope": {"device": "mobile"}, "route": "/"},
    ],
)
def test_a_card_that_differs_where_the_expectation_speaks_is_a_false_positive(
    wrong: dict[str, object],
) -> None:
    result = score(small_scenario(), [card(8, **wrong)], END)  # type: ignore[arg-type]
    assert result.findings[0].card is None and len(result.false_positives) == 1
    assert (totals([result]).precision, totals([result]).recall) == (0.0, 0.0)


def test_a_card_opened_before_the_change_does_not_match() -> None:
    result = score(small_scenario(), [card(-1)], END)
    assert result.findings[0].card is None and len(result.false_positives) == 1


def test_scope_must_match_only_on_the_dimensions_expected() -> None:
    expect = [
        ExpectedFinding(
            incident="slow-search", kind=Kind.REGRESSION, metric="LCP", scope={"device": "mobile"}
        )
    ]
    scenario = small_scenario(expect=[e.model_dump() for e in expect])
    hit = score(scenario, [card(5, scope={"device": "mobile", "network": "4g"})], END)
    miss = score(scenario, [card(5, scope={"device": "desktop"})], END)
    assert hit.findings[0].card is not None
    assert miss.findings[0].card is None


def test_states_of_one_incident_count_once_and_duplicates_count_against_precision() -> None:
    states = [card(8), card(9, status=Status.UPDATED), card(30, status=Status.RESOLVED)]
    duplicate = card(10, id="c2")
    result = score(small_scenario(), [*states, duplicate], END)
    assert [c.id for c in result.cards] == ["c1", "c2"]
    assert result.findings[0].card is not None and result.findings[0].card.id == "c1"
    assert [c.id for c in result.false_positives] == ["c2"]
    assert totals([result]).precision == 0.5


def test_wrong_cause_is_scored_and_optional_findings_are_not_required() -> None:
    optional = {
        "incident": "slow-search",
        "kind": "regression",
        "metric": "FCP",
        "route": "/results",
        "optional": True,
    }
    required = small_scenario().expect[0].model_dump(mode="json")
    scenario = small_scenario(expect=[required, optional])
    result = score(scenario, [card(8, cause=CauseKind.RELEASE)], END)
    t = totals([result])
    assert result.findings[0].cause_correct is False
    assert (t.recall, t.cause_accuracy, t.required) == (1.0, 0.0, 1)
    with_optional = score(scenario, [card(8), card(9, id="c3", metric="FCP")], END)
    assert totals([with_optional]).precision == 1.0


def test_a_quiet_scenario_with_no_cards_is_perfect_and_any_card_is_a_false_positive() -> None:
    quiet = small_scenario(incidents=[], expect=[])
    assert totals([score(quiet, [], END)]).precision == 1.0
    noisy = score(quiet, [card(8)], END)
    assert totals([noisy]).precision == 0.0 and totals([noisy]).recall == 1.0


def test_release_must_match_when_expected() -> None:
    expected = {**small_scenario().expect[0].model_dump(mode="json"), "release": "1.1"}
    scenario = small_scenario(expect=[expected])
    assert score(scenario, [card(8, release="1.1")], END).findings[0].card is not None
    assert score(scenario, [card(8, release="")], END).findings[0].card is None
