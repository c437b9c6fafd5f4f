"""Learned provider reliability: each provider's per-field accuracy from agreement alone.

No labels are needed. Under the one-coin model (provider *i* gets a field right with
probability ``r_i``, independently of the others; two wrong answers coincide with
probability ``q``), providers *i* and *j* agree with probability

    a_ij = r_i r_j + q (1 − r_i)(1 − r_j).

With three or more providers these pairwise rates pin every ``r_i`` down (for q = 0 it
is the triplet identity r_i² = a_ij a_ik / a_jk); :func:`solve_accuracies` solves the
least-squares version for any number of providers. Two providers alone cannot tell who
was right, so only observations with at least three voters count as evidence.

Learned figures are *corrections to the fixed weights*, never a replacement: the fixed
rule (every provider at ``prior`` accuracy, moved by ``self_weight × logit(confidence)``)
is the null hypothesis, and a learned figure moves off it only as far as the evidence
forces it: the value inside the estimate's confidence interval that is nearest the fixed
one (:func:`nearest_credible`). While the interval still contains the fixed figure —
little history, or providers too alike for the data to tell apart — learned weights
*are* the fixed weights, so they cannot lose to them by noise; as evidence grows the
interval narrows and the raw estimate takes over. The same holds for calibration: how
right a provider's answers in one self-confidence band turned out to be
(:func:`banded_accuracy`) overrides the fixed self-report rule only where the rule falls
outside that band's interval, so the rule's finer grading inside a band is kept.

Everything here is a pure function over plain data: the observations come from the
state store (a rolling window), the result is handed to the merge as vote weights.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collabiq_llm.settings import ConsensusSettings
    from collabiq_llm.state.api import AgreementRecord

RELIABILITY_FIELDS: tuple[str, ...] = ("person_in_charge", "startup_name", "partner_org", "date")
MIN_ACCURACY = 0.02
MAX_ACCURACY = 0.995
NOISE_INFLATION = 1.5  # triplet estimates are noisier than a direct count (delta method)
SELF_CONFIDENCE_CLIP = (0.02, 0.98)  # a self-report's log-odds are taken within these


def interval_z(level: float) -> float:
    """Two-sided normal quantile of a confidence level (0.95 -> 1.96; 0 -> 0: no interval)."""
    return NormalDist().inv_cdf(0.5 + level / 2.0) if level > 0 else 0.0


def nearest_credible(estimate: float, reference: float, n: float, z: float) -> float:
    """The value nearest ``reference`` (the fixed figure) that the evidence still allows.

    The interval is ``estimate ± z·se`` with the sampling error of ``n`` emails taken at
    ``reference`` (the error the estimate would have if the fixed figure were true, as a
    test against it would take it). No evidence, or an interval containing ``reference``:
    ``reference`` itself. Otherwise the interval's edge on the reference's side.
    """
    if n <= 0:
        return reference
    half = z * math.sqrt(NOISE_INFLATION * reference * (1.0 - reference) / n)
    if estimate > reference + half:
        return estimate - half
    if estimate < reference - half:
        return estimate + half
    return reference


@dataclass(frozen=True)
class Observation:
    """One consensus email: who voted, and per field which voters gave the same value.

    ``labels[field][k]`` is the group of ``providers[k]``'s answer; equal labels = same
    value (a null answer is a value too). Values themselves are never stored.
    """

    providers: tuple[str, ...]
    labels: Mapping[str, Sequence[int]]
    bands: Mapping[str, Sequence[int]] | None = None  # confidence band per answer (-1: null)


@dataclass(frozen=True)
class PairStats:
    """How often two providers agreed on a field, out of how many shared emails."""

    agree: float = 0.0
    total: float = 0.0


@dataclass
class Reliability:
    """Estimated accuracy per provider and field, with the evidence behind each figure."""

    prior: float
    z: float = 1.96  # width of the confidence intervals, in standard errors
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    raw: dict[str, dict[str, float]] = field(default_factory=dict)  # before the interval test
    evidence: dict[str, dict[str, int]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)  # mean over fields (display)
    observations: int = 0
    # (provider, field, confidence band) -> (raw accuracy of those answers, emails)
    banded: dict[tuple[str, str, int], tuple[float, float]] = field(default_factory=dict)

    def of(self, provider: str, field_name: str) -> float:
        """The accuracy to weigh ``provider``'s vote on ``field_name`` by (prior if unseen)."""
        return self.accuracy.get(provider, {}).get(field_name, self.prior)

    def for_provider(self, provider: str) -> dict[str, float]:
        return {f: self.of(provider, f) for f in RELIABILITY_FIELDS}

    def self_report_shift(
        self, provider: str, field_name: str, confidence: float | None, *, self_weight: float
    ) -> float:
        """Log-odds one answer's self-reported confidence adds to its field accuracy.

        The fixed rule's ``self_weight × logit(confidence)``, unless this provider's answers
        in that confidence band (``banded``) were, beyond their confidence interval, more
        or less often right than the rule says: then the nearest value the band's
        history allows (an over-confident provider's 0.9 is learned to mean less). A null
        answer reports nothing: 0.
        """
        if confidence is None:
            return 0.0
        low, high = SELF_CONFIDENCE_CLIP
        fixed = self_weight * _logit(min(high, max(low, confidence)))
        raw, n = self.banded.get((provider, field_name, confidence_band(confidence)), (0.5, 0.0))
        if n <= 0:
            return fixed
        base = _logit(self.of(provider, field_name))
        reference = _sigmoid(base + fixed)
        credible = nearest_credible(raw, reference, n, self.z)
        return fixed if credible == reference else _logit(credible) - base


def pair_stats(
    observations: Iterable[Observation], field_name: str
) -> tuple[dict[tuple[str, str], PairStats], dict[str, int]]:
    """Pairwise agreement counts on one field, and per provider the evidence count.

    Evidence = observations where the provider voted with at least two others (a pair
    alone says only that both were right or both wrong, not which one is better).
    """
    agree: dict[tuple[str, str], float] = {}
    total: dict[tuple[str, str], float] = {}
    evidence: dict[str, int] = {}
    for obs in observations:
        labels = obs.labels.get(field_name)
        if not _well_formed(obs, labels):
            continue
        n = len(obs.providers)
        for a in range(n):
            if n >= 3:
                evidence[obs.providers[a]] = evidence.get(obs.providers[a], 0) + 1
            for b in range(a + 1, n):
                key = _pair(obs.providers[a], obs.providers[b])
                total[key] = total.get(key, 0.0) + 1.0
                agree[key] = agree.get(key, 0.0) + (labels[a] == labels[b])
    stats = {k: PairStats(agree.get(k, 0.0), t) for k, t in total.items()}
    return stats, evidence


def _well_formed(obs: Observation, *columns: Sequence[int] | None) -> bool:
    """One entry per voter and no voter twice (a hand-edited or foreign record is skipped)."""
    n = len(obs.providers)
    return len(set(obs.providers)) == n and all(c is not None and len(c) == n for c in columns)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _clip(r: float) -> float:
    return min(MAX_ACCURACY, max(MIN_ACCURACY, r))


def solve_accuracies(
    stats: Mapping[tuple[str, str], PairStats],
    *,
    coincidence: float,
    start: float,
    iterations: int = 300,
    tolerance: float = 1e-7,
) -> dict[str, float]:
    """Least-squares accuracies for the pairwise agreement rates (Jacobi, damped).

    For fixed others, ``a_ij`` is linear in ``r_i`` (slope ``b_j = r_j(1+q) − q``,
    intercept ``q(1 − r_j)``), so each sweep solves every provider in closed form from
    the previous sweep's values: symmetric data keeps symmetric answers, and the result
    does not depend on the order the providers are listed in.
    """
    q = coincidence
    providers = sorted({p for pair in stats for p in pair})
    r = dict.fromkeys(providers, _clip(start))
    for _ in range(iterations):
        new: dict[str, float] = {}
        for i in providers:
            num = den = 0.0
            for (a, b), s in stats.items():
                if s.total <= 0 or i not in (a, b):
                    continue
                j = b if a == i else a
                slope = r[j] * (1.0 + q) - q
                rate = s.agree / s.total
                num += s.total * slope * (rate - q * (1.0 - r[j]))
                den += s.total * slope * slope
            new[i] = _clip(num / den) if den > 1e-12 else r[i]
        change = max((abs(new[p] - r[p]) for p in providers), default=0.0)
        r = {p: 0.5 * r[p] + 0.5 * new[p] for p in providers}
        if change < tolerance:
            break
    return r


def estimate_reliability(
    observations: Sequence[Observation],
    *,
    coincidence: float,
    prior: float,
    z: float = 1.96,
    fields: Sequence[str] = RELIABILITY_FIELDS,
) -> Reliability:
    """Per-provider, per-field accuracy from the agreement history, tested against ``prior``.

    Each raw least-squares estimate is replaced by the value nearest ``prior`` within its
    ``z``-standard-error interval (:func:`nearest_credible`): the fixed weights unless the
    history says otherwise beyond noise. ``z = 0`` takes the raw estimates as they are.
    """
    result = Reliability(prior=prior, z=z, observations=len(observations))
    for name in fields:
        stats, counts = pair_stats(observations, name)
        raw = solve_accuracies(stats, coincidence=coincidence, start=prior)
        for p, r in raw.items():
            n = counts.get(p, 0)
            result.raw.setdefault(p, {})[name] = r
            result.evidence.setdefault(p, {})[name] = n
            result.accuracy.setdefault(p, {})[name] = nearest_credible(r, prior, n, z)
    for p, by_field in result.accuracy.items():
        result.overall[p] = sum(by_field.values()) / len(by_field)
    for name in fields:  # the others at their raw estimates: the best guess, not the test's
        base = {p: by_field[name] for p, by_field in result.raw.items() if name in by_field}
        for (p, band), value in banded_accuracy(
            observations, name, base, coincidence=coincidence
        ).items():
            result.banded[(p, name, band)] = value
    return result


def _logit(r: float) -> float:
    r = _clip(r)
    return math.log(r / (1.0 - r))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def vote_weight(accuracy: float, coincidence: float) -> float:
    """Log-likelihood ratio one vote adds to its value: log(r / ((1 − r) q)), kept ≥ 0.05.

    The Dawid–Skene weight of a voter, with ``q`` for how often wrong answers collide.
    """
    r = _clip(accuracy)
    return max(0.05, math.log(r / ((1.0 - r) * coincidence)))


CONFIDENCE_BANDS: tuple[float, ...] = (0.6, 0.8)  # band edges: <0.6, 0.6–0.8, ≥0.8


def confidence_band(confidence: float) -> int:
    """Which self-reported-confidence band an answer falls in (0 = lowest)."""
    return sum(confidence >= edge for edge in CONFIDENCE_BANDS)


def banded_accuracy(
    observations: Sequence[Observation],
    field_name: str,
    base: Mapping[str, float],
    *,
    coincidence: float,
) -> dict[tuple[str, int], tuple[float, float]]:
    """Accuracy of each provider's answers *in one confidence band*: ``(raw, emails)``.

    The same agreement identity, solved for ``r_i`` with the others' accuracies fixed at
    ``base``: how often a provider's answers at high (or low) self-confidence agree
    with the others says how right they are, i.e. its calibration, without labels.
    """
    q = coincidence
    pairs: Counter[tuple[str, int, str, bool]] = Counter()  # (i, band, j, agreed) -> emails
    count: Counter[tuple[str, int]] = Counter()
    for obs in observations:
        labels = obs.labels.get(field_name)
        bands = (obs.bands or {}).get(field_name)
        if not _well_formed(obs, labels, bands) or len(obs.providers) < 3:
            continue
        assert labels is not None and bands is not None
        voters = list(zip(obs.providers, labels, bands, strict=True))
        for provider, label, band in voters:
            if band < 0:
                continue
            count[(provider, band)] += 1
            for other, other_label, _ in voters:
                if other != provider:
                    pairs[(provider, band, other, label == other_label)] += 1
    num: dict[tuple[str, int], float] = {}
    den: dict[tuple[str, int], float] = {}
    for (provider, band, other, agreed), n in pairs.items():
        r_j = base.get(other, 0.8)
        slope = r_j * (1.0 + q) - q
        key = (provider, band)
        num[key] = num.get(key, 0.0) + n * slope * (float(agreed) - q * (1.0 - r_j))
        den[key] = den.get(key, 0.0) + n * slope * slope
    return {
        key: (_clip(num[key] / den[key]) if den.get(key, 0.0) > 1e-12 else 0.5, float(n))
        for key, n in count.items()
    }


__all__ = [
    "RELIABILITY_FIELDS",
    "Observation",
    "PairStats",
    "Reliability",
    "banded_accuracy",
    "confidence_band",
    "estimate_reliability",
    "interval_z",
    "nearest_credible",
    "pair_stats",
    "solve_accuracies",
    "vote_weight",
]


def reliability_from_records(
    records: Sequence[AgreementRecord], cfg: ConsensusSettings
) -> Reliability:
    """Provider accuracies from stored agreement records (``AgreementRecord``) under the
    ``[consensus]`` settings: what consensus weighs votes by, and what status shows."""
    observations = [Observation(tuple(r.providers), r.labels, r.bands) for r in records]
    return estimate_reliability(
        observations[-cfg.reliability_window :],
        coincidence=cfg.coincidence,
        prior=cfg.reliability_prior,
        z=interval_z(cfg.reliability_confidence),
    )
