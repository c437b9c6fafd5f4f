"""collabiq-llm: collaboration emails -> structured records, through several LLM providers.

Public API (imported lazily so ``import collabiq_llm`` stays cheap and loads no SDK)::

    from collabiq_llm import extract, Orchestrator, ExtractedEntities
    result = extract("어제 신세계인터내셔널과 본봄 파일럿 킥오프 ... 담당자: 김철수")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ExtractedEntities": "collabiq_llm.entities",
    "ConfidenceScores": "collabiq_llm.entities",
    "ExtractionResult": "collabiq_llm.entities",
    "ResultMeta": "collabiq_llm.entities",
    "Attempt": "collabiq_llm.entities",
    "make_email_id": "collabiq_llm.entities",
    "EmailInput": "collabiq_llm.email.input",
    "parse_email": "collabiq_llm.email.parsing",
    "Settings": "collabiq_llm.settings",
    "LLMProvider": "collabiq_llm.providers.base",
    "ProviderResult": "collabiq_llm.providers.base",
    "Orchestrator": "collabiq_llm.orchestration.orchestrator",
    "HealthTracker": "collabiq_llm.health_tracker",
    "LLMAPIError": "collabiq_llm.errors",
    "LLMRateLimitError": "collabiq_llm.errors",
    "LLMTimeoutError": "collabiq_llm.errors",
    "LLMAuthenticationError": "collabiq_llm.errors",
    "LLMValidationError": "collabiq_llm.errors",
    "LLMBadRequestError": "collabiq_llm.errors",
    "LLMServerError": "collabiq_llm.errors",
    "LLMConnectionError": "collabiq_llm.errors",
    "AllProvidersFailed": "collabiq_llm.errors",
    "ConfigurationError": "collabiq_llm.errors",
    "InputError": "collabiq_llm.errors",
}

__all__ = [*_EXPORTS, "aextract", "extract"]

if TYPE_CHECKING:
    from collabiq_llm.entities import ExtractionResult


def extract(email_text: str, strategy: str | None = None) -> ExtractionResult:
    """Extract one email with the configured providers (offline when no key is set).

    Works inside a running event loop too (Jupyter): it then runs on a worker thread.
    """
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    return Orchestrator().extract(email_text, strategy)


async def aextract(email_text: str, strategy: str | None = None) -> ExtractionResult:
    """``await aextract(text)``: the async form of :func:`extract`."""
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    orchestrator = Orchestrator()
    try:
        return await orchestrator.aextract(email_text, strategy)
    finally:
        await orchestrator.aclose()


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'collabiq_llm' has no attribute {name!r}")
