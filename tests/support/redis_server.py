"""A throw-away ``redis-server`` on a free loopback port, for the Redis backend tests and bench.

    with RedisServer(tmp_path) as server:
        url = server.url(namespace="t1")
        server.kill(); server.start()     # same port again (the "Redis killed" test)

Started as ``redis-server --port P --bind 127.0.0.1 --save "" --appendonly no --dir TMP``
(``persist=True`` switches on an fsync-always append-only file instead, so data
survives ``kill()`` + ``start()`` like a production server with AOF).

:func:`require_redis_server` skips a test when the binary is missing (``make test``
runs ``tests/support/ensure_redis.py`` first, which installs it where it can) —
except under CI (``CI`` set), where a missing server is a failure, not a skip.

Run as a module it is also a *simulated host*: ``python -m tests.support.redis_server
host --url URL --home DIR`` reads JSON commands on stdin and answers one JSON line
each (see :func:`host_main`), used by the fleet tests to drive separate processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

EXTRA_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/bin")


def redis_server_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in EXTRA_DIRS:
        candidate = os.path.join(folder, "redis-server")
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_redis_server() -> str:
    """The binary, or skip (fail under CI) with the reason."""
    import pytest

    binary = redis_server_binary()
    if binary is None:
        reason = (
            "redis-server not installed: run `python tests/support/ensure_redis.py` as root "
            "(or apt-get install redis-server)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " — required under CI")
        pytest.skip(reason)
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; ``stop``/``kill`` and ``start`` again on the same port."""

    def __init__(self, folder: Path | None = None, *, persist: bool = False) -> None:
        self.binary = redis_server_binary() or "redis-server"
        self._own_dir = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="collabiq-redis-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.persist = persist
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, namespace: str | None = None, db: int = 0) -> str:
        query = f"?namespace={namespace}" if namespace else ""
        return f"redis://127.0.0.1:{self.port}/{db}{query}"

    def _args(self) -> list[str]:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--dir", str(self.folder), "--daemonize", "no"]
        args += ["--logfile", str(self.folder / "redis.log")]
        if self.persist:
            return [*args, "--appendonly", "yes", "--appendfsync", "always"]
        return [*args, "--appendonly", "no"]

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start (again) on the same port and wait until it answers PING."""
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer in {timeout} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would (no shutdown save)."""
        self._signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """Graceful SIGTERM (SIGKILL after 5 s)."""
        self._signal(signal.SIGTERM)
        self._reap()

    def _reap(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the server accepts connections but answers nothing (a "slow" Redis)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.resume()
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.folder, ignore_errors=True)


# -- a simulated host: one process, its own COLLABIQ_HOME, driven over stdin -------------------


def _host_store(url: str, home: Path, cfg: dict[str, Any]) -> Any:
    from collabiq_llm.settings import BreakerSettings
    from collabiq_llm.state.redis_store import RedisStateStore

    offset = dt.timedelta()

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + offset

    store = RedisStateStore(url, BreakerSettings(**cfg), clock=clock, spool_dir=home / "spool")

    def advance(seconds: float) -> None:
        nonlocal offset
        offset += dt.timedelta(seconds=seconds)

    return store, advance


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.001)


def host_main(url: str, home: Path, breaker_json: str) -> None:
    """Commands (one JSON object per line), each answered by one JSON line:

    ``{"op": "acquire", "provider": P, "times": N, "go": FILE?}`` → ``{"permits": [...]}``
    (waits for FILE first, so several hosts try at the same instant);
    ``{"op": "record", "provider": P, "ok": bool, "probe_token": T?}``;
    ``{"op": "advance", "s": S}`` (this host's clock); ``{"op": "snapshot"}``; ``{"op": "quit"}``.
    """
    from collabiq_llm.state.api import CallEvent

    store, advance = _host_store(url, home, json.loads(breaker_json))
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        out: dict[str, Any] = {"ok": True}
        if op == "acquire":
            if cmd.get("go"):
                _wait_for(Path(cmd["go"]))
            permits = [store.acquire(cmd["provider"]) for _ in range(cmd.get("times", 1))]
            out["permits"] = [json.loads(p.model_dump_json()) for p in permits]
        elif op == "record":
            store.record_call(
                CallEvent(
                    provider=cmd["provider"],
                    model="m",
                    ok=cmd["ok"],
                    at=store.clock(),
                    latency_ms=10.0,
                    error_kind=None if cmd["ok"] else cmd.get("kind", "server"),
                    probe_token=cmd.get("probe_token"),
                )
            )
        elif op == "advance":
            advance(cmd["s"])
        elif op == "snapshot":
            out["snapshot"] = json.loads(store.snapshot().model_dump_json())
        elif op == "quit":
            break
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def events_main(url: str, home: Path, worker: int, events: int, emails: int, go: Path) -> None:
    """The JSON multi-process test's workload (same events) against Redis, then exit."""
    from collabiq_llm.settings import BreakerSettings
    from collabiq_llm.state.redis_store import RedisStateStore
    from tests.support import state_worker

    store = RedisStateStore(
        url, BreakerSettings(failure_threshold=1_000_000), spool_dir=home / "spool"
    )
    (go.parent / f"ready-{worker}").touch()
    _wait_for(go, 60)
    for j in range(events):
        event = state_worker.event_for(worker, j)
        store.acquire(event.provider)
        store.record_call(event)
        if j < emails:
            store.record_email(state_worker.email_for(worker, j))
    with contextlib.suppress(Exception):
        store.flush_spool()  # a spurious timeout spooled something: deliver it before exiting
    sys.stdout.write(json.dumps({"spooled_left": len(store.spool)}) + "\n")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("host", "events"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--breaker", default="{}")
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--emails", type=int, default=20)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "host":
        host_main(args.url, args.home, args.breaker)
    else:
        events_main(args.url, args.home, args.worker, args.events, args.emails, args.go)
    return 0


if __name__ == "__main__":
    sys.exit(main())
