"""Consensus merge: pure functions from several providers' answers to one record.

Per field: normalise each candidate, group the ones that name the same thing
(order-independent connected components of a similarity graph), score each group
by Σ provider weight × confidence, and let the best group win. Merged confidence
comes from the winning group and rises with agreement (noisy-OR of its members),
scaled down by the weight of the opposition.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import JaroWinkler

from collabiq_llm.entities import CONFIDENCE_KEYS, ConfidenceScores, ExtractedEntities
from collabiq_llm.normalise import normalise_date, normalise_org_name, normalise_person

NAME_FIELDS = ("person_in_charge", "startup_name", "partner_org")
MIN_LENGTH_RATIO = 0.75
_GENERIC_SUFFIXES = ("컴퍼니", "company")

Canonicaliser = Callable[[str], str | None]


@dataclass(frozen=True)
class Vote:
    """One provider's answer, with what the vote needs to know about the provider."""

    provider: str
    entities: ExtractedEntities
    weight: float = 1.0
    priority: int = 0  # 0 = highest priority


@dataclass(frozen=True)
class Candidate:
    provider: str
    value: str | dt.date
    key: str  # normalised comparison form
    confidence: float
    weight: float
    priority: int

    @property
    def support(self) -> float:
        return self.weight * self.confidence


@dataclass
class FieldDecision:
    """The merged value of one field and who supported it."""

    value: str | dt.date | None
    confidence: float
    supporters: list[str] = field(default_factory=list)
    dissenters: list[str] = field(default_factory=list)


@dataclass
class MergeSettings:
    similarity_threshold: float = 0.85
    abstain_threshold: float = 0.25


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
    return sorted(groups.values(), key=lambda g: min(c.priority for c in g))


def _group_rank(group: list[Candidate]) -> tuple[float, int, int, str]:
    score = sum(c.support for c in group)
    return (
        round(score, 12),
        len({c.provider for c in group}),
        -min(c.priority for c in group),
        min(c.key for c in group),  # last resort: deterministic, whatever the input order
    )


def _representative(group: list[Candidate]) -> Candidate:
    """The best-supported exact value in the group; ties go to priority."""
    by_key: dict[str, list[Candidate]] = {}
    for cand in group:
        by_key.setdefault(cand.key, []).append(cand)
    best_key = max(
        by_key,
        key=lambda k: (
            round(sum(c.support for c in by_key[k]), 12),
            len(by_key[k]),
            -min(c.priority for c in by_key[k]),
            k,
        ),
    )
    return min(by_key[best_key], key=lambda c: (-c.support, c.priority, str(c.value)))


def agreement_confidence(group: Sequence[Candidate], opposition: float) -> float:
    """Noisy-OR of the group's confidences, scaled by its share of the total support."""
    miss = 1.0
    for cand in group:
        miss *= 1.0 - min(max(cand.confidence, 0.0), 1.0)
    combined = 1.0 - miss
    support = sum(c.support for c in group)
    share = support / (support + opposition) if support + opposition > 0 else 0.0
    return round(min(1.0, combined * share), 4)


def merge_field(
    field_name: str,
    votes: Sequence[Vote],
    settings: MergeSettings,
    canonicalise: Canonicaliser | None = None,
) -> FieldDecision:
    """Merge one field across providers (see module docstring for the rules)."""
    key_name = CONFIDENCE_KEYS[field_name]
    candidates = []
    for vote in votes:
        value = getattr(vote.entities, field_name)
        if value is None or value == "":
            continue
        candidates.append(
            Candidate(
                provider=vote.provider,
                value=value,
                key=comparison_key(field_name, value, canonicalise),
                confidence=float(getattr(vote.entities.confidence, key_name)),
                weight=vote.weight,
                priority=vote.priority,
            )
        )
    if not candidates or all(c.confidence < settings.abstain_threshold for c in candidates):
        return FieldDecision(
            value=None, confidence=0.0, dissenters=[c.provider for c in candidates]
        )
    groups = group_candidates(candidates, settings.similarity_threshold, exact=field_name == "date")
    winner = max(groups, key=_group_rank)
    opposition = sum(c.support for g in groups if g is not winner for c in g)
    best = _representative(winner)
    return FieldDecision(
        value=best.value,
        confidence=agreement_confidence(winner, opposition),
        supporters=sorted({c.provider for c in winner}, key=lambda p: _prio(votes, p)),
        dissenters=sorted(
            {c.provider for g in groups if g is not winner for c in g},
            key=lambda p: _prio(votes, p),
        ),
    )


def _prio(votes: Sequence[Vote], provider: str) -> int:
    return next((v.priority for v in votes if v.provider == provider), 0)


@dataclass
class MergeOutcome:
    entities: ExtractedEntities
    decisions: dict[str, FieldDecision]
    details_from: str


def merge_votes(
    votes: Sequence[Vote],
    settings: MergeSettings,
    *,
    email_id: str,
    canonicalise: Canonicaliser | None = None,
) -> MergeOutcome:
    """Merge every field; ``details`` is the text of the provider that won most fields."""
    if not votes:
        raise ValueError("merge_votes needs at least one vote")
    decisions = {
        name: merge_field(name, votes, settings, canonicalise) for name in (*NAME_FIELDS, "date")
    }
    wins: dict[str, float] = {v.provider: 0.0 for v in votes}
    for decision in decisions.values():
        for provider in decision.supporters:
            wins[provider] += 1.0
    details_vote = max(
        votes,
        key=lambda v: (wins[v.provider], v.weight * v.entities.confidence.details, -v.priority),
    )
    decisions["details"] = FieldDecision(
        value=details_vote.entities.details,
        confidence=details_vote.entities.confidence.details,
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
    return MergeOutcome(entities=entities, decisions=decisions, details_from=details_vote.provider)


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)
