"""The error taxonomy that failover, the circuit breaker and CLI exit codes key on.

Every provider maps its SDK's exceptions onto these classes (``raise ... from e``),
so the orchestrator never needs to know which SDK produced a failure.
"""

from __future__ import annotations

from typing import ClassVar

from collabiq_llm.redact import redact


class CollabIQError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(CollabIQError):
    """The email or the command line input is unusable (exit code 2)."""


class ConfigurationError(CollabIQError):
    """Settings are inconsistent, e.g. a provider named in config has no key (exit code 4)."""


class StateError(CollabIQError):
    """The state store could not be used (e.g. a lock could not be taken in time)."""


class LLMAPIError(CollabIQError):
    """A provider call failed. ``kind`` is the stable machine-readable category.

    ``retryable``: another attempt (same or other provider) may succeed.
    ``counts_against_provider``: the failure says something about the provider's
    health (our own bad request does not).
    ``trips_breaker``: the failure looks like an outage, so it counts toward opening
    the circuit (a model that answered with invalid output is up, just wrong).
    """

    kind: ClassVar[str] = "error"
    retryable: ClassVar[bool] = True
    counts_against_provider: ClassVar[bool] = True
    trips_breaker: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = redact(message)[:500]
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.request_id = request_id
        # tokens the provider billed for a failed call (e.g. an invalid 200 answer)
        self.input_tokens = 0
        self.output_tokens = 0
        self.model: str | None = None
        super().__init__(self.message)

    def with_usage(self, input_tokens: int, output_tokens: int, model: str | None) -> LLMAPIError:
        """Attach the usage of a billed but unusable answer, so its cost is recorded."""
        self.input_tokens, self.output_tokens, self.model = input_tokens, output_tokens, model
        return self

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        code = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{where}{self.kind}{code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, provider={self.provider!r}, "
            f"status_code={self.status_code!r}, message={self.message!r})"
        )


class LLMRateLimitError(LLMAPIError):
    """429 / quota exhausted; ``retry_after`` (seconds) when the provider said so."""

    kind = "rate_limit"


class LLMTimeoutError(LLMAPIError):
    """No complete answer within the configured timeout."""

    kind = "timeout"


class LLMAuthenticationError(LLMAPIError):
    """401/403: the key is missing, wrong or lacks permission. Not retryable."""

    kind = "auth"
    retryable = False


class LLMValidationError(LLMAPIError):
    """The provider answered 200 but the output is malformed or violates the schema.

    ``snippet`` is a short, redacted piece of what came back, for diagnosis.
    Not retried on the same provider (a model says the same again) and not an
    outage for the breaker; it still lowers the provider's success rate.
    """

    kind = "invalid_output"
    retryable = False
    trips_breaker = False

    def __init__(self, message: str, *, snippet: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.snippet = redact(snippet)[:200] if snippet else None


class LLMBadRequestError(LLMAPIError):
    """400/404/413/422 caused by our request (model name, size). Not the provider's fault."""

    kind = "bad_request"
    retryable = False
    counts_against_provider = False


class LLMServerError(LLMAPIError):
    """5xx, overloaded, unavailable."""

    kind = "server"


class LLMConnectionError(LLMServerError):
    """Connection refused, reset or dropped before a response arrived."""

    kind = "connection"


class InternalProviderError(LLMAPIError):
    """An unexpected exception inside a provider call (a bug here or an SDK mismatch).

    Failover moves on, but it does not count against the provider's health: a
    caller's or our own mistake must never open a circuit for every process.
    """

    kind = "internal"
    counts_against_provider = False


ERROR_KINDS: tuple[str, ...] = (
    "internal",
    "rate_limit",
    "timeout",
    "auth",
    "invalid_output",
    "bad_request",
    "server",
    "connection",
    "error",
)


class AllProvidersFailed(CollabIQError):
    """Every provider that was tried failed; ``failures`` maps provider name to its error."""

    def __init__(self, failures: dict[str, LLMAPIError], message: str | None = None) -> None:
        self.failures = dict(failures)
        detail = "; ".join(str(err) for err in self.failures.values()) or "no provider available"
        super().__init__(redact(message or f"all providers failed: {detail}"))
