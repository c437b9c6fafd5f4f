"""Per-provider health metrics as pure updates over plain data.

Decisions (why):
* Every recorded call counts in ``calls``; a failure counts in ``failures`` and
  ``failures_by_kind`` whatever its kind, so status shows everything that
  happened. Failures that are our fault (``counts_against_provider=False``,
  e.g. ``bad_request``) are also counted in ``own_failures`` and left out of the
  success rate (and, in the breaker, out of consecutive failures).
* A lost race (kind ``cancelled``: a hedge or parallel call cancelled because
  another answer won) is counted in ``calls`` and ``cancelled`` only: it is no
  failure, and it is left out of the success rate and the latency window.
* Time to first event (streaming calls) is kept in its own window: it is what
  hang detection and the streaming hedge delay are derived from.
* Latency is kept for successful calls only (a timeout's "latency" is the
  timeout), in a bounded window of the last :data:`LATENCY_WINDOW` calls; mean,
  p50 and p95 are computed over that window, so they describe recent behaviour.
  Percentiles use the nearest-rank method.
* The last error is redacted again (belt and braces) and cut to
  :data:`ERROR_MAX_CHARS` characters on one line.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from collabiq_llm.redact import redact
from collabiq_llm.state.api import CallEvent, UtcDatetime
from collabiq_llm.state.views import (  # noqa: F401  (re-exported)
    first_event_p95,
    latency_summary,
    percentile,
    success_rate,
)

LATENCY_WINDOW = 200
ERROR_MAX_CHARS = 200


class HealthStats(BaseModel):
    """What is persisted per provider."""

    calls: int = 0
    successes: int = 0
    failures: int = 0
    own_failures: int = 0  # failures not counted against the provider
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    latencies_ms: list[float] = Field(default_factory=list)  # oldest first, bounded
    last_success: UtcDatetime | None = None
    last_failure: UtcDatetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    hedges: int = 0
    cancelled: int = 0  # lost races (not failures)
    first_event_ms: list[float] = Field(default_factory=list)  # streaming TTFE, bounded


def clean_error(message: str | None, limit: int = ERROR_MAX_CHARS) -> str | None:
    """Redacted, single-line, at most ``limit`` characters (ending in "…" when cut)."""
    if not message:
        return None
    text = " ".join(redact(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


CANCELLED = "cancelled"
"""Error kind of a call the orchestrator cancelled because another answer won."""


def record(stats: HealthStats, event: CallEvent, window: int = LATENCY_WINDOW) -> HealthStats:
    """The stats after one call."""
    update: dict[str, object] = {"calls": stats.calls + 1}
    if event.hedge:
        update["hedges"] = stats.hedges + 1
    if event.first_event_ms is not None and event.first_event_ms >= 0:
        ttfe = [*stats.first_event_ms, round(float(event.first_event_ms), 3)]
        update["first_event_ms"] = ttfe[-window:]
    if not event.ok and event.error_kind == CANCELLED:
        update["cancelled"] = stats.cancelled + 1
        return stats.model_copy(update=update)
    if event.ok:
        update["successes"] = stats.successes + 1
        update["last_success"] = event.at
        if event.latency_ms is not None and event.latency_ms >= 0:
            latencies = [*stats.latencies_ms, round(float(event.latency_ms), 3)]
            update["latencies_ms"] = latencies[-window:]
    else:
        kind = event.error_kind or "error"
        update["failures"] = stats.failures + 1
        update["failures_by_kind"] = {
            **stats.failures_by_kind,
            kind: stats.failures_by_kind.get(kind, 0) + 1,
        }
        if not event.counts_against_provider:
            update["own_failures"] = stats.own_failures + 1
        update["last_failure"] = event.at
        update["last_error"] = clean_error(event.error_message) or kind
        update["last_error_kind"] = kind
    return stats.model_copy(update=update)
