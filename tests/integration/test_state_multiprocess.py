"""Many real OS processes on one state folder: exact counts, and SIGKILL mid-write loses nothing.

Workers are ``python -m tests.support.state_worker`` subprocesses (separate
interpreters, like cron's one-process-per-email), started together behind a
ready/go file barrier.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collabiq_llm.state.json_store import HealthDoc
from collabiq_llm.state.jsonfile import JsonFile
from tests.support import state_worker

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WORKERS = 8
EVENTS = 200
EMAILS = 20
STATE_FILES = ("health.json", "costs.json")


def spawn(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.state_worker", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("workers did not get ready in time")
        time.sleep(0.01)


def load(path: Path) -> dict:  # type: ignore[type-arg]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == 1
    return data


def test_eight_processes_count_exactly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        spawn(
            "events",
            f"--dir={state}",
            f"--worker={w}",
            f"--events={EVENTS}",
            f"--emails={EMAILS}",
            f"--ready={barrier / f'ready-{w}'}",
            f"--go={barrier / 'go'}",
        )
        for w in range(WORKERS)
    ]
    wait_until(lambda: len(list(barrier.glob("ready-*"))) == WORKERS)
    (barrier / "go").touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"warning" not in err, err.decode()  # no reader ever saw a torn file

    expected: dict[str, dict[str, float]] = {}
    for w in range(WORKERS):
        for j in range(EVENTS):
            ev = state_worker.event_for(w, j)
            e = expected.setdefault(
                ev.provider, {"calls": 0, "ok": 0, "fail": 0, "in": 0, "out": 0, "cost": 0.0}
            )
            e["calls"] += 1
            e["ok" if ev.ok else "fail"] += 1
            e["in"] += ev.input_tokens
            e["out"] += ev.output_tokens
            e["cost"] += ev.cost_usd or 0.0

    health = load(state / "health.json")["providers"]
    assert sum(p["health"]["calls"] for p in health.values()) == WORKERS * EVENTS
    for name, e in expected.items():
        rec = health[name]
        assert rec["health"]["calls"] == e["calls"]
        assert rec["health"]["successes"] == e["ok"]
        assert rec["health"]["failures"] == e["fail"]
        assert rec["health"]["failures_by_kind"] == {"server": e["fail"]}
        assert rec["usage"]["input_tokens"] == e["in"]
        assert rec["usage"]["output_tokens"] == e["out"]
        assert rec["usage"]["cost_usd"] == pytest.approx(e["cost"], rel=1e-9)

    costs = load(state / "costs.json")
    assert costs["emails"] == WORKERS * EMAILS
    assert costs["total_cost_usd"] == pytest.approx(0.5 * WORKERS * EMAILS)
    assert sum(s["emails"] for s in costs["by_strategy"].values()) == WORKERS * EMAILS
    lines = (state / "ledger.jsonl").read_text().splitlines()
    assert len(lines) == WORKERS * EMAILS
    assert len({json.loads(line)["email_id"] for line in lines}) == WORKERS * EMAILS
    assert not list(state.glob("*.corrupt-*"))
    assert not list(state.glob(".*.tmp"))


def _acks(ack_files: list[Path]) -> tuple[int, int]:
    data = b"".join(p.read_bytes() for p in ack_files if p.exists())
    return data.count(b"c"), data.count(b"e")


def test_sigkill_mid_write_keeps_old_or_new_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    rng = random.Random(7)
    ack_files: list[Path] = []
    rounds, per_round = 5, 3
    previous_calls = 0
    interrupted_writes = 0
    for r in range(rounds):
        acks = [tmp_path / f"ack-{r}-{i}" for i in range(per_round)]
        ack_files += acks
        procs = [spawn("forever", f"--dir={state}", f"--ack={a}", "--slow") for a in acks]
        wait_until(lambda acks=acks: all(a.exists() and a.stat().st_size >= 3 for a in acks))
        time.sleep(rng.uniform(0.0, 0.05))
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
        for proc in procs:
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == -signal.SIGKILL, err.decode()
        # A temp file left behind is a write that the kill interrupted before its os.replace.
        interrupted_writes += len(list(state.glob(".*.tmp")))

        # Every state file parses with the right schema, and validates as a whole document.
        for name in STATE_FILES:
            load(state / name)
        doc = JsonFile(state / "health.json", HealthDoc).read()
        assert not list(state.glob("*.corrupt-*")), "a state file was torn"

        rec = doc.providers["claude"]
        calls = rec.health.calls
        acked_calls, acked_emails = _acks(ack_files)
        killed = per_round * (r + 1)
        # Committed calls are all there; at most one per killed process was committed unacked.
        assert acked_calls <= calls <= acked_calls + killed
        assert calls >= previous_calls
        previous_calls = calls
        # Each stored state is one whole event application: counters agree with each other.
        assert rec.health.successes == calls
        in_tok, out_tok = state_worker.FOREVER_TOKENS
        assert rec.usage.input_tokens == calls * in_tok
        assert rec.usage.output_tokens == calls * out_tok

        costs = load(state / "costs.json")
        ledger = [json.loads(x) for x in (state / "ledger.jsonl").read_text().splitlines() if x]
        assert acked_emails <= costs["emails"] <= len(ledger) <= acked_emails + killed

    assert interrupted_writes > 0, "no kill landed mid-write; the test proved nothing"

    # Nothing is wedged: the locks died with their holders, and leftover temp files are swept.
    from collabiq_llm.settings import BreakerSettings
    from collabiq_llm.state.api import CallEvent
    from collabiq_llm.state.json_store import JsonStateStore

    store = JsonStateStore(state, BreakerSettings(), lock_timeout_s=2)
    store.record_call(
        CallEvent(provider="claude", model="m", ok=True, at=state_worker.AT, latency_ms=1.0)
    )
    assert store.snapshot().providers["claude"].calls == previous_calls + 1
    assert not list(state.glob(".health.json.*.tmp"))
