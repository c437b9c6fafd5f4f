"""Consensus: ask every provider in parallel and merge their answers field by field.

Vote weights are the configured ``weight`` (offline's is low) times what the merge
derives from the provider's learned accuracy on the field, plus the learned worth of
its self-reported confidence (``reliability.py``, estimated from the stored agreement
history, and equal to the fixed rule until the history shows otherwise beyond noise);
fixed weights with ``consensus.learned_weights = false``. Each merged email's agreement pattern is
handed back in ``outcome.agreement`` for the orchestrator to store.
"""

from __future__ import annotations

import asyncio

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ExtractedEntities
from collabiq_llm.errors import StateError
from collabiq_llm.orchestration.calls import CallContext, state_unavailable
from collabiq_llm.orchestration.merge import (
    VOTED_FIELDS,
    Canonicaliser,
    FieldDecision,
    MergeSettings,
    Vote,
    merge_votes,
)
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.orchestration.parallel import call_in_parallel
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.reliability import (
    Reliability,
    confidence_band,
    reliability_from_records,
)
from collabiq_llm.settings import ConsensusSettings
from collabiq_llm.state.api import AgreementRecord, StateStore


def merge_settings(cfg: ConsensusSettings) -> MergeSettings:
    return MergeSettings(
        similarity_threshold=cfg.similarity_threshold,
        abstain_threshold=cfg.abstain_threshold,
        coincidence=cfg.coincidence,
        prior_accuracy=cfg.reliability_prior,
        self_weight=cfg.self_weight,
        lone_cap=cfg.lone_cap,
        lone_policy=cfg.lone_value,
    )


def learned_reliability(store: StateStore, cfg: ConsensusSettings) -> Reliability:
    """Provider accuracies estimated from the stored window (prior only if it is unreadable)."""
    try:
        records = store.read_agreements()
    except StateError as exc:
        state_unavailable(exc)
        records = []
    return reliability_from_records(records, cfg)


def _answer_confidence(entities: ExtractedEntities, name: str) -> float | None:
    """The self-reported confidence of a non-null answer (None for a null)."""
    value = getattr(entities, name)
    return None if value is None or value == "" else entities.field_confidence(name)


def learned_vote(
    reliability: Reliability, provider: str, entities: ExtractedEntities, cfg: ConsensusSettings
) -> tuple[dict[str, float], dict[str, float]]:
    """Per voted field: the provider's learned accuracy, and the learned log-odds this
    answer's self-reported confidence adds (its confidence band's calibration)."""
    accuracy = {name: reliability.of(provider, name) for name in VOTED_FIELDS}
    shift = {
        name: reliability.self_report_shift(
            provider, name, _answer_confidence(entities, name), self_weight=cfg.self_weight
        )
        for name in VOTED_FIELDS
    }
    return accuracy, shift


def agreement_record(
    ctx: CallContext, votes: list[Vote], decisions: dict[str, FieldDecision]
) -> AgreementRecord:
    """Which voters answered alike on each voted field (group numbers, no values), and
    the confidence band of each answer."""
    voters = [v.provider for v in votes]
    labels: dict[str, list[int]] = {}
    bands: dict[str, list[int]] = {}
    for name in VOTED_FIELDS:
        group_of = {p: i for i, group in enumerate(decisions[name].groups) for p in group}
        labels[name] = [group_of.get(p, -1 - k) for k, p in enumerate(voters)]
        confidences = [_answer_confidence(v.entities, name) for v in votes]
        bands[name] = [-1 if c is None else confidence_band(c) for c in confidences]
    return AgreementRecord(at=ctx.now(), providers=voters, labels=labels, bands=bands)


async def run_consensus(
    ctx: CallContext,
    providers: list[LLMProvider],
    email: EmailInput,
    *,
    canonicalise: Canonicaliser | None = None,
) -> StrategyOutcome:
    """Merge the answers; fewer than ``min_agreement`` (2) answers, or no field where two
    providers agree on a value, and the result is degraded."""
    cfg = ctx.settings.consensus
    history = (
        asyncio.create_task(asyncio.to_thread(learned_reliability, ctx.store, cfg))
        if cfg.learned_weights and len(providers) > 1
        else None
    )
    outcome = StrategyOutcome()
    try:
        answers = await call_in_parallel(ctx, providers, email, outcome)
    except BaseException:  # cancelled (Ctrl-C, deadline): do not leave the read behind
        if history is not None:
            history.cancel()
        raise
    reliability = await history if history is not None else None
    if not answers:
        return outcome
    outcome.fallback_used = answers[0].provider != providers[0].provider_name
    if len(answers) == 1:
        only = answers[0].result
        assert only is not None
        outcome.entities, outcome.provider, outcome.model = only.entities, only.provider, only.model
        outcome.degraded = True
        return outcome
    priority = {p.provider_name: i for i, p in enumerate(providers)}
    weights = {p.provider_name: p.config.weight for p in providers}
    votes = []
    for a in answers:
        if a.result is None:
            continue
        accuracy = shift = None
        if reliability is not None:
            accuracy, shift = learned_vote(reliability, a.provider, a.result.entities, cfg)
        votes.append(
            Vote(
                provider=a.provider,
                entities=a.result.entities,
                weight=weights[a.provider],
                priority=priority[a.provider],
                accuracy=accuracy,
                self_shift=shift,
            )
        )
    settings = merge_settings(cfg)
    merged = merge_votes(votes, settings, email_id=email.email_id, canonicalise=canonicalise)
    outcome.entities = merged.entities
    outcome.provider = merged.details_from
    outcome.model = next(
        a.result.model
        for a in answers
        if a.provider == merged.details_from and a.result is not None
    )
    outcome.degraded = len(answers) < cfg.min_agreement or not merged.agreed
    outcome.providers_agreeing = {name: d.supporters for name, d in merged.decisions.items()}
    outcome.agreement = agreement_record(ctx, votes, merged.decisions)
    return outcome
