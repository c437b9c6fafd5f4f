"""RedisStateStore specifics on a real redis-server: URLs, namespaces, fallback, spool, CAS.

The shared semantics (breaker, probes, budgets, ledger, totals) are tested against
both backends in ``test_store_contract.py``; this file covers what only Redis has.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from collabiq_llm.errors import ConfigurationError, StateError
from collabiq_llm.redact import redact
from collabiq_llm.settings import BreakerSettings, Settings
from collabiq_llm.state import make_store, parse_state_url, redact_url, spool
from collabiq_llm.state.api import CallEvent, LedgerEntry, OrchestrationConfig
from collabiq_llm.state.redis_store import RedisStateStore
from tests.support.redis_server import RedisServer, require_redis_server

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    with RedisServer(tmp_path_factory.mktemp("redis")) as srv:
        yield srv


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server this test may stop, kill or pause (append-only file: data survives restarts)."""
    require_redis_server()
    with RedisServer(tmp_path / "redis", persist=True) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh_warning_flag() -> Iterator[None]:
    spool._warned.clear()  # "one warning per process": each test is its own "process"
    yield
    spool._warned.clear()


def ns() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def make(url: str, tmp_path: Path, **kw: Any) -> RedisStateStore:
    kw.setdefault("spool_dir", tmp_path / "spool")
    return RedisStateStore(url, BreakerSettings(failure_threshold=kw.pop("threshold", 5)), **kw)


def ok_call(provider: str = "claude", **kw: Any) -> CallEvent:
    fields = {"provider": provider, "model": "m", "ok": True, "at": T0, "latency_ms": 5.0}
    return CallEvent.model_validate(fields | {"cost_usd": 0.25, "input_tokens": 10} | kw)


# -- URL, namespace, backend choice ------------------------------------------------------------


def test_url_namespace_and_password_redaction() -> None:
    client, namespace, shown = parse_state_url(
        "redis://app:s3cr3t-pw@db.internal:6380/2?namespace=prod"
    )
    assert client == "redis://app:s3cr3t-pw@db.internal:6380/2" and namespace == "prod"
    assert shown == "redis://app:***@db.internal:6380/2"
    assert "s3cr3t-pw" not in redact("auth failed for s3cr3t-pw")  # registered as a secret
    assert redact_url("rediss://:pw1234@h:1/0") == "rediss://:***@h:1/0"
    assert parse_state_url("redis://h:1/0?ssl_cert_reqs=none&namespace=x")[0].endswith(
        "?ssl_cert_reqs=none"
    )
    with pytest.raises(ConfigurationError, match="bad Redis namespace"):
        RedisStateStore("redis://h:1/0?namespace=a:b", BreakerSettings(), spool_dir=Path("/tmp"))


def test_make_store_picks_redis_and_never_prints_the_password(
    isolated_home: Path, server: RedisServer
) -> None:
    url = f"redis://:hunter2-secret@127.0.0.1:{server.port}/0?namespace=team-a"
    store = make_store(Settings(state_url=url))
    assert isinstance(store, RedisStateStore)
    assert (
        store.namespace == "team-a"
        and store.spool.path == isolated_home / "state_spool" / "team-a.jsonl"
    )
    assert "hunter2" not in store.location and store.location.endswith("(namespace team-a)")
    with pytest.raises(ConfigurationError, match="unsupported state_url"):
        make_store(Settings(state_url="s3://bucket"))


def test_json_backend_does_not_import_redis() -> None:
    code = (
        "import sys; from collabiq_llm.settings import Settings; "
        "from collabiq_llm.state import make_store; "
        "make_store(Settings()).snapshot(); print('redis' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_namespaces_are_isolated_and_prefixed(server: RedisServer, tmp_path: Path) -> None:
    a, b = make(server.url("ns-a"), tmp_path), make(server.url("ns-b"), tmp_path)
    a.record_call(ok_call())
    a.record_email(LedgerEntry(email_id="e", at=T0, strategy="failover", total_cost_usd=0.1))
    assert a.snapshot().providers["claude"].calls == 1
    assert b.snapshot().providers == {} and b.snapshot().emails == 0
    keys = a._client().keys("*")
    assert keys and all(k.startswith(("collabiq:ns-a:", "collabiq:ns-b:")) for k in keys)


# -- Redis down, slow, back ------------------------------------------------------------------


def test_down_redis_falls_back_spools_and_replays(
    own_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make(own_server.url("x"), tmp_path, down_for_s=0.3)
    store.record_call(ok_call())
    own_server.stop()
    started = time.monotonic()
    permit = store.acquire("claude")
    assert (
        permit.allowed and permit.state == "closed" and permit.reason == "state backend unavailable"
    )
    for _ in range(3):
        store.record_call(ok_call(cost_usd=0.5))
        store.record_email(
            LedgerEntry(email_id=str(uuid.uuid4()), at=T0, strategy="failover", total_cost_usd=0.5)
        )
    snap = store.snapshot()
    assert snap.backend == "redis (unavailable)" and snap.providers == {}
    assert store.get_orchestration() == OrchestrationConfig()
    # smoke bound only: refused connections fail fast and the down period skips Redis
    assert time.monotonic() - started < 5.0
    with pytest.raises(StateError, match="unavailable"):
        store.set_orchestration(OrchestrationConfig(strategy="consensus"))
    assert len(store.spool) == 6
    err = capsys.readouterr().err
    assert err.count("warning: Redis at") == 1 and "events spooled to" in err

    own_server.start()
    time.sleep(0.35)  # the down period passes; the next operation replays first
    snap = store.snapshot()
    assert snap.backend == "redis"
    assert snap.providers["claude"].calls == 4
    assert snap.providers["claude"].cost_usd == pytest.approx(1.75)
    assert snap.emails == 3 and snap.total_cost_usd == pytest.approx(1.5)
    assert len(store.read_ledger()) == 3 and len(store.spool) == 0
    assert "replayed 6 spooled event(s)" in capsys.readouterr().err


def test_slow_redis_times_out_fast_and_counts_once(own_server: RedisServer, tmp_path: Path) -> None:
    # a long op timeout makes "waited for Redis" unmistakable against scheduler noise:
    # each wait costs 2 s, so the bounds below tell one wait from two on any machine
    store = make(own_server.url("slow"), tmp_path, down_for_s=30, op_timeout_s=2.0)
    store.record_call(ok_call())
    own_server.pause()  # accepts nothing, answers nothing: a hung server
    try:
        started = time.monotonic()
        store.record_call(ok_call())  # sent, then the reply times out: spooled
        assert permit_time(store) < 2.0  # later calls do not wait for Redis while it is down
        assert time.monotonic() - started < 2 * 2.0  # one timeout, not two
    finally:
        own_server.resume()
    time.sleep(0.25)
    store.flush_spool()
    # Redis did apply the timed-out call once it woke up; the replay of the same id was ignored.
    assert store.snapshot().providers["claude"].calls == 2


def permit_time(store: RedisStateStore) -> float:
    started = time.monotonic()
    assert store.acquire("claude").reason == "state backend unavailable"
    return time.monotonic() - started


def test_replay_crashing_midway_double_counts_nothing(
    own_server: RedisServer, tmp_path: Path
) -> None:
    store = make(own_server.url("crash"), tmp_path)
    own_server.stop()
    for _ in range(5):
        store.record_call(ok_call())
    own_server.start()
    applied = 0

    def apply_two_then_die(item: spool.SpooledEvent) -> None:
        nonlocal applied
        if applied == 2:
            raise KeyboardInterrupt("process killed mid-replay")
        store._apply_spooled(item)
        applied += 1

    with pytest.raises(KeyboardInterrupt):
        store.spool.replay(apply_two_then_die)
    assert len(store.spool) == 5  # nothing truncated
    with store.spool.path.open("a") as fh:
        fh.write('{"schema":1,"kind":"call","id":"torn')  # a crash mid-append
    assert store.flush_spool() == 5
    assert store.snapshot().providers["claude"].calls == 5


def test_concurrent_writers_lose_no_breaker_update(server: RedisServer, tmp_path: Path) -> None:
    url = server.url(ns())
    stores = [make(url, tmp_path, threshold=10**6, op_timeout_s=5.0) for _ in range(4)]

    def fail_many(s: RedisStateStore) -> None:
        for _ in range(60):
            s.record_call(CallEvent(provider="p", model="m", ok=False, at=T0, error_kind="server"))

    threads = [threading.Thread(target=fail_many, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = stores[0].snapshot().providers["p"]
    assert snap.calls == 240 and snap.consecutive_failures == 240  # every CAS retried, none lost


def test_money_is_summed_exactly(server: RedisServer, tmp_path: Path) -> None:
    store = make(server.url(ns()), tmp_path)
    for _ in range(1000):
        store.record_call(ok_call(cost_usd=0.1))
    assert store.snapshot().providers["claude"].cost_usd == 100.0  # no float drift


# -- the CLI on Redis --------------------------------------------------------------------------


def _status(monkeypatch: pytest.MonkeyPatch, url: str) -> dict[str, Any]:
    from collabiq_llm.cli.app import app

    monkeypatch.setenv("COLLABIQ_STATE_URL", url)
    result = CliRunner().invoke(app, ["llm", "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_names_the_backend_up_and_down(
    own_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = own_server.url("cli").replace("redis://", "redis://:pw-9876@")
    own_server.stop()
    down = _status(monkeypatch, url)
    assert down["backend"] == "redis (unavailable)" and "pw-9876" not in json.dumps(down)
    own_server.start()
    spool._warned.clear()
    up_url = own_server.url("cli")
    make(up_url, tmp_path).record_call(ok_call(provider="offline"))
    up = _status(monkeypatch, up_url)
    assert up["backend"] == "redis" and up["state_dir"].endswith("(namespace cli)")
    assert up["providers"]["offline"]["calls"] == 1


def test_an_acl_without_evalsha_or_a_wrong_type_key_spools_instead_of_failing(
    server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11: NOPERM / WRONGTYPE used to end a batch with exit 1; now the events are
    spooled (kept, one warning naming the error) exactly as during an outage."""
    import redis

    admin = redis.Redis.from_url(server.url())
    user = f"noeval{uuid.uuid4().hex[:6]}"
    admin.execute_command("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", "-evalsha", "-eval")
    namespace = ns()
    url = f"redis://{user}:pw@127.0.0.1:{server.url().split(':')[-1].split('/')[0]}/0"
    store = make(f"{url}?namespace={namespace}", tmp_path)
    store.record_call(ok_call())  # no exception: spooled
    assert store.acquire("claude").allowed
    assert len(store.spool) == 1
    err = capsys.readouterr().err
    assert "NoPermissionError" in err and "events spooled to" in err and ":pw@" not in err

    spool._warned.clear()
    namespace = ns()
    wrong = make(server.url(namespace), tmp_path / "w")
    wrong.record_call(ok_call())
    wrong.record_email(LedgerEntry(email_id="e", at=T0, strategy="failover", total_cost_usd=0.1))
    keys = admin.keys(f"*{namespace}*")
    assert keys
    for key in keys:  # every key the store uses, turned into the wrong type
        kind = admin.type(key)
        admin.delete(key)
        if kind == b"string":
            admin.rpush(key, "x")
        else:
            admin.set(key, "x")
    wrong.record_call(ok_call())
    wrong.record_email(LedgerEntry(email_id="f", at=T0, strategy="failover", total_cost_usd=0.1))
    assert len(wrong.spool) == 2  # kept for later, not lost, no exception
    assert "WRONGTYPE" in capsys.readouterr().err
