"""``llm test``, ``set-strategy``, ``reset`` and ``dead-letters``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from collabiq_llm.entities import ExtractionResult
from collabiq_llm.provider_check import CheckResult
from collabiq_llm.status import StatusReport
from tests.cli.conftest import Providers, invoke, run_cli
from tests.emulators import Behaviour

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"


class TestReport(BaseModel):
    """``llm test --json``."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="forbid")

    ok: bool
    results: list[CheckResult]


class StrategyChange(BaseModel):
    """``llm set-strategy --json``."""

    model_config = ConfigDict(extra="forbid")

    class Previous(BaseModel):
        model_config = ConfigDict(extra="forbid")
        strategy: str
        providers: list[str]

    strategy: str
    providers: list[str]
    previous: Previous


class ListedLetter(BaseModel):
    """One entry of ``dead-letters list --json`` (the email text itself is left out)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    email_id: str
    received_at: dt.date | None
    strategy: str | None
    failed_at: dt.datetime
    errors: dict[str, str]
    source: str | None
    attempts: int
    chars: int


def status() -> StatusReport:
    res = invoke("llm", "status", "--json")
    assert res.exit_code == 0, res.stderr
    return StatusReport.model_validate_json(res.stdout)


# ---- llm test --------------------------------------------------------------------------------


def test_llm_test_all_pass_and_is_recorded_in_health(providers: Providers) -> None:
    res = invoke("llm", "test", "--json")
    assert res.exit_code == 0, res.stderr
    report = TestReport.model_validate_json(res.stdout)
    assert report.ok
    assert [r.provider for r in report.results] == ["gemini", "claude", "openai"]
    assert all(r.ok and r.key_present and r.latency_ms is not None for r in report.results)
    assert all(emu.request_count == 1 for emu in providers.by_name().values())
    rows = status().providers
    assert [rows[n].calls for n in ("gemini", "claude", "openai")] == [1, 1, 1]
    assert status().totals.emails == 0  # a probe is not an email


def test_llm_test_table_and_failure_exit_3(providers: Providers) -> None:
    providers.claude.set_default(Behaviour.status(529, message="Overloaded"))
    res = invoke("llm", "test", "gemini", "claude")
    assert res.exit_code == 3
    lines = [line.rstrip() for line in res.stdout.splitlines()]
    assert lines[0] == "Provider check"
    gemini = next(line for line in lines if line.startswith("gemini"))
    claude = next(line for line in lines if line.startswith("claude"))
    assert " PASS " in gemini and "120/40" in gemini
    assert " FAIL " in claude and "Overloaded" in claude
    assert providers.openai.request_count == 0  # only the named ones
    row = status().providers["claude"]
    assert (row.calls, row.failures) == (1, 1)


def test_llm_test_unconfigured_provider_named_explicitly_is_exit_4() -> None:
    res = invoke("llm", "test", "claude", "--json")
    assert res.exit_code == 4
    report = TestReport.model_validate_json(res.stdout)
    assert not report.ok
    (claude,) = report.results
    assert (claude.key_present, claude.error_kind) == (False, "not_configured")
    assert claude.error == "not configured: set ANTHROPIC_API_KEY"


def test_llm_test_unknown_provider_is_exit_2_with_choices() -> None:
    res = invoke("llm", "test", "mistral")
    assert res.exit_code == 2 and res.stdout == ""
    assert (
        "unknown provider(s): mistral; choose from: gemini, claude, openai, offline" in res.stderr
    )


def test_llm_test_default_without_keys_checks_offline_and_says_so_with_exit_4() -> None:
    res = invoke("llm", "test", "--json")
    assert res.exit_code == 4  # nothing remote was tested: not a pass
    assert "no remote provider is configured" in res.stderr
    assert [r.provider for r in TestReport.model_validate_json(res.stdout).results] == ["offline"]


def test_llm_test_timeout_gives_up_on_a_hung_provider(providers: Providers) -> None:
    providers.claude.set_default(Behaviour.hang())
    res = invoke("llm", "test", "--timeout", "8", "--json")  # room for a cold SDK import
    assert res.exit_code == 3, res.stderr
    results = {r.provider: r for r in TestReport.model_validate_json(res.stdout).results}
    assert results["gemini"].ok and results["openai"].ok
    assert results["claude"].error_kind == "timeout"
    assert results["claude"].error == "no answer within 8 s (--timeout)"


def test_llm_test_over_budget_is_a_failure_without_a_call(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABIQ_PROVIDERS__GEMINI__BUDGET_DAILY_USD", "0.0001")
    assert invoke("llm", "test", "gemini").exit_code == 0  # spends $0.000136
    res = invoke("llm", "test", "gemini", "--json")
    assert res.exit_code == 3
    (gemini,) = TestReport.model_validate_json(res.stdout).results
    assert gemini.error_kind == "over_budget"
    assert gemini.error == "over daily budget: $0.000136 spent of $0.0001 today (UTC)"
    assert providers.gemini.request_count == 1  # the second test did not spend


def test_llm_test_all_includes_unkeyed_providers(providers: Providers, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    res = invoke("llm", "test", "--all", "--json")
    report = TestReport.model_validate_json(res.stdout)
    assert [r.provider for r in report.results] == ["gemini", "claude", "openai", "offline"]
    assert [r.ok for r in report.results] == [True, True, False, True]
    assert res.exit_code == 4  # the only failure is a missing key


# ---- set-strategy ----------------------------------------------------------------------------


def test_set_strategy_persists_and_prints_the_change(
    providers: Providers, isolated_home: Path
) -> None:
    res = invoke("llm", "set-strategy", "consensus", "--providers", "claude,gemini")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == [
        "strategy: consensus (was failover)",
        "providers: claude -> gemini (was gemini -> claude -> openai)",
    ]
    saved = json.loads((isolated_home / "llm_health" / "orchestration.json").read_text("utf-8"))
    assert (saved["strategy"], saved["providers"]) == ("consensus", ["claude", "gemini"])
    assert not list((isolated_home / "llm_health").glob("*.tmp*"))  # atomic: no leftovers
    # visible at once to another process
    other = run_cli("llm", "status", "--json")
    report = StatusReport.model_validate_json(other.stdout)
    assert (report.strategy, report.priority[:2], report.primary) == (
        "consensus",
        ["claude", "gemini"],
        "claude",
    )
    result = ExtractionResult.model_validate_json(invoke("llm", "extract", input=EMAIL).stdout)
    assert result.meta.strategy == "consensus"
    assert {a.provider for a in result.meta.attempts} == {"claude", "gemini"}
    assert providers.openai.request_count == 0


def test_set_strategy_alias_json_and_unchanged(providers: Providers) -> None:
    res = invoke("llm", "set-strategy", "best_match", "--json")
    assert res.exit_code == 0
    change = StrategyChange.model_validate_json(res.stdout)
    assert change.strategy == "best-match" and change.previous.strategy == "failover"
    assert change.providers == change.previous.providers == ["gemini", "claude", "openai"]
    res = invoke("llm", "set-strategy", "BEST-MATCH")
    assert res.stdout.splitlines()[0] == "strategy: best-match (unchanged)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["majority"],
            "unknown strategy 'majority'; choose one of: failover, consensus, best-match",
        ),
        (
            ["failover", "--providers", "claude,llama"],
            "unknown provider(s): llama; choose from: gemini, claude, openai, offline",
        ),
        (["failover", "--providers", ","], "needs at least one provider name"),
        (["failover", "--providers", "claude,claude"], "more than once"),
    ],
)
def test_set_strategy_rejects_unknown_names(
    args: list[str], message: str, isolated_home: Path
) -> None:
    res = invoke("llm", "set-strategy", *args)
    assert res.exit_code == 2 and res.stdout == ""
    assert message in res.stderr
    assert not (isolated_home / "llm_health" / "orchestration.json").exists()


def test_set_strategy_warns_about_a_provider_without_key() -> None:
    res = invoke("llm", "set-strategy", "failover", "--providers", "claude")
    assert res.exit_code == 0
    assert "warning: claude is not configured: set ANTHROPIC_API_KEY" in res.stderr
    res = invoke("llm", "extract", input=EMAIL)  # the order now names a provider with no key
    assert res.exit_code == 4
    assert "provider 'claude' is not configured: set ANTHROPIC_API_KEY" in res.stderr


# ---- reset -----------------------------------------------------------------------------------


def test_reset_closes_an_auth_opened_circuit(providers: Providers) -> None:
    providers.gemini.enqueue(Behaviour.status(401))
    assert invoke("llm", "extract", input=EMAIL).exit_code == 0  # claude took over
    assert status().providers["gemini"].health == "misconfigured"
    res = invoke("llm", "reset", "gemini")
    assert res.exit_code == 0
    assert res.stdout == "gemini: circuit closed, consecutive failures cleared (history kept)\n"
    row = status().providers["gemini"]
    assert (row.health, row.breaker, row.consecutive_failures) == ("healthy", "closed", 0)
    assert (row.calls, row.failures) == (1, 1)  # history kept
    res = invoke("llm", "reset", "--all")
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 4


def test_reset_needs_a_known_provider_or_all() -> None:
    res = invoke("llm", "reset")
    assert res.exit_code == 2 and "name a PROVIDER or pass --all" in res.stderr
    res = invoke("llm", "reset", "nope")
    assert res.exit_code == 2 and "choose from: gemini, claude, openai, offline" in res.stderr


# ---- dead letters ----------------------------------------------------------------------------


def test_dead_letters_list_and_replay(
    providers: Providers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert invoke("llm", "dead-letters").stdout == "no dead letters\n"
    assert invoke("llm", "dead-letters", "list", "--json").json() == []
    monkeypatch.setenv("COLLABIQ_OFFLINE_LAST_RESORT", "false")
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(503))
    assert invoke("llm", "extract", "--received-at", "2025-11-04", input=EMAIL).exit_code == 3

    table = invoke("llm", "dead-letters")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].rstrip() == "1 dead letter(s)"
    assert "stdin" in table.stdout and "server (HTTP 503)" in table.stdout
    listed = invoke("llm", "dead-letters", "list", "--json").json()
    (letter,) = [ListedLetter.model_validate(x) for x in listed]
    assert letter.received_at == dt.date(2025, 11, 4) and letter.attempts == 1
    assert letter.chars == len(EMAIL)

    # still failing: kept, attempts counted, exit 3
    res = invoke("llm", "dead-letters", "replay")
    assert res.exit_code == 3 and "replayed 0 of 1 with failover; 1 still kept" in res.stderr
    assert invoke("llm", "dead-letters", "list", "--json").json()[0]["attempts"] == 2

    # providers back: replayed, written, then removed
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.ok())
    out = tmp_path / "replayed.jsonl"
    res = invoke("llm", "dead-letters", "replay", "--output", str(out))
    assert res.exit_code == 0, res.stderr
    assert "replayed 1 of 1 with failover; 0 still kept" in res.stderr
    (line,) = out.read_text("utf-8").splitlines()
    result = ExtractionResult.model_validate_json(line)
    assert result.email_id == letter.email_id
    last = providers.gemini.last_request
    assert last is not None and last.received_date() == dt.date(2025, 11, 4)  # kept with it
    assert invoke("llm", "dead-letters", "list", "--json").json() == []
