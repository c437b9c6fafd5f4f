"""Learned provider reliability from agreement alone (pure; synthetic data with known truth)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.reliability import (
    RELIABILITY_FIELDS,
    Observation,
    estimate_reliability,
    interval_z,
    nearest_credible,
    pair_stats,
    vote_weight,
)

FIELD = "person_in_charge"


def synthetic(accuracy: dict[str, float], n: int, *, wrong_values: int = 10, seed: int = 0):
    """Each provider right (label 0) with its accuracy, else one of ``wrong_values`` labels:
    two wrong answers coincide with probability q = 1 / wrong_values."""
    rng = random.Random(seed)
    providers = tuple(accuracy)
    out = []
    for _ in range(n):
        labels = {
            f: [
                0 if rng.random() < accuracy[p] else rng.randint(1, wrong_values) for p in providers
            ]
            for f in RELIABILITY_FIELDS
        }
        out.append(Observation(providers, labels))
    return out


def test_recovers_known_accuracies_from_agreement_only() -> None:
    truth = {"gemini": 0.92, "claude": 0.78, "openai": 0.65, "offline": 0.85}
    rel = estimate_reliability(synthetic(truth, 1500), coincidence=0.1, prior=0.8)
    for provider, acc in truth.items():
        for f in RELIABILITY_FIELDS:
            assert rel.raw[provider][f] == pytest.approx(acc, abs=0.04), (provider, f)
            # what votes use: the interval's edge nearest the fixed 0.8, short of the estimate
            used, raw = rel.of(provider, f), rel.raw[provider][f]
            assert min(raw, 0.8) <= used <= max(raw, 0.8) and abs(used - raw) < 0.03
    ranked = sorted(truth, key=lambda p: rel.raw[p][FIELD], reverse=True)
    assert ranked == ["gemini", "offline", "claude", "openai"]
    # 0.85 and 0.78 are within noise of the fixed 0.8 on some fields: there, exactly 0.8
    assert rel.of("gemini", FIELD) > rel.of("claude", FIELD) > rel.of("openai", FIELD)


def test_three_providers_are_enough_and_listing_order_does_not_matter() -> None:
    truth = {"a": 0.9, "b": 0.75, "c": 0.6}
    obs = synthetic(truth, 1500, seed=3)
    rel = estimate_reliability(obs, coincidence=0.1, prior=0.8)
    flipped = [
        Observation(o.providers[::-1], {f: list(v)[::-1] for f, v in o.labels.items()}) for o in obs
    ]
    rel2 = estimate_reliability(flipped, coincidence=0.1, prior=0.8)
    for p, acc in truth.items():
        assert rel.of(p, FIELD) == pytest.approx(acc, abs=0.05)
        assert rel2.of(p, FIELD) == pytest.approx(rel.of(p, FIELD), abs=1e-9)


def test_little_data_shrinks_toward_equal_weights() -> None:
    truth = {"a": 0.95, "b": 0.7, "c": 0.55}
    few = estimate_reliability(synthetic(truth, 4), coincidence=0.1, prior=0.8)
    many = estimate_reliability(synthetic(truth, 1500), coincidence=0.1, prior=0.8)
    spread_few = max(few.of(p, FIELD) for p in truth) - min(few.of(p, FIELD) for p in truth)
    spread_many = max(many.of(p, FIELD) for p in truth) - min(many.of(p, FIELD) for p in truth)
    raw_few = max(few.raw[p][FIELD] for p in truth) - min(few.raw[p][FIELD] for p in truth)
    assert spread_few < raw_few and spread_few < spread_many
    empty = estimate_reliability([], coincidence=0.1, prior=0.8)
    assert empty.of("anyone", FIELD) == 0.8 and empty.observations == 0


def test_two_providers_cannot_tell_who_was_right_so_weights_stay_equal() -> None:
    rel = estimate_reliability(synthetic({"a": 0.95, "b": 0.6}, 1000), coincidence=0.1, prior=0.8)
    assert rel.of("a", FIELD) == pytest.approx(rel.of("b", FIELD))
    assert rel.evidence["a"][FIELD] == 0  # only triplets are evidence


def test_similar_providers_get_nearly_equal_weights() -> None:
    """Differences smaller than the sampling noise are mostly tested away."""
    truth = {"a": 0.82, "b": 0.8, "c": 0.81}
    spreads = []
    for seed in range(8):
        rel = estimate_reliability(synthetic(truth, 150, seed=seed), coincidence=0.1, prior=0.8)
        for f in RELIABILITY_FIELDS:
            spreads.append(max(rel.of(p, f) for p in truth) - min(rel.of(p, f) for p in truth))
    assert sum(spreads) / len(spreads) < 0.05 and max(spreads) < 0.12


def test_pair_stats_counts_agreement_and_triplet_evidence() -> None:
    obs = [
        Observation(("a", "b", "c"), {FIELD: [0, 0, 1]}),
        Observation(("a", "b"), {FIELD: [2, 2]}),
        Observation(("c", "a"), {FIELD: [0, 1]}),
        Observation(("a", "b"), {FIELD: [0]}),  # malformed: ignored
    ]
    stats, evidence = pair_stats(obs, FIELD)
    assert (stats[("a", "b")].agree, stats[("a", "b")].total) == (2.0, 2.0)
    assert (stats[("a", "c")].agree, stats[("a", "c")].total) == (0.0, 2.0)
    assert evidence == {"a": 1, "b": 1, "c": 1}


def test_vote_weight_grows_with_accuracy_and_stays_positive() -> None:
    weights = [vote_weight(r, 0.2) for r in (0.1, 0.5, 0.8, 0.95, 1.0)]
    assert weights == sorted(weights) and weights[0] == 0.05
    assert vote_weight(0.8, 0.2) == pytest.approx(3.0, abs=0.01)  # log(4 / 0.2)


def test_calibration_per_confidence_band_is_learned_from_agreement() -> None:
    """An over-confident provider: its answers at high confidence are right only 60 % of
    the time, its low-confidence ones 60 % too; a calibrated one is right 95 % / 50 %."""
    rng = random.Random(11)
    providers = ("calibrated", "overconfident", "steady")
    obs = []
    for _ in range(2000):
        labels, bands = [], []
        for p in providers:
            high = rng.random() < 0.6
            right = {
                "calibrated": 0.95 if high else 0.5,
                "overconfident": 0.6,
                "steady": 0.8,
            }[p]
            labels.append(0 if rng.random() < right else rng.randint(1, 10))
            bands.append(2 if high or p == "overconfident" else 0)
        obs.append(Observation(providers, {FIELD: labels}, {FIELD: bands}))
    rel = estimate_reliability(obs, coincidence=0.1, prior=0.8, fields=(FIELD,))
    assert rel.banded[("calibrated", FIELD, 2)][0] == pytest.approx(0.95, abs=0.05)
    assert rel.banded[("calibrated", FIELD, 0)][0] == pytest.approx(0.5, abs=0.06)
    assert rel.banded[("overconfident", FIELD, 2)][0] == pytest.approx(0.6, abs=0.05)

    def shift(p: str, conf: float | None) -> float:
        return rel.self_report_shift(p, FIELD, conf, self_weight=0.5)

    assert shift("calibrated", 0.9) > shift("overconfident", 0.95)  # 0.95 means less
    assert shift("calibrated", 0.9) > shift("calibrated", 0.3)
    assert shift("overconfident", 0.95) < 0.5 * math.log(0.95 / 0.05)  # below the fixed rule
    assert shift("steady", None) == 0.0  # a null reports no confidence
    # no history: the fixed-weight rule (prior moved by self-confidence)
    empty = estimate_reliability([], coincidence=0.1, prior=0.8)
    assert empty.of("x", FIELD) == 0.8
    assert empty.self_report_shift("x", FIELD, 0.5, self_weight=0.5) == 0.0
    assert empty.self_report_shift("x", FIELD, 0.9, self_weight=0.5) == pytest.approx(
        0.5 * math.log(9.0)
    )


def test_nearest_credible_is_the_fixed_figure_until_the_interval_leaves_it() -> None:
    z = interval_z(0.95)
    assert z == pytest.approx(1.96, abs=0.01) and interval_z(0.0) == 0.0
    assert nearest_credible(0.95, 0.8, 0, z) == 0.8  # no evidence
    assert nearest_credible(0.86, 0.8, 50, z) == 0.8  # inside ± 1.96·0.069
    moved = [nearest_credible(0.95, 0.8, n, z) for n in (50, 200, 1000, 100_000)]
    assert 0.8 < moved[0] < moved[1] < moved[2] < moved[3] < 0.95  # toward the estimate
    assert moved[3] == pytest.approx(0.95, abs=0.005)
    assert nearest_credible(0.5, 0.8, 200, z) == pytest.approx(
        0.5 + z * math.sqrt(1.5 * 0.16 / 200)
    )
    assert nearest_credible(0.5, 0.8, 10, 0.0) == 0.5  # no interval: the raw estimate


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(st.floats(0.0, 1.0), st.floats(0.55, 0.99), st.integers(0, 10_000), st.floats(0, 4))
def test_nearest_credible_lies_between_the_fixed_figure_and_the_estimate(
    estimate: float, reference: float, n: int, z: float
) -> None:
    got = nearest_credible(estimate, reference, n, z)
    assert min(estimate, reference) <= got <= max(estimate, reference)
    wider = nearest_credible(estimate, reference, n, z + 1.0)
    assert abs(wider - reference) <= abs(got - reference)  # wider interval: closer to fixed


def test_indistinguishable_providers_get_exactly_the_fixed_weights() -> None:
    """Three equally good providers, a short history: learned must *be* fixed, not a
    noisy copy of it (that is how learned weights lost to fixed ones by noise)."""
    truth = {"a": 0.85, "b": 0.85, "c": 0.85}
    rel = estimate_reliability(synthetic(truth, 60, seed=4), coincidence=0.1, prior=0.8)
    assert all(rel.of(p, f) == 0.8 for p in truth for f in RELIABILITY_FIELDS)
    assert any(rel.raw[p][f] != 0.8 for p in truth for f in RELIABILITY_FIELDS)


def test_a_provider_clearly_worse_than_fixed_is_weighed_down_but_not_past_its_estimate() -> None:
    truth = {"llm1": 0.9, "llm2": 0.88, "rules": 0.5}
    rel = estimate_reliability(synthetic(truth, 400, seed=2), coincidence=0.1, prior=0.8)
    for f in RELIABILITY_FIELDS:
        assert rel.raw["rules"][f] < rel.of("rules", f) < 0.75
    raw = estimate_reliability(synthetic(truth, 400, seed=2), coincidence=0.1, prior=0.8, z=0)
    assert raw.of("rules", FIELD) == raw.raw["rules"][FIELD]


def test_a_band_consistent_with_the_fixed_rule_keeps_its_finer_grading() -> None:
    """Top-band answers right 92.5 % of the time, low-band ones 67.5 % (80 % overall, the
    prior): the rule's shifts for 0.895 and 0.915 (92.1 % / 92.9 %) both fit the top
    band's history, so they stay as they are instead of becoming one band-wide figure."""
    rng = random.Random(5)
    providers = ("a", "b", "c")
    obs = []
    for _ in range(2000):
        labels, bands = [], []
        for _p in providers:
            high = rng.random() < 0.5
            right = 0.925 if high else 0.675
            labels.append(0 if rng.random() < right else rng.randint(1, 10))
            bands.append(2 if high else 0)
        obs.append(Observation(providers, {FIELD: labels}, {FIELD: bands}))
    rel = estimate_reliability(obs, coincidence=0.1, prior=0.8, fields=(FIELD,))
    assert rel.of("a", FIELD) == 0.8
    for conf in (0.895, 0.915):
        assert rel.self_report_shift("a", FIELD, conf, self_weight=0.5) == pytest.approx(
            0.5 * math.log(conf / (1 - conf))
        )


@st.composite
def stored_history(draw: st.DrawFn) -> list[Observation]:
    """Whatever the state may hold: any voters, labels, bands, even mismatched lengths."""
    out = []
    for _ in range(draw(st.integers(0, 25))):
        providers = tuple(draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=5)))
        n = draw(st.sampled_from((len(providers), len(providers), max(0, len(providers) - 1))))
        labels = {f: draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)) for f in (FIELD,)}
        bands = {FIELD: draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))}
        out.append(Observation(providers, labels, bands))
    return out


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(stored_history(), st.floats(0.01, 0.9), st.floats(0.0, 4.0))
def test_any_stored_history_gives_accuracies_within_bounds(
    history: list[Observation], q: float, z: float
) -> None:
    rel = estimate_reliability(history, coincidence=q, prior=0.8, z=z)
    for p in "abcde":
        r = rel.of(p, FIELD)
        assert 0.0 < r < 1.0 and math.isfinite(vote_weight(r, q))
        for conf in (None, 0.0, 0.55, 1.0):
            assert math.isfinite(rel.self_report_shift(p, FIELD, conf, self_weight=0.5))
