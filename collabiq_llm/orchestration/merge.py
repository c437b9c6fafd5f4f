"""Consensus merge: pure functions from several providers' answers to one record.

Per field: normalise each candidate, group the ones that name the same thing
(order-independent connected components of a similarity graph; a null answer is a
group of its own), and score each group as evidence under the one-coin model of
``reliability.py``: every supporter adds ``weight × log(r / ((1 − r) q))`` (its learned
accuracy ``r`` on this field, ``q`` = chance two wrong answers coincide) plus a smaller
``self_weight × logit(self-reported confidence)`` (or, with learned weights, the learned
calibration of that confidence). The best-scoring group wins; its
confidence is its posterior probability against the other groups and "none of them".
So agreement decides and self-reported confidence comes second: one provider claiming
1.0 cannot outvote two that agree.

A value backed by one provider while another voter disagreed (a different value or
null) is capped at ``lone_cap`` (≤ 0.5) or, with ``lone_policy = "abstain"``, dropped;
a record where no field has a value backed by two providers is not ``agreed`` (the
consensus marks it degraded).

Decisions (documented in README "Consensus merge"):
- "본봄" and "본봄컴퍼니" merge: "컴퍼니"/"company" is a generic affix.
- "신세계" and "신세계인터내셔널" do NOT merge: one is a prefix of the other but the
  lengths differ too much to be a spelling variant; they are different companies
  unless the company directory lists one as an alias of the other.
- "(주)테이블매니저" and "TableManager" merge only through the directory (aliases),
  since no string similarity links Hangul and Latin spellings.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz.distance import JaroWinkler

from collabiq_llm.entities import CONFIDENCE_KEYS, ConfidenceScores, ExtractedEntities
from collabiq_llm.normalise import normalise_date, normalise_org_name, normalise_person
from collabiq_llm.reliability import vote_weight

NAME_FIELDS = ("person_in_charge", "startup_name", "partner_org")
VOTED_FIELDS = (*NAME_FIELDS, "date")
MIN_LENGTH_RATIO = 0.75
NULL_KEY = "\x00null"  # the comparison key of a null answer (no real value normalises to it)
_GENERIC_SUFFIXES = ("컴퍼니", "company")

Canonicaliser = Callable[[str], str | None]


@dataclass(frozen=True)
class Vote:
    """One provider's answer, with what the vote needs to know about the provider.

    ``weight``: the configured weight (offline's is low); ``accuracy``: the provider's
    learned accuracy per field (missing fields / None = ``MergeSettings.prior_accuracy``);
    ``self_shift``: per field, the learned log-odds the answer's self-reported confidence
    adds (missing / None = the fixed ``self_weight × logit(confidence)``).
    """

    provider: str
    entities: ExtractedEntities
    weight: float = 1.0
    priority: int = 0  # 0 = highest priority
    accuracy: Mapping[str, float] | None = None
    self_shift: Mapping[str, float] | None = None


@dataclass
class MergeSettings:
    similarity_threshold: float = 0.85
    abstain_threshold: float = 0.25
    coincidence: float = 0.2  # q: chance that two wrong answers are the same value
    prior_accuracy: float = 0.8  # accuracy assumed for a provider without learned figures
    self_weight: float = 0.5  # weight of logit(self-reported confidence) in a vote
    lone_cap: float = 0.5  # confidence cap of a value only one provider backs
    lone_policy: Literal["cap", "abstain"] = "cap"


@dataclass(frozen=True)
class Candidate:
    provider: str
    value: str | dt.date | None  # None = the provider answered null
    key: str  # normalised comparison form
    confidence: float
    weight: float
    priority: int
    accuracy: float
    self_shift: float | None = None  # learned; None = the fixed self_weight rule

    def score(self, settings: MergeSettings) -> float:
        """Evidence this answer adds to its group (log-likelihood ratio, see module doc)."""
        base = self.weight * vote_weight(self.accuracy, settings.coincidence)
        if self.value is None:
            return base  # a null carries no self-reported confidence
        if self.self_shift is not None:
            return base + self.self_shift
        return base + settings.self_weight * confidence_logit(self.confidence)


def confidence_logit(confidence: float) -> float:
    """log-odds of a self-reported confidence, clipped to 0.02..0.98."""
    c = min(0.98, max(0.02, confidence))
    return math.log(c / (1.0 - c))


@dataclass
class FieldDecision:
    """The merged value of one field, who supported it, and how everyone grouped."""

    value: str | dt.date | None
    confidence: float
    supporters: list[str] = field(default_factory=list)
    dissenters: list[str] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)  # providers answering alike


def comparison_key(field_name: str, value: object, canonicalise: Canonicaliser | None) -> str:
    """The normalised form two values of ``field_name`` are compared by."""
    if field_name == "date":
        return normalise_date(value) or ""
    text = str(value)
    if field_name in ("startup_name", "partner_org"):
        if canonicalise is not None:
            canonical = canonicalise(text)
            if canonical:
                return "=" + normalise_org_name(canonical)  # '=' marks directory identity
        key = normalise_org_name(text)
        for suffix in _GENERIC_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)].strip()
        return key
    if field_name == "person_in_charge":
        return normalise_person(text)
    return text


def same_value(a: str, b: str, threshold: float) -> bool:
    """Two normalised keys name the same thing (spelling variants, not prefixes)."""
    if a == b:
        return True
    if a.startswith("=") or b.startswith("="):
        return False  # directory-resolved names are equal only when identical
    if not a or not b:
        return False
    if min(len(a), len(b)) / max(len(a), len(b)) < MIN_LENGTH_RATIO:
        return False
    return JaroWinkler.similarity(a, b) >= threshold


def group_candidates(
    candidates: Sequence[Candidate], threshold: float, *, exact: bool = False
) -> list[list[Candidate]]:
    """Connected components of the similarity graph: the result ignores input order.

    ``exact``: only identical keys group (dates: a day apart is a different date).
    """
    parent = list(range(len(candidates)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(candidates)):
        for j in range(i + 1, len(candidates)):
            a, b = candidates[i].key, candidates[j].key
            if a == b or (not exact and same_value(a, b, threshold)):
                parent[find(i)] = find(j)
    groups: dict[int, list[Candidate]] = {}
    for i, cand in enumerate(candidates):
        groups.setdefault(find(i), []).append(cand)
    # stable, order-independent listing: by best priority inside each group
    return sorted(
        groups.values(), key=lambda g: (min(c.priority for c in g), min(c.key for c in g))
    )


def _total(cands: Sequence[Candidate], settings: MergeSettings) -> float:
    """Sum of scores, exactly rounded (``fsum``), so input order cannot change a tie."""
    return math.fsum(c.score(settings) for c in cands)


def group_evidence(group: Sequence[Candidate], settings: MergeSettings) -> float:
    """Log-odds of "this group's value is right" against "every answer is wrong"."""
    return _total(group, settings) - math.log(1.0 / settings.coincidence)


def _group_rank(group: list[Candidate], settings: MergeSettings) -> tuple[float, int, int, str]:
    return (
        round(group_evidence(group, settings), 9),
        len({c.provider for c in group}),
        -min(c.priority for c in group),
        min(c.key for c in group),  # last resort: deterministic, whatever the input order
    )


def posterior(evidence: Sequence[float], index: int) -> float:
    """P(hypothesis ``index``) among the groups and "none of them" (evidence 0)."""
    top = max(0.0, *evidence)
    denom = math.fsum([math.exp(-top), *(math.exp(e - top) for e in sorted(evidence))])
    return math.exp(evidence[index] - top) / denom


def _representative(group: list[Candidate], settings: MergeSettings) -> Candidate:
    """The best-supported exact value in the group; ties go to priority."""
    by_key: dict[str, list[Candidate]] = {}
    for cand in group:
        by_key.setdefault(cand.key, []).append(cand)
    best_key = max(
        by_key,
        key=lambda k: (
            round(_total(by_key[k], settings), 9),
            len(by_key[k]),
            -min(c.priority for c in by_key[k]),
            k,
        ),
    )
    return min(by_key[best_key], key=lambda c: (-c.score(settings), c.priority, str(c.value)))


def _candidates(
    field_name: str,
    votes: Sequence[Vote],
    settings: MergeSettings,
    canonicalise: Canonicaliser | None,
) -> list[Candidate]:
    key_name = CONFIDENCE_KEYS[field_name]
    out = []
    for vote in votes:
        value = getattr(vote.entities, field_name)
        accuracy = (vote.accuracy or {}).get(field_name, settings.prior_accuracy)
        shift = (vote.self_shift or {}).get(field_name)
        if value is None or value == "":
            value, key = None, NULL_KEY
        else:
            key = comparison_key(field_name, value, canonicalise)
        out.append(
            Candidate(
                provider=vote.provider,
                value=value,
                key=key,
                confidence=float(getattr(vote.entities.confidence, key_name)),
                weight=vote.weight,
                priority=vote.priority,
                accuracy=accuracy,
                self_shift=shift,
            )
        )
    return out


def merge_field(
    field_name: str,
    votes: Sequence[Vote],
    settings: MergeSettings,
    canonicalise: Canonicaliser | None = None,
) -> FieldDecision:
    """Merge one field across providers (see module docstring for the rules)."""
    cands = _candidates(field_name, votes, settings, canonicalise)
    nulls = [c for c in cands if c.value is None]
    valued = [c for c in cands if c.value is not None]
    groups = group_candidates(valued, settings.similarity_threshold, exact=field_name == "date")
    if nulls:
        groups.append(nulls)

    def prio(provider: str) -> int:
        return next((c.priority for c in cands if c.provider == provider), 0)

    def names(group: Sequence[Candidate]) -> list[str]:
        return sorted({c.provider for c in group}, key=lambda p: (prio(p), p))

    listing = [names(g) for g in groups]
    if not valued or all(c.confidence < settings.abstain_threshold for c in valued):
        return FieldDecision(
            value=None,
            confidence=0.0,
            supporters=names(nulls),
            dissenters=names(valued),
            groups=listing,
        )
    winner = max(groups, key=lambda g: _group_rank(g, settings))
    others = names([c for g in groups if g is not winner for c in g])
    if winner is nulls:
        return FieldDecision(None, 0.0, names(nulls), others, listing)
    evidence = [group_evidence(g, settings) for g in groups]
    confidence = posterior(evidence, groups.index(winner))
    supporters = names(winner)
    if len(supporters) == 1 and others:  # one provider's word against another's
        if settings.lone_policy == "abstain":
            return FieldDecision(None, 0.0, [], names(cands), listing)
        confidence = min(confidence, settings.lone_cap)
    best = _representative(winner, settings)
    return FieldDecision(
        value=best.value,
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        supporters=supporters,
        dissenters=others,
        groups=listing,
    )


@dataclass
class MergeOutcome:
    entities: ExtractedEntities
    decisions: dict[str, FieldDecision]
    details_from: str
    agreed: bool  # some field has a value backed by at least two providers


def merge_votes(
    votes: Sequence[Vote],
    settings: MergeSettings,
    *,
    email_id: str,
    canonicalise: Canonicaliser | None = None,
) -> MergeOutcome:
    """Merge every field; ``details`` is the text of the provider that won most fields.

    Details are free text (no vote possible): their confidence is the chosen provider's
    own, scaled by the share of voted fields on which it was in an agreeing majority.
    """
    if not votes:
        raise ValueError("merge_votes needs at least one vote")
    decisions = {name: merge_field(name, votes, settings, canonicalise) for name in VOTED_FIELDS}
    wins: dict[str, float] = {v.provider: 0.0 for v in votes}
    backed: dict[str, int] = {v.provider: 0 for v in votes}
    for decision in decisions.values():
        for provider in decision.supporters:
            wins[provider] += 1.0
            if decision.value is not None and len(decision.supporters) >= 2:
                backed[provider] += 1
    details_vote = max(
        votes,
        key=lambda v: (wins[v.provider], v.weight * v.entities.confidence.details, -v.priority),
    )
    share = backed[details_vote.provider] / len(VOTED_FIELDS)
    decisions["details"] = FieldDecision(
        value=details_vote.entities.details,
        confidence=round(details_vote.entities.confidence.details * (0.5 + 0.5 * share), 4),
        supporters=[details_vote.provider],
    )
    confidence = ConfidenceScores(
        **{CONFIDENCE_KEYS[name]: d.confidence for name, d in decisions.items()}
    )
    entities = ExtractedEntities(
        person_in_charge=_as_str(decisions["person_in_charge"].value),
        startup_name=_as_str(decisions["startup_name"].value),
        partner_org=_as_str(decisions["partner_org"].value),
        details=str(decisions["details"].value or ""),
        date=decisions["date"].value,  # type: ignore[arg-type]
        confidence=confidence,
        email_id=email_id,
    )
    agreed = any(
        decisions[name].value is not None and len(decisions[name].supporters) >= 2
        for name in VOTED_FIELDS
    )
    return MergeOutcome(
        entities=entities, decisions=decisions, details_from=details_vote.provider, agreed=agreed
    )


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)
