"""Best-match: ask every provider in parallel, keep the most confident answer in time."""

from __future__ import annotations

from collabiq_llm.email.input import EmailInput
from collabiq_llm.orchestration.calls import CallContext
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.orchestration.parallel import call_in_parallel
from collabiq_llm.providers.base import LLMProvider


async def run_best_match(
    ctx: CallContext, providers: list[LLMProvider], email: EmailInput
) -> StrategyOutcome:
    """Highest mean field confidence wins; ties go to priority; late answers don't count."""
    outcome = StrategyOutcome()
    answers = await call_in_parallel(
        ctx, providers, email, outcome, window_s=ctx.settings.best_match.window_s
    )
    if not answers:
        return outcome
    # answers are in priority order, and max() keeps the first of equal keys
    best = max(
        answers,
        key=lambda a: round(a.result.entities.confidence.overall(), 9) if a.result else -1.0,
    )
    assert best.result is not None
    outcome.entities, outcome.provider, outcome.model = (
        best.result.entities,
        best.provider,
        best.result.model,
    )
    return outcome
