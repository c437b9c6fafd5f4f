"""``collabiq llm status``: the table, ``--detailed``, the stable ``--json`` object."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from collabiq_llm.state.costs import money
from collabiq_llm.status import StatusReport
from tests.cli.conftest import ANSI, SAMPLES, Providers, invoke, run_cli, subprocess_env
from tests.emulators import Behaviour

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"
GEMINI_CALL = (120 * 0.30 + 40 * 2.50) / 1e6
CLAUDE_CALL = (120 * 3.00 + 40 * 15.00) / 1e6


class DocumentedProvider(BaseModel):
    """The per-provider fields the issue promises (more may follow)."""

    model_config = ConfigDict(extra="allow", strict=True)

    health: Literal[
        "healthy",
        "degraded",
        "open",
        "half_open",
        "rate_limited",
        "over_budget",
        "misconfigured",
        "not_configured",
        "untested",
    ]
    breaker: Literal["closed", "open", "half_open"]
    calls: int
    successes: int
    failures: int
    consecutive_failures: int
    success_rate: float | None
    avg_latency_ms: float | None
    p95_latency_ms: float | None
    last_success: str | None
    last_failure: str | None
    last_error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None


class DocumentedTotals(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    emails: int
    cost_usd: float
    cost_per_email_usd: float | None


class DocumentedStatus(BaseModel):
    """``status --json`` as the issue documents it: these keys, these types."""

    model_config = ConfigDict(extra="allow", strict=True)

    strategy: Literal["failover", "consensus", "best-match"]
    priority: list[str]
    primary: str
    state_dir: str
    providers: dict[str, DocumentedProvider]
    totals: DocumentedTotals


def status_json(*, subprocess: bool = False) -> DocumentedStatus:
    """Run ``status --json`` and validate it against both models."""
    res = run_cli("llm", "status", "--json") if subprocess else invoke("llm", "status", "--json")
    assert res.exit_code == 0, res.stderr
    data = res.json()
    StatusReport.model_validate(data)
    return DocumentedStatus.model_validate(data)


def test_status_json_shape_and_counts(providers: Providers, isolated_home: Path) -> None:
    """Gemini fails once (503) -> Claude answers; then Gemini answers: exact counts and cost."""
    providers.gemini.enqueue(Behaviour.status(503), Behaviour.ok())
    for _ in range(2):
        assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    report = status_json()
    assert report.strategy == "failover"
    assert report.priority == ["gemini", "claude", "openai", "offline"]
    assert report.primary == "gemini"
    assert report.state_dir == str(isolated_home / "llm_health")
    assert list(report.providers) == ["gemini", "claude", "openai", "offline"]
    gemini, claude, openai = (report.providers[n] for n in ("gemini", "claude", "openai"))
    assert (gemini.calls, gemini.successes, gemini.failures) == (2, 1, 1)
    assert gemini.success_rate == 0.5 and gemini.health == "healthy"
    assert gemini.last_error is not None and "503" in gemini.last_error
    assert (claude.calls, claude.successes, claude.input_tokens, claude.output_tokens) == (
        1,
        1,
        120,
        40,
    )
    assert openai.calls == 0 and openai.health == "untested"
    assert gemini.cost_usd == pytest.approx(GEMINI_CALL)
    assert claude.cost_usd == pytest.approx(CLAUDE_CALL)
    assert report.totals.emails == 2
    assert report.totals.cost_usd == pytest.approx(GEMINI_CALL + CLAUDE_CALL)
    assert report.totals.cost_per_email_usd == pytest.approx((GEMINI_CALL + CLAUDE_CALL) / 2)
    for row in (gemini, claude):
        assert row.avg_latency_ms is not None and row.p95_latency_ms is not None
        assert dt.datetime.fromisoformat(row.last_success or "").tzinfo is not None


@pytest.mark.parametrize("width", [120, 200])
def test_status_table_readable_at_terminal_width(
    width: int, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    providers.gemini.enqueue(Behaviour.status(503))
    for _ in range(2):
        assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    monkeypatch.setenv("COLUMNS", str(width))
    res = invoke("llm", "status")
    assert res.exit_code == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    assert all(len(line) <= width for line in lines)
    header = next(line for line in lines if line.lstrip().startswith("provider"))
    for column in ("health", "success", "avg", "p95", "calls", "last ok", "last fail", "last"):
        assert column in header
    rows = {line.split()[0]: line for line in lines if line.split()[:1] in (["gemini"], ["claude"])}
    assert len([line for line in lines if line.split()[:1] in (["openai"], ["offline"])]) == 2
    assert "gemini *" in rows["gemini"]  # the primary is marked
    assert "50% (1/2)" in rows["gemini"] and "ms" in rows["gemini"]
    assert "server (HTTP 503" in rows["gemini"]  # last error, on the row itself
    assert "100% (1/1)" in rows["claude"] and "s ago" in rows["claude"]
    assert "strategy: failover" in res.stdout and "primary: gemini" in res.stdout
    assert not ANSI.search(res.stdout)


def test_status_detailed_adds_usage_strategy_thresholds_and_state(
    providers: Providers, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    monkeypatch.setenv("COLUMNS", "100")
    res = invoke("llm", "status", "--detailed")
    assert res.exit_code == 0
    out = res.stdout
    tables = [line for line in out.splitlines() if ":" not in line.split(" ")[0]]
    assert all(len(line) <= 100 for line in tables)  # "key: value" lines wrap in the terminal
    assert "Usage and tokens" in out and "Money (UTC days and months)" in out
    usage = next(line for line in out.splitlines() if "gemini-2.5-flash" in line)
    assert usage.split()[:4] == ["gemini", "gemini-2.5-flash", "120", "40"]
    assert money(GEMINI_CALL) in usage
    spend = next(line for line in out.splitlines() if line.startswith("gemini ") and "$" in line)
    assert spend.split()[1:4] == [money(GEMINI_CALL)] * 3  # today, this month, lifetime
    total = next(line for line in out.splitlines() if line.startswith("total "))
    assert total.split()[1:4] == [money(GEMINI_CALL)] * 3
    assert "strategy:   failover" in out
    assert "priority:   gemini (primary) -> claude -> openai -> offline" in out
    assert "emails:     1" in out
    assert "thresholds: failure_threshold=5, cooldown_s=60" in out
    assert f"state:      json at {isolated_home / 'llm_health'}" in out


def _record(provider: str, *, ok: bool, kind: str | None = None, n: int = 1) -> None:
    """Write call outcomes through the real store, as a provider call would."""
    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.state.api import CallEvent

    store = Orchestrator().store
    for _ in range(n):
        store.record_call(
            CallEvent(
                provider=provider,
                model="m",
                ok=ok,
                at=dt.datetime.now(dt.UTC),
                latency_ms=10.0,
                error_kind=kind,
                error_message=None if ok else f"{provider}: {kind} (HTTP 5xx): boom",
                counts_against_provider=kind not in ("cancelled", "bad_request"),
            )
        )
    store.flush()  # the production store group-commits; a CLI process flushes at exit


def test_health_labels(providers: Providers, monkeypatch: pytest.MonkeyPatch) -> None:
    """healthy / degraded / open with "retry at HH:MM:SS UTC" / misconfigured / half-open."""
    _record("gemini", ok=True)
    _record("claude", ok=False, kind="server", n=5)  # threshold 5 -> open for 60 s
    _record("openai", ok=False, kind="auth")  # 401/403 -> open at once, misconfigured
    monkeypatch.setenv("COLLABIQ_BREAKER__COOLDOWN_S", "0")
    _record("offline", ok=False, kind="server", n=5)  # open for 0 s: due for a probe
    monkeypatch.delenv("COLLABIQ_BREAKER__COOLDOWN_S")
    res = invoke("llm", "status")
    rows = {line.split()[0]: line for line in res.stdout.splitlines() if line.strip()}
    assert " healthy " in rows["gemini"]
    assert re.search(r" open \(retry at \d\d:\d\d:\d\d UTC\) ", rows["claude"])
    assert " misconfigured " in rows["openai"]
    assert " half-open " in rows["offline"]
    assert "openai: misconfigured (retry at" in res.stdout
    assert "authentication/permission error: fix the API key" in res.stdout
    assert "collabiq llm reset openai" in res.stdout
    report = status_json()
    assert report.providers["openai"].health == "misconfigured"
    assert report.providers["openai"].breaker == "open"
    assert report.providers["claude"].health == "open"
    assert report.providers["claude"].consecutive_failures == 5
    assert report.providers["offline"].health == "half_open"
    _record("gemini", ok=False, kind="timeout")  # a failure below the threshold
    assert status_json().providers["gemini"].health == "degraded"
    assert " degraded " in invoke("llm", "status").stdout
    assert (
        "gemini: degraded: last 1 call(s) failed, circuit closed" in invoke("llm", "status").stdout
    )


def test_success_counts_leave_out_cancelled_hedges_and_own_bad_requests() -> None:
    _record("offline", ok=True, n=2)
    _record("offline", ok=False, kind="cancelled")
    _record("offline", ok=False, kind="server")
    _record("offline", ok=False, kind="bad_request")
    row = status_json().providers["offline"]
    assert row.calls == 5
    line = next(x for x in invoke("llm", "status").stdout.splitlines() if x.startswith("offline"))
    assert "67% (2/3)" in line  # the rate and the calls it was computed over


def test_not_configured_providers_without_keys() -> None:
    report = status_json()
    assert report.primary == "offline" and report.priority == ["offline"]
    for name in ("gemini", "claude", "openai"):
        assert report.providers[name].health == "not_configured"
    assert report.providers["offline"].health == "untested"
    assert report.totals.cost_per_email_usd is None


def test_status_reads_state_written_by_another_process(isolated_home: Path) -> None:
    """One process extracts; this one reports it; and the other way round."""
    res = run_cli("llm", "extract", str(SAMPLES / "ko_pilot_kickoff.eml"))
    assert res.exit_code == 0, res.stderr
    report = status_json()
    assert report.providers["offline"].calls == 1 and report.totals.emails == 1
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    report = status_json(subprocess=True)
    assert report.providers["offline"].calls == 2 and report.totals.emails == 2


STATUS_PROBE = textwrap.dedent(
    """
    import sys
    from collabiq_llm.cli.app import main
    sys.argv = ["collabiq", "llm", "status", "--detailed"]
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    sdks = sorted(m for m in sys.modules if m.split(".")[0] in ("anthropic", "openai", "google"))
    print("SDKS=" + ",".join(sdks), file=sys.stderr)
    sys.exit(code)
    """
)


def test_status_never_calls_a_provider_nor_imports_an_sdk(providers: Providers) -> None:
    import subprocess
    import sys

    _record("gemini", ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", STATUS_PROBE],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SDKS=\n" in proc.stderr
    assert "LLM providers" in proc.stdout
    assert all(emu.request_count == 0 for emu in providers.by_name().values())


def test_corrupt_state_file_warns_on_stderr_and_status_still_works(isolated_home: Path) -> None:
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    health = isolated_home / "llm_health" / "health.json"
    health.write_text('{"schema": 1, "providers": {"offline": tru', encoding="utf-8")
    res = invoke("llm", "status", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)  # stdout is still pure JSON
    assert data["providers"]["offline"]["calls"] == 0  # continued from defaults
    assert data["totals"]["emails"] == 1  # costs.json was fine
    assert "warning" in res.stderr and str(health) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert list(health.parent.glob("health.json.corrupt-*"))
    again = invoke("llm", "status")
    assert again.exit_code == 0 and again.stderr == ""  # moved aside once, then quiet
