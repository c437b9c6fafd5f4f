"""``llm test``: a real, tiny extraction per provider, recorded in health like any call."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import CollabIQError
from collabiq_llm.orchestration.calls import (
    CallHandle,
    acquire,
    guarded_call,
    prepare_providers,
)
from collabiq_llm.settings import provider_is_configured
from collabiq_llm.state.api import Permit

PROBE_EMAIL = EmailInput(
    text=(
        "Subject: 본봄 x 한빛유통 PoC\n\n"
        "안녕하세요, 어제 본봄과 한빛유통이 PoC 킥오프 미팅을 진행했습니다.\n"
        "담당자: 김민수 매니저"
    ),
    received_at=dt.date(2025, 11, 4),
    subject="본봄 x 한빛유통 PoC",
)


class CheckResult(BaseModel):
    provider: str
    ok: bool
    key_present: bool
    model: str | None = None
    latency_ms: float | None = None
    error_kind: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


async def acheck_provider(orchestrator, name: str) -> CheckResult:
    """Call ``name`` once (even through an open circuit: an operator asked for it)."""
    cfg = orchestrator.settings.provider(name)
    if not provider_is_configured(cfg):
        keys = " or ".join(cfg.api_key_env) or "a key"
        return CheckResult(
            provider=name,
            ok=False,
            key_present=False,
            model=cfg.model,
            error_kind="not_configured",
            error=f"not configured: set {keys}",
        )
    try:
        provider = orchestrator.provider(name)
    except CollabIQError as exc:
        return CheckResult(
            provider=name,
            ok=False,
            key_present=True,
            model=cfg.model,
            error_kind="config",
            error=str(exc),
        )
    permit = await acquire(orchestrator.ctx, provider)
    if not permit.allowed and "budget" in (permit.reason or ""):
        # a spent budget is a decision, not a fault to probe: an operator test must not
        # spend past it (nor say PASS for a provider extraction will skip)
        return CheckResult(
            provider=name,
            ok=False,
            key_present=True,
            model=cfg.model,
            error_kind="over_budget",
            error=permit.reason,
        )
    if not permit.allowed:  # an open circuit is tried anyway: an operator asked for it
        permit = Permit(allowed=True, state=permit.state)
    outcome = await guarded_call(orchestrator.ctx, CallHandle(provider, permit), PROBE_EMAIL)
    att = outcome.attempt
    return CheckResult(
        provider=name,
        ok=outcome.ok,
        key_present=True,
        model=att.model,
        latency_ms=att.latency_ms,
        error_kind=att.error_kind,
        error=att.error,
        input_tokens=att.input_tokens,
        output_tokens=att.output_tokens,
    )


def _buildable(orchestrator, names: list[str]) -> list:
    """The providers among ``names`` that are configured and build (others are reported)."""
    providers = []
    for name in names:
        try:
            if provider_is_configured(orchestrator.settings.provider(name)):
                providers.append(orchestrator.provider(name))
        except CollabIQError:
            continue
    return providers


def check_provider(orchestrator, name: str) -> CheckResult:
    async def _run() -> CheckResult:
        try:
            return await acheck_provider(orchestrator, name)
        finally:
            await orchestrator.aclose()

    return asyncio.run(_run())


def check_providers(
    orchestrator,
    names: list[str],
    *,
    timeout_s: float | None = None,
    on_done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check several providers concurrently; each gives up after ``timeout_s`` (if set)."""

    async def one(name: str) -> CheckResult:
        try:
            result = await asyncio.wait_for(acheck_provider(orchestrator, name), timeout_s)
        except TimeoutError:
            cfg = orchestrator.settings.provider(name)
            result = CheckResult(
                provider=name,
                ok=False,
                key_present=True,
                model=cfg.model,
                error_kind="timeout",
                error=f"no answer within {timeout_s:g} s (--timeout)",
            )
        if on_done is not None:
            on_done(result)
        return result

    async def _run() -> list[CheckResult]:
        try:
            # every SDK imported (off the loop) and client built before any clock starts,
            # so no provider's latency includes another one's set-up (issue 13)
            await prepare_providers(_buildable(orchestrator, names))
            return list(await asyncio.gather(*(one(n) for n in names)))
        finally:
            await orchestrator.aclose()

    return asyncio.run(_run())
