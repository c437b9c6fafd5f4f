"""The provider contract every LLM adapter (and the offline extractor) implements.

A provider knows its SDK and nothing about strategies, breakers or costs: it turns
one ``EmailInput`` into one ``ProviderResult`` or raises an ``LLMAPIError``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from pydantic import BaseModel, SecretStr

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ExtractedEntities
from collabiq_llm.settings import ProviderConfig


class ProviderResult(BaseModel):
    """A provider's answer for one email, with the usage that prices it."""

    provider: str
    model: str
    entities: ExtractedEntities
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    request_id: str | None = None


class LLMProvider(ABC):
    """Abstract base: instantiate a concrete provider, never this class.

    Concrete providers implement ``aextract``; ``extract_entities`` is the plain
    synchronous twin the plan's API promises. SDK clients are created lazily on
    the first call (and again if the event loop changed), never at import time.
    """

    def __init__(
        self,
        config: ProviderConfig,
        *,
        api_key: SecretStr | None = None,
        company_context: str | None = None,
    ) -> None:
        self.config = config
        self._api_key = api_key
        self.company_context = company_context

    @property
    def provider_name(self) -> str:
        return self.config.name or self.config.kind

    @property
    def model_id(self) -> str:
        return self.config.model

    @property
    def timeout_s(self) -> float:
        return self.config.timeout_s

    @property
    def streams(self) -> bool:
        """True when calls stream and report their first event (``providers.watch``)."""
        return False

    @abstractmethod
    async def aextract(self, email: EmailInput) -> ProviderResult:
        """Extract entities from one email; raise an ``LLMAPIError`` subclass on failure."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Do the one-off work of a first call (SDK import, client) before the clock starts.

        Called inside the event loop that will make the call. Raising here is allowed
        (e.g. a missing key); the error resurfaces from ``aextract``.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release network resources (SDK clients); default: nothing to release."""

    def extract_entities(self, email_text: str) -> ExtractedEntities:
        """Synchronous convenience: extract from raw text with this provider alone."""
        from collabiq_llm.email.parsing import parse_email

        email = parse_email(email_text)

        async def _run() -> ProviderResult:
            try:
                return await self.aextract(email)
            finally:
                await self.aclose()

        return asyncio.run(_run()).entities

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.provider_name!r}, model={self.model_id!r})"
