"""Consensus: ask every provider in parallel and merge their answers field by field."""

from __future__ import annotations

from collabiq_llm.email.input import EmailInput
from collabiq_llm.orchestration.calls import CallContext
from collabiq_llm.orchestration.merge import Canonicaliser, MergeSettings, Vote, merge_votes
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.orchestration.parallel import call_in_parallel
from collabiq_llm.providers.base import LLMProvider


async def run_consensus(
    ctx: CallContext,
    providers: list[LLMProvider],
    email: EmailInput,
    *,
    canonicalise: Canonicaliser | None = None,
) -> StrategyOutcome:
    """Merge the answers; with fewer than ``min_agreement`` (2) the result is degraded."""
    outcome = StrategyOutcome()
    answers = await call_in_parallel(ctx, providers, email, outcome)
    if not answers:
        return outcome
    outcome.fallback_used = answers[0].provider != providers[0].provider_name
    outcome.degraded = len(answers) < ctx.settings.consensus.min_agreement
    if len(answers) == 1:
        only = answers[0].result
        assert only is not None
        outcome.entities, outcome.provider, outcome.model = only.entities, only.provider, only.model
        outcome.degraded = True
        return outcome
    priority = {p.provider_name: i for i, p in enumerate(providers)}
    weights = {p.provider_name: p.config.weight for p in providers}
    votes = [
        Vote(
            provider=a.provider,
            entities=a.result.entities,
            weight=weights[a.provider],
            priority=priority[a.provider],
        )
        for a in answers
        if a.result is not None
    ]
    cfg = ctx.settings.consensus
    merged = merge_votes(
        votes,
        MergeSettings(cfg.similarity_threshold, cfg.abstain_threshold),
        email_id=email.email_id,
        canonicalise=canonicalise,
    )
    outcome.entities = merged.entities
    outcome.provider = merged.details_from
    outcome.model = next(
        a.result.model
        for a in answers
        if a.provider == merged.details_from and a.result is not None
    )
    outcome.providers_agreeing = {name: d.supporters for name, d in merged.decisions.items()}
    return outcome
