"""When a call counts as hung and when to hedge it: pure functions over settings + history.

A hung provider and a slow one differ in when the first event of the answer
arrives, not when the last does (issue 12). For streaming providers:

* ``first_byte_timeout``: the provider's own ``first_byte_timeout_s``, else
  ``first_byte_factor`` × its p95 time to first event, clamped to
  ``[first_byte_floor_s, first_byte_cap_s]`` (``first_byte_default_s`` before any
  history), never above ``timeout_s``. Extra endpoints (self-hosted models, gateways)
  have no deadline before their first answer and no cap below ``timeout_s``. No first
  event by then = hung: the call fails as a timeout and failover moves on at once.
* hedge delay: the p95 time to first event, at least ``hedge_min_s``; only a hedge
  that would start before the call counts as hung is worth it. Once the first event
  has arrived no hedge starts, however long the answer takes.

Providers that do not stream are timed on the whole response: the hedge delay is
their own latency p95 (at least ``hedge_min_s``; ``hedge_default_s`` before any
history; ``hedge_max_s`` caps it only when above 0) — a provider that normally takes
4 s is hedged after ~4 s, not after a fixed 1.5 s.
"""

from __future__ import annotations

from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.settings import BUILTIN_ORDER, FailoverSettings
from collabiq_llm.state.api import ProviderSnapshot

EXTRA_MIN_SAMPLES = 5
"""First-event times an extra endpoint needs before its p95 sets a hang deadline: a local
model's time to first token swings with prompt length and CPU load."""


def first_byte_timeout_s(
    cfg: FailoverSettings, provider: LLMProvider, snap: ProviderSnapshot | None
) -> float | None:
    """Seconds without a first event after which a streaming call is hung; None: no such
    deadline (not streaming, or an extra endpoint with no history yet: see below).

    The fixed no-history default and the cap are for the three cloud providers, whose
    first event comes in well under a second. An extra OpenAI-compatible endpoint (a
    self-hosted model, a gateway) may process the prompt for many seconds before its
    first token (llama.cpp on a CPU: 5–15 s), so it is never declared hung before it has
    answered ``EXTRA_MIN_SAMPLES`` times: its ``timeout_s`` bounds that wait, and from then
    on its own p95 time to first event sets the deadline (no cap below ``timeout_s``).
    """
    if not provider.streams:
        return None
    explicit = provider.config.first_byte_timeout_s
    if explicit is not None:
        return min(explicit, provider.timeout_s)
    cloud = provider.provider_name in BUILTIN_ORDER
    p95 = snap.p95_first_event_ms if snap is not None else None
    if not cloud and (snap is None or snap.first_event_samples < EXTRA_MIN_SAMPLES):
        return None  # one or two first-event times are no p95 for a local model
    if p95 is None:
        derived = cfg.first_byte_default_s
    else:
        cap = cfg.first_byte_cap_s if cloud else provider.timeout_s
        derived = min(max(cfg.first_byte_factor * p95 / 1000.0, cfg.first_byte_floor_s), cap)
    return min(derived, provider.timeout_s)


def hedge_delay_s(
    cfg: FailoverSettings, provider: LLMProvider, snap: ProviderSnapshot | None
) -> float | None:
    """Seconds after the start at which to hedge a call that has shown no progress.

    None means "never hedge this call on time" (a streaming call with no first-event
    history: its first-event deadline fails it over instead).
    """
    if provider.streams:
        hung_at = first_byte_timeout_s(cfg, provider, snap)
        p95 = snap.p95_first_event_ms if snap is not None else None
        if p95 is None or hung_at is None:
            return None
        delay = max(p95 / 1000.0, cfg.hedge_min_s)
        return delay if delay < hung_at else None
    p95 = snap.p95_latency_ms if snap is not None else None
    delay = cfg.hedge_default_s if p95 is None else max(p95 / 1000.0, cfg.hedge_min_s)
    if cfg.hedge_max_s > 0:
        delay = min(delay, cfg.hedge_max_s)
    return min(delay, provider.timeout_s)
