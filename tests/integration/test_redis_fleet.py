"""Fleet mode end to end: separate OS processes ("hosts", each with its own COLLABIQ_HOME)
sharing one real redis-server.

* three hosts: a breaker opened by host A's failures is respected by B and C, and
  only one half-open probe is ever in flight across the three;
* 8 processes × 200 events: every count exact;
* Redis SIGKILLed in the middle of a real ``collabiq llm extract --jsonl`` batch:
  every email extracted, one warning, and after the restart the spooled events
  arrive (totals equal the calls made);
* ``state migrate`` moves a JSON folder into Redis with equal totals, once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state import redis_scripts as rs
from collabiq_llm.state.api import CallEvent, LedgerEntry, LedgerProviderCost
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.state.redis_store import RedisStateStore
from tests.support import state_worker
from tests.support.redis_server import RedisServer, require_redis_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    with RedisServer(tmp_path_factory.mktemp("redis")) as srv:
        yield srv


def env_for(home: Path, url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(COLLABIQ_HOME=str(home), PYTHONPATH=str(REPO))
    if url:
        env["COLLABIQ_STATE_URL"] = url
    return env


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


# -- three hosts ---------------------------------------------------------------------------


class Host:
    """One simulated host: ``python -m tests.support.redis_server host`` driven over stdin."""

    def __init__(self, name: str, url: str, home: Path, breaker: dict[str, Any]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.redis_server",
                "host",
                f"--url={url}",
                f"--home={home}",
                f"--breaker={json.dumps(breaker)}",
            ],
            cwd=REPO,
            env=env_for(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"host {self.name} died: {self.proc.stderr.read() if self.proc.stderr else ''}"
        return json.loads(line)

    def ask(self, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.answer()

    def close(self) -> str:
        self.send(op="quit")
        _, err = self.proc.communicate(timeout=30)
        return err


def test_three_hosts_share_one_breaker_and_one_probe(server: RedisServer, tmp_path: Path) -> None:
    url = server.url("hosts")
    cfg = {"failure_threshold": 3, "cooldown_s": 60, "probe_ttl_s": 30, "success_threshold": 2}
    a, b, c = hosts = [Host(n, url, tmp_path / f"home-{n}", cfg) for n in "ABC"]
    try:
        for _ in range(3):
            a.ask(op="record", provider="claude", ok=False, kind="server")
        for host in (b, c):  # their very next call is refused
            (permit,) = host.ask(op="acquire", provider="claude")["permits"]
            assert not permit["allowed"] and permit["state"] == "open", permit
            assert "3 consecutive failures" in permit["reason"]

        # Rounds of a three-host race for the half-open probe, four tries per host at once.
        outcomes = ["fail"] * 5 + ["ok", "ok"]
        for r, outcome in enumerate(outcomes):
            for host in hosts:
                host.ask(op="advance", s=61 if r == 0 or outcomes[r - 1] == "fail" else 0)
            go = tmp_path / f"go-{r}"
            for host in hosts:
                host.send(op="acquire", provider="claude", times=4, go=str(go))
            go.touch()
            permits = {h.name: h.answer()["permits"] for h in hosts}
            granted = [(n, p) for n, ps in permits.items() for p in ps if p["allowed"]]
            assert len(granted) == 1, f"round {r}: {permits}"
            refused = [p for ps in permits.values() for p in ps if not p["allowed"]]
            assert all(p["state"] == "half_open" for p in refused)
            assert all("1 probe call(s) already in flight" in p["reason"] for p in refused)
            winner, permit = granted[0]
            by_name = {h.name: h for h in hosts}
            by_name[winner].ask(
                op="record",
                provider="claude",
                ok=outcome == "ok",
                probe_token=permit["probe_token"],
            )
        for host in hosts:  # two probe successes closed it for everyone
            (permit,) = host.ask(op="acquire", provider="claude")["permits"]
            assert permit["allowed"] and permit["state"] == "closed"
        snap = c.ask(op="snapshot")["snapshot"]["providers"]["claude"]
        assert snap["breaker"] == "closed" and snap["calls"] == 3 + len(outcomes)
    finally:
        errors = [h.close() for h in hosts]
    assert not any("warning" in e for e in errors), errors


# -- 8 processes × 200 events --------------------------------------------------------------


def test_eight_processes_count_exactly_on_redis(server: RedisServer, tmp_path: Path) -> None:
    url, workers, events, emails = server.url("eight"), 8, 200, 20
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.redis_server",
                "events",
                f"--url={url}",
                f"--home={tmp_path / f'home-{w}'}",
                f"--worker={w}",
                f"--events={events}",
                f"--emails={emails}",
                f"--go={go}",
            ],
            cwd=REPO,
            env=env_for(tmp_path / f"home-{w}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    wait_until(lambda: len(list(tmp_path.glob("ready-*"))) == workers, what="workers ready")
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert json.loads(out)["spooled_left"] == 0, err

    expected: dict[str, dict[str, int]] = {}
    for w in range(workers):
        for j in range(events):
            ev = state_worker.event_for(w, j)
            e = expected.setdefault(
                ev.provider, dict.fromkeys(("calls", "ok", "fail", "in", "out", "units"), 0)
            )
            e["calls"] += 1
            e["ok" if ev.ok else "fail"] += 1
            e["in"] += ev.input_tokens
            e["out"] += ev.output_tokens
            e["units"] += rs.to_units(ev.cost_usd)
    store = RedisStateStore(url, BreakerSettings(), spool_dir=tmp_path / "check", op_timeout_s=5)
    snap = store.snapshot()
    assert sum(p.calls for p in snap.providers.values()) == workers * events
    raw = store._client()
    for name, e in expected.items():
        p = snap.providers[name]
        assert (p.calls, p.successes, p.failures) == (e["calls"], e["ok"], e["fail"])
        assert p.failures_by_kind == {"server": e["fail"]}
        assert (p.input_tokens, p.output_tokens) == (e["in"], e["out"])
        assert int(raw.hget(store.keys.provider(name, "usage"), "cost_units")) == e["units"]
    assert snap.emails == workers * emails and snap.total_cost_usd == 0.5 * workers * emails
    assert sum(s.emails for s in snap.cost_by_strategy.values()) == workers * emails
    ids = [entry.email_id for entry in store.read_ledger()]
    assert len(ids) == len(set(ids)) == workers * emails


# -- Redis killed mid-batch, real CLI ------------------------------------------------------


def _line(i: int) -> str:
    text = (
        f"안녕하세요, 본봄 김철수입니다. 신세계인터내셔널과 11월 {i % 28 + 1}일 "
        "파일럿 킥오프 미팅을 진행했습니다."
    )
    return json.dumps({"text": text, "email_id": f"mail-{i:03d}"}, ensure_ascii=False) + "\n"


def test_redis_killed_mid_batch_loses_no_email_and_no_event(tmp_path: Path) -> None:
    require_redis_server()
    per_phase = 12
    with RedisServer(tmp_path / "redis", persist=True) as srv:
        env = env_for(tmp_path / "home", srv.url("batch"))
        cli = [sys.executable, "-m", "collabiq_llm.cli.app", "llm"]
        proc = subprocess.Popen(
            [*cli, "extract", "--jsonl", "--concurrency", "1"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        results: list[str] = []
        reader = threading.Thread(target=lambda: results.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
        reader.start()
        assert proc.stdin is not None

        def feed(start: int) -> None:
            proc.stdin.write("".join(_line(i) for i in range(start, start + per_phase)))  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]

        feed(0)  # Redis up
        wait_until(lambda: len(results) >= per_phase - 4, what="first results")
        srv.kill()
        feed(per_phase)  # Redis dead
        wait_until(lambda: len(results) >= 2 * per_phase - 4, what="results while Redis is down")
        srv.start()
        feed(2 * per_phase)  # Redis back (this process may still be in its 5 s back-off)
        proc.stdin.close()
        rc = proc.wait(timeout=60)
        reader.join(timeout=10)
        err = proc.stderr.read()  # type: ignore[union-attr]
        total = 3 * per_phase
        assert rc == 0, err
        assert len(results) == total
        assert all("error" not in json.loads(r) for r in results), "an email was not extracted"
        assert err.count("warning: Redis at") == 1, err  # one warning per process
        assert "breaker decisions fall back to closed" in err

        status = subprocess.run(
            [*cli, "status", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        assert "replayed" in err + status.stderr  # the spool reached Redis (in one or the other)
        report = json.loads(status.stdout)
        assert report["backend"] == "redis"
        assert report["providers"]["offline"]["calls"] == total  # every call made
        assert report["totals"]["emails"] == total
        store = RedisStateStore(
            srv.url("batch"), BreakerSettings(), spool_dir=tmp_path / "home" / "state_spool"
        )
        assert len(store.spool) == 0
        assert sorted(e.email_id for e in store.read_ledger()) == [
            f"mail-{i:03d}" for i in range(total)
        ]


# -- migrate -------------------------------------------------------------------------------


def _json_state(folder: Path) -> JsonStateStore:
    store = JsonStateStore(folder, BreakerSettings())
    for w in range(2):
        for j in range(60):
            store.record_call(state_worker.event_for(w, j))
    for _ in range(5):  # an open breaker travels too
        store.record_call(
            CallEvent(provider="gemini", model="m", ok=False, at=state_worker.AT, error_kind="auth")
        )
    for j in range(25):
        store.record_email(state_worker.email_for(0, j))
    store.record_email(
        LedgerEntry(
            email_id="unpriced",
            at=state_worker.AT,
            strategy="consensus",
            providers=[LedgerProviderCost(provider="openai", model="x", cost_usd=None)],
            total_cost_usd=None,
        )
    )
    return store


def _comparable(snapshot: Any) -> dict[str, Any]:
    data = snapshot.model_dump(mode="json", exclude={"backend", "location"})
    for p in data["providers"].values():
        p["cost_usd"] = round(p["cost_usd"] or 0, 8)
    data["total_cost_usd"] = round(data["total_cost_usd"], 8)
    return data


def test_state_migrate_moves_json_state_once(server: RedisServer, tmp_path: Path) -> None:
    import typer

    from collabiq_llm.cli.state_cmd import state_app

    llm = typer.Typer()  # mounted as in collabiq_llm/cli/llm.py: `collabiq llm state migrate`
    llm.add_typer(state_app, name="state")
    folder = tmp_path / "llm_health"
    source = _json_state(folder)
    url = server.url("migrated")
    runner = CliRunner()
    first = runner.invoke(llm, ["state", "migrate", "--to", url, "--from", str(folder)])
    assert first.exit_code == 0, first.output
    assert "migrated" in first.stderr and "26 email(s)" in first.stderr
    target = RedisStateStore(url, BreakerSettings(), spool_dir=tmp_path / "spool", op_timeout_s=5)
    assert _comparable(target.snapshot()) == _comparable(source.snapshot())
    assert target.snapshot().providers["gemini"].breaker == "open"
    assert [e.email_id for e in target.read_ledger()] == [e.email_id for e in source.read_ledger()]

    again = runner.invoke(llm, ["state", "migrate", "--to", url, "--from", str(folder), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "already"
    assert _comparable(target.snapshot()) == _comparable(source.snapshot())  # nothing doubled

    source.record_email(state_worker.email_for(9, 9))  # the folder was still in use
    refused = runner.invoke(llm, ["state", "migrate", "--to", url, "--from", str(folder)])
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert target.snapshot().emails == 26
