"""Garbage, truncated JSON and a wrong schema version in each state file: work goes on.

The bad file is kept aside as ``<file>.corrupt-<timestamp>`` and one warning line
on stderr names it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import CallEvent, LedgerEntry, LedgerProviderCost, OrchestrationConfig
from collabiq_llm.state.json_store import JsonStateStore

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)
FILES = ("health.json", "costs.json", "orchestration.json")


def corruptions(valid: bytes) -> dict[str, bytes]:
    text = json.loads(valid)
    text["schema"] = 99
    return {
        "garbage": b"\x89PNG\r\n\x1a\n\x00\x00 not json",
        "truncated": valid[: len(valid) // 2],
        "wrong-schema": json.dumps(text).encode(),
    }


def populated(folder: Path) -> JsonStateStore:
    s = JsonStateStore(folder, BreakerSettings(), clock=lambda: T0)
    s.record_call(CallEvent(provider="claude", model="m", ok=True, at=T0, latency_ms=5.0))
    s.record_email(
        LedgerEntry(
            email_id="e1",
            at=T0,
            strategy="failover",
            providers=[LedgerProviderCost(provider="claude", model="m", cost_usd=0.25)],
            total_cost_usd=0.25,
        )
    )
    s.set_orchestration(OrchestrationConfig(strategy="consensus"))
    return s


def exercise(s: JsonStateStore) -> None:
    """Every operation a command performs."""
    s.snapshot()
    assert s.acquire("claude").allowed
    s.record_call(CallEvent(provider="claude", model="m", ok=True, at=T0, latency_ms=7.0))
    s.record_email(LedgerEntry(email_id="e2", at=T0, strategy="failover", total_cost_usd=0.5))
    s.get_orchestration()
    s.set_orchestration(OrchestrationConfig(providers=["claude"]))
    s.reset("claude")


@pytest.mark.parametrize("kind", ["garbage", "truncated", "wrong-schema"])
@pytest.mark.parametrize("name", FILES)
def test_corrupt_file_is_kept_aside_and_work_continues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, kind: str
) -> None:
    folder = tmp_path / "llm_health"
    populated(folder)
    target = folder / name
    bad = corruptions(target.read_bytes())[kind]
    target.write_bytes(bad)
    capsys.readouterr()

    s = JsonStateStore(folder, BreakerSettings(), clock=lambda: T0)
    exercise(s)

    kept = list(folder.glob(f"{name}.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == bad
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert str(target) in err[0] and str(kept[0]) in err[0]
    for other in FILES:  # every file is valid again, and the healthy ones kept their data
        assert json.loads((folder / other).read_text())["schema"] == 1
    snap = s.snapshot()
    assert snap.providers["claude"].calls == (1 if name == "health.json" else 2)
    assert snap.emails == (1 if name == "costs.json" else 2)
    assert snap.orchestration.strategy == (None if name == "orchestration.json" else "consensus")
    assert [e.email_id for e in s.read_ledger()] == ["e1", "e2"]  # the ledger is untouched


def test_unreadable_lines_in_the_ledger_are_skipped_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "llm_health"
    s = populated(folder)
    with (folder / "ledger.jsonl").open("ab") as fh:
        fh.write(b'garbage\n{"schema": 7}\n{"schema":1,"email_id":"torn')  # no newline: torn
    s.record_email(LedgerEntry(email_id="e2", at=T0, strategy="failover"))
    capsys.readouterr()
    assert [e.email_id for e in s.read_ledger()] == ["e1", "e2"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "ledger.jsonl" in err[0] and "3 unreadable line(s)" in err[0]


def test_the_command_in_a_fresh_process_warns_once_and_succeeds(tmp_path: Path) -> None:
    folder = tmp_path / "llm_health"
    populated(folder)
    for name, kind in zip(FILES, ("garbage", "truncated", "wrong-schema"), strict=True):
        path = folder / name
        path.write_bytes(corruptions(path.read_bytes())[kind])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.state_worker", "status", f"--dir={folder}"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    snapshot = json.loads(proc.stdout)
    assert snapshot["providers"] == {} and snapshot["emails"] == 0
    warnings = proc.stderr.splitlines()
    assert len(warnings) == 3
    for name, line in zip(FILES, warnings, strict=True):
        assert line.startswith(f"collabiq: warning: state file {folder / name} is unusable")
        assert f"{name}.corrupt-" in line
