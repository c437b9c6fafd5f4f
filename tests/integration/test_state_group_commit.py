"""Group commit of the JSON store: batching, write-through of breaker changes, and the spool.

Events are queued and written together; what changes a breaker is written at once;
an event that cannot be written in time is kept, spooled at exit and applied
exactly once by the next process — never dropped (issue 11, item 5).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from filelock import FileLock

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import CallEvent, LedgerEntry, LedgerProviderCost
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.state.jsonfile import JsonFile

T0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)


def call(ok: bool = True, **kw: object) -> CallEvent:
    fields: dict[str, object] = {"provider": "claude", "model": "m", "ok": ok, "at": T0}
    fields |= {"latency_ms": 5.0, "input_tokens": 10, "cost_usd": 0.25}
    if not ok:
        fields |= {"error_kind": "server", "error_message": "503", "cost_usd": 0.0}
    return CallEvent.model_validate(fields | kw)


def email(i: int) -> LedgerEntry:
    part = LedgerProviderCost(provider="claude", model="m", input_tokens=10, cost_usd=0.25)
    return LedgerEntry(
        email_id=f"e{i}", at=T0, strategy="failover", providers=[part], total_cost_usd=0.25
    )


def store(folder: Path, **kw: object) -> JsonStateStore:
    return JsonStateStore(folder, BreakerSettings(), clock=lambda: T0, **kw)  # type: ignore[arg-type]


def on_disk(folder: Path) -> JsonStateStore:
    """A fresh store: sees only what is in the files (and the spool), never another's queue."""
    return store(folder)


def test_counters_are_batched_and_visible_at_once_to_their_own_process(tmp_path: Path) -> None:
    s = store(tmp_path, commit_interval_s=3600, commit_max_events=1000)
    for i in range(5):
        s.record_call(call())
        s.record_email(email(i))
    own = s.snapshot()
    assert own.providers["claude"].calls == 5 and own.emails == 5
    assert own.pending_events == 10
    assert not (tmp_path / "health.json").exists()  # nothing written yet: one write later
    assert s.flush()
    other = on_disk(tmp_path).snapshot()
    assert other.providers["claude"].successes == 5 and other.emails == 5
    assert other.total_cost_usd == 1.25 and other.pending_events == 0
    assert len(on_disk(tmp_path).read_ledger()) == 5


def test_a_failure_is_written_through_with_everything_queued_before_it(tmp_path: Path) -> None:
    """Breaker decisions of other processes must see failures at once."""
    s = store(tmp_path, commit_interval_s=3600, commit_max_events=1000)
    s.record_call(call())
    s.record_call(call(ok=False))
    # the committer is woken at once, not after the (hour-long) interval
    assert s.wait_committed(timeout=30)
    other = on_disk(tmp_path).snapshot().providers["claude"]
    assert (other.calls, other.successes, other.consecutive_failures) == (2, 1, 1)
    s.record_call(call())  # a success after a failure resets the count: also written through
    assert s.wait_committed(timeout=30)
    assert on_disk(tmp_path).snapshot().providers["claude"].consecutive_failures == 0


def test_max_events_triggers_a_commit(tmp_path: Path) -> None:
    s = store(tmp_path, commit_interval_s=3600, commit_max_events=3)
    s.record_call(call())
    s.record_call(call())
    assert not (tmp_path / "health.json").exists()
    s.record_call(call())
    assert s.wait_committed(timeout=30)
    assert on_disk(tmp_path).snapshot().providers["claude"].calls == 3


def test_locked_out_events_are_spooled_at_exit_and_applied_exactly_once(tmp_path: Path) -> None:
    s = store(tmp_path, lock_timeout_s=0.05)
    tmp_path.mkdir(exist_ok=True)
    with FileLock(str(tmp_path / "health.json.lock")), FileLock(str(tmp_path / "costs.json.lock")):
        for i in range(3):
            s.record_call(call())
            s.record_email(email(i))
        assert s.snapshot().pending_events == 6
        s.close()  # the process exits while the locks are still held
    (spooled,) = (tmp_path / "pending").glob("*.json")
    keep = tmp_path / "spool-copy.json"
    shutil.copy(spooled, keep)

    # a reader sees the spooled events in the counts, and how many are pending
    seen = on_disk(tmp_path).snapshot()
    assert seen.providers["claude"].calls == 3 and seen.emails == 3
    assert seen.pending_events == 6
    assert JsonFile(tmp_path / "health.json", dict).signature() is None  # not in the files yet

    nxt = store(tmp_path)
    assert nxt.flush()  # the next process to commit applies the spool
    assert not list((tmp_path / "pending").glob("*.json"))
    # a crash after applying but before deleting: the same batch again changes nothing
    shutil.copy(keep, tmp_path / "pending" / spooled.name)
    assert store(tmp_path).flush()
    final = on_disk(tmp_path).snapshot()
    assert final.providers["claude"].calls == 3 and final.emails == 3
    assert final.total_cost_usd == 0.75 and final.pending_events == 0
    assert [e.email_id for e in on_disk(tmp_path).read_ledger()] == ["e0", "e1", "e2"]


def test_a_timer_commits_an_idle_queue(tmp_path: Path) -> None:
    s = store(tmp_path, commit_interval_s=0.05)
    s.record_call(call())  # breaker-neutral: waits for the interval, with no further event
    assert s.wait_committed(timeout=30)
    assert on_disk(tmp_path).snapshot().providers["claude"].calls == 1
