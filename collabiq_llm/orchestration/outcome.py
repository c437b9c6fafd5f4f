"""What a strategy hands back to the orchestrator: a winner (or none) and the attempts."""

from __future__ import annotations

from dataclasses import dataclass, field

from collabiq_llm.entities import Attempt, ExtractedEntities
from collabiq_llm.errors import LLMAPIError
from collabiq_llm.state.api import AgreementRecord


@dataclass
class StrategyOutcome:
    entities: ExtractedEntities | None = None
    provider: str | None = None
    model: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    errors: dict[str, LLMAPIError] = field(default_factory=dict)
    degraded: bool = False
    fallback_used: bool = False
    hedged: bool = False
    providers_agreeing: dict[str, list[str]] | None = None
    agreement: AgreementRecord | None = None  # consensus: stored to learn reliability

    @property
    def ok(self) -> bool:
        return self.entities is not None
