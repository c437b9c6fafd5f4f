"""In-process scripted providers for fast strategy tests (no SDK, no HTTP).

The contract and integration suites use the real SDKs against the emulators; these
fakes only exercise orchestration logic (ordering, hedging, voting, recording).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.errors import LLMAPIError
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.settings import ProviderConfig


@dataclass
class Step:
    """One scripted answer: entities, an error, or a hang, after ``delay_s``."""

    delay_s: float = 0.0
    entities: dict | None = None
    error: LLMAPIError | None = None
    hang: bool = False
    tokens: tuple[int, int] = (100, 20)


def answer(
    person: str | None = "김철수",
    startup: str | None = "본봄",
    partner: str | None = "신세계인터내셔널",
    date: str | None = "2025-11-01",
    details: str = "파일럿 킥오프 미팅",
    conf: float = 0.9,
    delay_s: float = 0.0,
    **confs: float,
) -> Step:
    c = {k: conf for k in ("person", "startup", "partner", "details", "date")} | confs
    return Step(
        delay_s=delay_s,
        entities={
            "person_in_charge": person,
            "startup_name": startup,
            "partner_org": partner,
            "details": details,
            "date": date,
            "confidence": c,
        },
    )


class ScriptedProvider(LLMProvider):
    """Plays ``steps`` in order (the last one repeats); counts calls."""

    def __init__(
        self,
        name: str,
        steps: Sequence[Step],
        *,
        timeout_s: float = 5.0,
        weight: float = 1.0,
        model: str = "fake-model",
        prepare_s: float = 0.0,
    ) -> None:
        super().__init__(
            ProviderConfig(
                name=name,
                kind="openai",
                model=model,
                timeout_s=timeout_s,
                weight=weight,
                key_required=False,
            )
        )
        self.steps = list(steps)
        self.prepare_s = prepare_s  # blocking one-off set-up, like an SDK import
        self.calls = 0
        self.cancelled = 0

    def prepare(self) -> None:
        if self.prepare_s:
            time.sleep(self.prepare_s)
            self.prepare_s = 0.0

    async def aextract(self, email: EmailInput) -> ProviderResult:
        self.prepare()  # like a real client: built on first use unless prepared already
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        try:
            if step.hang:
                await asyncio.sleep(3600)
            await asyncio.sleep(step.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if step.error is not None:
            raise step.error
        assert step.entities is not None
        entities = ExtractedEntities(
            **{**step.entities, "confidence": ConfidenceScores(**step.entities["confidence"])},
            email_id=email.email_id,
        )
        return ProviderResult(
            provider=self.provider_name,
            model=self.model_id,
            entities=entities,
            input_tokens=step.tokens[0],
            output_tokens=step.tokens[1],
        )
