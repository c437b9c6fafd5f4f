"""Batch progress, ``--skip``, the end summary, and the words of a degraded warning."""

from __future__ import annotations

import json
from pathlib import Path

from collabiq_llm.batch import BatchSummary
from collabiq_llm.cli.progress import (
    batch_summary,
    count_lines,
    degraded_reasons,
    duration,
    skip_lines,
)
from collabiq_llm.entities import Attempt
from tests.cli.conftest import (
    ANSI,
    cli_command,
    invoke,
    run_on_terminal,
    write_jsonl,
)

EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"


def _rows(n: int) -> list[dict[str, str]]:
    return [{"email_id": f"mail-{i:03d}", "text": f"{EMAIL} (#{i})"} for i in range(n)]


def test_skip_lines_blanks_the_first_non_blank_lines_and_keeps_numbering() -> None:
    lines = [b"a\n", b"\n", b"  \n", b"b\n", b"c\n", b"d"]
    out = list(skip_lines(lines, 2))
    assert len(out) == len(lines)  # line numbers downstream stay the physical ones
    assert [x for x in out if x.strip()] == [b"c\n", b"d"]
    assert list(skip_lines(lines, 0)) == lines
    assert [x for x in skip_lines(lines, 99) if x.strip()] == []


def test_count_lines_knows_files_not_stdin(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [*_rows(3), ""])
    b = write_jsonl(tmp_path / "b.jsonl", _rows(2))
    assert count_lines([str(a), str(b)]) == 5
    assert count_lines([str(a), "-"]) is None


def test_summary_line_has_counts_time_and_cost() -> None:
    s = BatchSummary(lines=10, ok=8, bad_lines=1, dead_lettered=1, degraded=2)
    line = batch_summary(s, elapsed_s=125.0, cost_usd=0.00123, skipped=4)
    assert line == (
        "10 lines (after skipping 4): 8 extracted (2 degraded), 1 bad, "
        "1 kept in dead letters; 2 min 05 s, cost $0.00123"
    )
    assert batch_summary(s, elapsed_s=1.0, cost_usd=None, skipped=0).endswith("cost unknown")
    assert duration(3725) == "1 h 02 min"


def test_degraded_reasons_name_each_provider_and_why() -> None:
    attempts = [
        Attempt(
            provider="gemini",
            model="g",
            outcome="skipped",
            error="over daily budget: $0.0012 spent of $0.001 today (UTC)",
        ),
        Attempt(provider="claude", model="c", outcome="error", error_kind="server", error="503"),
        Attempt(provider="openai", model="o", outcome="success"),
        Attempt(provider="offline", model="x", outcome="success"),
    ]
    assert degraded_reasons(attempts) == (
        "gemini skipped: over daily budget: $0.0012 spent of $0.001 today (UTC); claude server: 503"
    )


def test_skip_resumes_a_batch_with_true_line_numbers(tmp_path: Path) -> None:
    rows: list = [*_rows(2), "not json", *_rows(3)[1:]]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    res = invoke("llm", "extract", "--jsonl", str(path), "--skip", "2")
    assert res.exit_code == 2, res.stderr  # the bad line is still in the part that ran
    records = res.json_lines()
    assert len(records) == 3
    assert records[0] == {
        "line": 3,
        "error": "not valid JSON (Expecting value at column 1)",
        "error_kind": "bad_input",
    }
    assert [r["email_id"] for r in records[1:]] == ["mail-001", "mail-002"]
    assert "3 lines (after skipping 2): 2 extracted, 1 bad, 0 kept in dead letters; " in res.stderr
    assert "cost $0.00" in res.stderr
    assert invoke("llm", "extract", "--skip", "1").exit_code == 2  # only with --jsonl


def test_progress_bar_shows_total_percent_and_eta_on_a_terminal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", list(_rows(4)))
    proc, seen = run_on_terminal(
        [*cli_command(), "llm", "extract", "--jsonl", str(path)],
        {"TERM": "xterm-256color", "COLUMNS": "100"},
    )
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert [json.loads(x)["email_id"] for x in out.splitlines()] == [
        f"mail-{i:03d}" for i in range(4)
    ]
    text = ANSI.sub("", seen.decode("utf-8", "replace"))
    assert "/4" in text and "%" in text and "eta" in text  # a real bar, with its total
    summary = text.strip().splitlines()[-1]
    assert summary.startswith("4 lines: 4 extracted") and "cost" in summary  # after the bar


def test_no_bar_when_results_go_to_the_same_terminal(tmp_path: Path) -> None:
    """stdout and stderr both the terminal, no --output: the bar would mix into the JSON."""
    path = write_jsonl(tmp_path / "in.jsonl", list(_rows(2)))
    proc, seen = run_on_terminal(
        [*cli_command(), "llm", "extract", "--jsonl", str(path)],
        {"TERM": "xterm-256color"},
        stdout=True,
    )
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    assert not ANSI.search(text)  # no live display at all
    lines = [x for x in text.replace("\r", "").splitlines() if x.strip()]
    assert [json.loads(x)["email_id"] for x in lines[:2]] == ["mail-000", "mail-001"]


def test_llm_test_shows_each_provider_while_it_waits(providers) -> None:
    """On a terminal: a line per provider until it answers; gone before the table."""
    from tests.emulators import Behaviour

    providers.claude.set_default(Behaviour.ok(latency_s=1.0))
    proc, seen = run_on_terminal(
        [*cli_command(), "llm", "test", "--timeout", "20"],
        {"TERM": "xterm-256color", **providers.env},
    )
    assert proc.returncode == 0, seen
    text = ANSI.sub("", seen.decode("utf-8", "replace"))
    assert "claude: calling…" in text  # claude answers last: it was shown waiting
    out = proc.stdout.decode()
    assert "Provider check" in out and "calling" not in out
