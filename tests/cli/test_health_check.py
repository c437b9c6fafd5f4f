"""Health an operator can act on: budget, check exit codes, metrics, money, 80 columns."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from collabiq_llm.cli.status_cmd import _provider_table
from collabiq_llm.health_view import label, provider_health, until_text
from collabiq_llm.metrics import histogram_buckets
from collabiq_llm.state.api import CallEvent
from collabiq_llm.state.costs import money, summarise_ledger
from collabiq_llm.status import StatusReport
from tests.cli.conftest import Providers, invoke
from tests.emulators import Behaviour

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"
GEMINI_CALL = (120 * 0.30 + 40 * 2.50) / 1e6  # $0.000136
CLAUDE_CALL = (120 * 3.00 + 40 * 15.00) / 1e6
NOW = dt.datetime(2026, 11, 30, 22, 15, 0, tzinfo=dt.UTC)


def status() -> StatusReport:
    res = invoke("llm", "status", "--json")
    assert res.exit_code == 0, res.stderr
    return StatusReport.model_validate_json(res.stdout)


def _next_midnight() -> dt.datetime:
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)


# ---- the pure function -----------------------------------------------------------------------


def test_health_states_in_order_of_urgency() -> None:
    def h(**kw):
        base = {"now": NOW, "configured": True, "calls": 3}
        return provider_health(**{**base, **kw})

    assert h().state == "healthy"
    assert h(calls=0).state == "untested"
    assert h(consecutive_failures=2).state == "degraded"
    assert h(configured=False, in_use=False).state == "not_configured"
    missing = h(configured=False, in_use=True, missing_key_hint="set OPENAI_API_KEY")
    assert (missing.state, missing.reason) == ("misconfigured", "no API key: set OPENAI_API_KEY")
    retry = NOW + dt.timedelta(seconds=42)
    opened = h(
        breaker="open", breaker_reason="5 consecutive failures, last: server", next_try_at=retry
    )
    assert (opened.state, opened.until, opened.can_take_calls) == ("open", retry, False)
    limited = h(
        breaker="open", breaker_reason="5 consecutive failures, last: rate_limit", next_try_at=retry
    )
    assert limited.state == "rate_limited" and limited.until == retry
    asked = h(not_before=retry)
    assert (asked.state, asked.until) == ("rate_limited", retry)
    assert h(not_before=NOW - dt.timedelta(seconds=1)).state == "healthy"  # in the past
    half = h(breaker="half_open")
    assert half.state == "half_open" and half.can_take_calls
    auth = h(
        breaker="open",
        breaker_reason="authentication/permission error: fix the API key",
        failures_by_kind={"auth": 1},
        next_try_at=retry,
    )
    assert auth.state == "misconfigured"
    # a spent budget wins over an open breaker: it lasts until the reset, whatever the probes
    daily = h(spent_today=0.0012, budget_daily=0.001, breaker="open", next_try_at=retry)
    assert daily.state == "over_budget" and not daily.can_take_calls
    assert daily.until == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert daily.reason == "daily budget spent: $0.0012 of $0.001"
    monthly = h(spent_today=1, spent_month=50, budget_daily=1, budget_monthly=50)
    assert monthly.until == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert monthly.reason == "monthly budget spent: $50.00 of $50.00"
    early = dt.datetime(2026, 11, 3, 1, 0, tzinfo=dt.UTC)
    later = provider_health(now=early, configured=True, spent_month=9, budget_monthly=5)
    assert label(later, until_text(later.until, early)) == "over-budget (until Dec 01 00:00 UTC)"
    assert label(daily, until_text(daily.until, NOW)) == "over-budget (until 00:00 UTC)"
    assert label(opened, until_text(opened.until, NOW)) == "open (retry at 22:15:42 UTC)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.001, "$0.001"),
        (0.0283, "$0.0283"),
        (5, "$5.00"),
        (0.000136, "$0.000136"),
        (1234.5678, "$1,234.57"),
        (0, "$0.00"),
        (None, "unknown"),
    ],
)
def test_money_never_rounds_a_small_budget_to_zero(value, text) -> None:
    assert money(value) == text


# ---- budget spent: the whole console agrees ------------------------------------------------


def test_spent_budget_shows_in_status_check_and_the_degraded_warning(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABIQ_PROVIDERS__GEMINI__BUDGET_DAILY_USD", "0.0001")
    assert invoke("llm", "status", "--check").exit_code == 0
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0  # gemini spends $0.000136

    gemini = status().providers["gemini"]
    assert gemini.health == "over_budget" and not gemini.can_take_calls
    assert gemini.health_until == _next_midnight()
    assert gemini.health_reason == "daily budget spent: $0.000136 of $0.0001"
    assert gemini.breaker == "closed"  # nothing wrong with the provider itself
    assert gemini.spent_today_usd == pytest.approx(GEMINI_CALL)
    assert gemini.budget_daily_usd == 0.0001 and gemini.budget_remaining_usd == 0.0

    check = invoke("llm", "status", "--check")
    assert check.exit_code == 3 and check.stdout == ""
    assert check.stderr.splitlines() == [
        "check failed: gemini: over-budget (until 00:00 UTC): "
        "daily budget spent: $0.000136 of $0.0001"
    ]
    table = invoke("llm", "status").stdout
    assert re.search(r"gemini \*\s+over-budget \(until 00:00 UTC\)", table)
    assert "gemini: over-budget (until 00:00 UTC): daily budget spent" in table

    # only gemini in the order: the offline extractor answers, and the warning says why
    assert invoke("llm", "set-strategy", "failover", "--providers", "gemini").exit_code == 0
    res = invoke("llm", "extract", "-", input=EMAIL)
    assert res.exit_code == 0
    assert "degraded result (answered by the offline extractor): gemini skipped: " in res.stderr
    assert "over daily budget: $0.000136 spent of $0.0001 today (UTC)" in res.stderr
    assert providers.gemini.request_count == 1  # skipped, not called


def test_check_names_every_provider_that_cannot_take_calls(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABIQ_FAILOVER__MAX_ROUNDS", "1")
    providers.gemini.set_default(Behaviour.status(503))
    providers.openai.set_default(Behaviour.status(401, message="Incorrect API key"))
    for _ in range(5):  # gemini opens after 5 consecutive failures
        assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    assert invoke("llm", "test", "openai").exit_code == 3  # 401 -> misconfigured
    res = invoke("llm", "status", "--check")
    assert res.exit_code == 3
    failed = res.stderr.splitlines()
    assert len(failed) == 2
    assert failed[0].startswith("check failed: gemini: open (retry at ")
    assert "5 consecutive failures, last: server" in failed[0]
    assert failed[1].startswith("check failed: openai: misconfigured (retry at ")
    # --json still prints the report, and the exit code still tells
    both = invoke("llm", "status", "--check", "--json")
    assert both.exit_code == 3 and both.json()["providers"]["gemini"]["health"] == "open"
    assert invoke("llm", "reset", "--all").exit_code == 0
    ok = invoke("llm", "status", "--check")
    assert ok.exit_code == 0 and ok.stderr.startswith("check passed: gemini, claude, openai")


# ---- 80 columns ------------------------------------------------------------------------------


def _render(report: StatusReport, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    console.print(_provider_table(report, width=width, detailed=False))
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 200])
def test_status_table_fits_and_keeps_what_matters(
    providers: Providers, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("COLLABIQ_FAILOVER__MAX_ROUNDS", "1")
    providers.gemini.set_default(Behaviour.status(503, message="The model is overloaded " * 4))
    for _ in range(5):
        assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    text = _render(status(), width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    header = lines[1].split()
    assert header[:2] == ["provider", "health"] and header[-2:] == ["last", "error"]
    gemini = next(line for line in lines if line.startswith("gemini"))
    assert re.match(r"gemini \*\s+open \(retry at \d\d:\d\d:\d\d UTC\)", gemini)  # never cut
    assert "server (HTTP 503)" in gemini  # the error is cut last, not dropped
    if width == 80:
        assert "avg" not in header and "…" in gemini
    else:
        assert {"success", "avg", "p95", "calls", "ok", "fail"} <= set(header)
        assert "…" not in gemini or len(gemini) > 150


def test_status_and_dead_letters_in_a_real_80_column_terminal(
    providers: Providers, tmp_path, isolated_home
) -> None:
    """tmux, 80 × 40: the primary marker, the health with its time and the error survive;
    dead letters keep their full id and errors."""
    import shutil
    import subprocess
    import time

    from tests.cli.conftest import cli_command, subprocess_env

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    store = Orchestrator().store  # five failures through the real store open gemini's circuit
    for _ in range(5):
        store.record_call(
            CallEvent(
                provider="gemini",
                model="gemini-2.5-flash",
                ok=False,
                at=dt.datetime.now(dt.UTC),
                error_kind="server",
                error_message="gemini: server (HTTP 503): The model is overloaded",
            )
        )
    env = subprocess_env()
    from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox

    box = DeadLetterBox(isolated_home / "dead_letters")
    box.put(
        DeadLetter(
            email_id="em_0123456789abcdef0123",
            text=EMAIL,
            source="line 7",
            errors={"gemini": "gemini: server (HTTP 503): The model is overloaded"},
        )
    )
    ((letter_id, _),) = box.entries()
    session = f"collabiq-test-{tmp_path.name[-20:]}".replace(".", "-")
    tmux = ["tmux", "-L", session]  # a private server: nothing shared with anyone's tmux
    done = tmp_path / "done"
    cli = " ".join(cli_command())
    command = f"{cli} llm status; {cli} llm dead-letters; touch {done}"
    exports = " ".join(
        f"{k}='{v}'"
        for k, v in env.items()
        if k.startswith(("COLLABIQ", "PYTHON", "GEMINI", "ANTHROPIC", "OPENAI", "GOOGLE"))
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", session, "-x", "80", "-y", "40"],
        check=True,
        env={**env, "TERM": "xterm"},
    )
    try:
        subprocess.run(
            [*tmux, "send-keys", "-t", session, f"clear; env {exports} {command}", "Enter"],
            check=True,
        )
        for _ in range(600):  # wait for the command, not for a wall-clock duration
            if done.exists():
                break
            time.sleep(0.05)
        pane = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", session],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
    assert done.exists(), pane
    row = next(line for line in pane.splitlines() if line.startswith("gemini"))
    assert re.match(r"gemini \*\s+open \(retry at \d\d:\d\d:\d\d UTC\)", row), pane
    assert "server (HTTP 503" in row
    letter = next(line for line in pane.splitlines() if line.startswith("em_"))
    assert letter.startswith(letter_id + " ") and "gemini: server (HTTP" in letter
    assert all(len(line) <= 80 for line in pane.splitlines())


# ---- metrics ---------------------------------------------------------------------------------


def test_metrics_parse_with_prometheus_parser(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABIQ_PROVIDERS__CLAUDE__BUDGET_MONTHLY_USD", "0.01")
    providers.gemini.enqueue(Behaviour.status(503))
    for _ in range(2):
        assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0
    res = invoke("llm", "metrics")
    assert res.exit_code == 0 and res.stderr == ""
    families = {f.name: f for f in text_string_to_metric_families(res.stdout)}

    def value(family: str, sample: str, **labels: str) -> float:
        for s in families[family].samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        raise AssertionError(f"no {sample} {labels}")

    p = "collabiq_llm_provider"
    assert families[f"{p}_calls"].type == "counter"
    assert value(f"{p}_calls", f"{p}_calls_total", provider="gemini") == 2
    assert value(f"{p}_failures", f"{p}_failures_total", provider="gemini", kind="server") == 1
    assert value(f"{p}_breaker_state", f"{p}_breaker_state", provider="gemini", state="closed") == 1
    assert value(f"{p}_health", f"{p}_health", provider="openai", state="untested") == 1
    assert value(f"{p}_can_take_calls", f"{p}_can_take_calls", provider="claude") == 1
    assert families[f"{p}_latency_seconds"].type == "histogram"
    assert value(f"{p}_latency_seconds", f"{p}_latency_seconds_count", provider="gemini") == 1
    inf = value(f"{p}_latency_seconds", f"{p}_latency_seconds_bucket", provider="claude", le="+Inf")
    assert inf == 1
    assert value(f"{p}_tokens", f"{p}_tokens_total", provider="claude", direction="input") == 120
    assert value(f"{p}_cost_usd", f"{p}_cost_usd_total", provider="claude") == pytest.approx(
        CLAUDE_CALL
    )
    left = value(f"{p}_budget_remaining_usd", f"{p}_budget_remaining_usd", provider="claude")
    assert left == pytest.approx(0.01 - CLAUDE_CALL)
    assert value("collabiq_llm_emails", "collabiq_llm_emails_total") == 2


def test_metrics_output_file_is_written_whole(tmp_path) -> None:
    folder = tmp_path / "textfile"
    folder.mkdir()
    target = folder / "collabiq.prom"
    assert invoke("llm", "metrics", "--output", str(target)).exit_code == 0
    names = {f.name for f in text_string_to_metric_families(target.read_text())}
    assert "collabiq_llm_provider_calls" in names
    assert [p.name for p in folder.iterdir()] == ["collabiq.prom"]  # no temp file left


def test_histogram_buckets_are_cumulative() -> None:
    buckets, total = histogram_buckets([50.0, 300.0, 300.0, 7000.0])
    counts = dict(buckets)
    assert counts["0.1"] == 1 and counts["0.5"] == 3 and counts["5"] == 3 and counts["10"] == 4
    assert counts["+Inf"] == 4 and total == pytest.approx(7.65)


# ---- money: reconciled -----------------------------------------------------------------------


def test_money_reconciles_emails_and_test_calls(providers: Providers) -> None:
    assert invoke("llm", "extract", "-", input=EMAIL).exit_code == 0  # gemini, one email
    assert invoke("llm", "test", "claude").exit_code == 0  # a probe: money, but no email
    t = status().totals
    assert t.cost_usd == pytest.approx(GEMINI_CALL)  # emails
    assert t.lifetime_usd == pytest.approx(GEMINI_CALL + CLAUDE_CALL)  # every call
    assert t.outside_emails_usd == pytest.approx(CLAUDE_CALL)
    assert t.today_usd == pytest.approx(t.lifetime_usd) == pytest.approx(t.month_usd)
    detailed = invoke("llm", "status", "--detailed").stdout
    assert (
        f"lifetime {money(GEMINI_CALL + CLAUDE_CALL)} = emails {money(GEMINI_CALL)} "
        f"+ outside emails (llm test, unbilled calls) {money(CLAUDE_CALL)}"
    ) in detailed

    costs = invoke("llm", "costs", "--by", "provider", "--json").json()
    assert [r["key"] for r in costs["rows"]] == ["gemini"]
    assert costs["total"]["emails"] == 1
    assert costs["total"]["cost_usd"] == pytest.approx(GEMINI_CALL)
    assert costs["lifetime"]["outside_emails_usd"] == pytest.approx(CLAUDE_CALL)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    by_day = invoke("llm", "costs", "--json").json()
    assert [r["key"] for r in by_day["rows"]] == [today]
    table = invoke("llm", "costs", "--by", "strategy").stdout
    assert "failover" in table and money(GEMINI_CALL) in table
    later = invoke("llm", "costs", "--since", "2999-01-01")
    assert later.exit_code == 0 and "no emails in the ledger since 2999-01-01" in later.stdout
    assert invoke("llm", "costs", "--by", "week").exit_code == 2
    assert invoke("llm", "costs", "--since", "yesterday").exit_code == 2


def test_summarise_ledger_groups_and_filters() -> None:
    from collabiq_llm.state.api import LedgerEntry, LedgerProviderCost

    def entry(day: int, strategy: str, *parts: tuple[str, float | None]) -> LedgerEntry:
        provs = [
            LedgerProviderCost(provider=n, model="m", input_tokens=10, cost_usd=c) for n, c in parts
        ]
        known = [c for _, c in parts]
        total = None if None in known else sum(c for c in known if c is not None)
        return LedgerEntry(
            email_id=f"e{day}",
            at=dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC),
            strategy=strategy,
            providers=provs,
            total_cost_usd=total,
        )

    entries = [
        entry(1, "failover", ("gemini", 0.001)),
        entry(2, "consensus", ("gemini", 0.002), ("claude", 0.01)),
        entry(2, "failover", ("openai", None)),
    ]
    rows, total = summarise_ledger(entries, "provider")
    assert {r.key: (r.emails, r.cost_usd, r.unpriced) for r in rows} == {
        "claude": (1, 0.01, 0),
        "gemini": (2, 0.003, 0),
        "openai": (1, 0.0, 1),
    }
    assert (total.emails, total.cost_usd, total.unpriced) == (3, 0.013, 1)
    rows, _ = summarise_ledger(entries, "day", dt.date(2026, 11, 2))
    assert [(r.key, r.emails, r.calls) for r in rows] == [("2026-11-02", 2, 3)]
    rows, _ = summarise_ledger(entries, "strategy")
    assert [r.key for r in rows] == ["consensus", "failover"]
    with pytest.raises(ValueError, match="unknown grouping"):
        summarise_ledger(entries, "week")


def test_status_snapshot_carries_today_and_month_spend(isolated_home) -> None:
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    store = Orchestrator().store
    now = dt.datetime.now(dt.UTC)
    for at, cost in ((now, 0.002), (now - dt.timedelta(days=40), 0.5)):
        store.record_call(
            CallEvent(provider="gemini", model="m", ok=True, at=at, input_tokens=1, cost_usd=cost)
        )
    snap = store.snapshot().providers["gemini"]
    assert snap.spent_today_usd == pytest.approx(0.002)
    assert snap.spent_month_usd == pytest.approx(0.002)
    assert snap.cost_usd == pytest.approx(0.502)
