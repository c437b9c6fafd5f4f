"""A separate OS process that hammers the JSON state store (used by the multi-process tests).

Modes:
  events  --dir D --worker W --events N --emails M [--ready F --go F]
          record N calls (pattern from :func:`event_for`) and M emails, then exit 0.
  forever --dir D --ack F [--slow]
          record calls (and an email every 5th) until killed; after each call has
          been committed, append one byte to the ack file. ``--slow`` makes every
          fsync take longer, so a SIGKILL almost always lands mid-write.
  status  --dir D
          print the snapshot as JSON (stderr carries any corrupt-file warning).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from collabiq_llm.settings import BreakerSettings, CostSettings, Price
from collabiq_llm.state.api import CallEvent, LedgerEntry, LedgerProviderCost
from collabiq_llm.state.costs import call_cost
from collabiq_llm.state.json_store import JsonStateStore

PROVIDERS = ("gemini", "claude", "openai")
PRICES = {
    "gemini": ("gemini-2.5-flash", Price(input=0.30, output=2.50)),
    "claude": ("claude-sonnet-4-5", Price(input=3.0, output=15.0)),
    "openai": ("gpt-5-mini", Price(input=0.25, output=2.0)),
}
FOREVER_TOKENS = (1000, 100)
AT = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


def event_for(worker: int, j: int) -> CallEvent:
    """The j-th call of a worker: deterministic so the parent can compute exact totals."""
    provider = PROVIDERS[(worker + j) % 3]
    model, price = PRICES[provider]
    ok = j % 4 != 0
    in_tok, out_tok = (1000 + j, 100 + worker) if ok else (0, 0)
    return CallEvent(
        provider=provider,
        model=model,
        ok=ok,
        at=AT,
        latency_ms=float(100 + j % 50) if ok else None,
        error_kind=None if ok else "server",
        error_message=None if ok else f"HTTP 503 from worker {worker}",
        input_tokens=in_tok,
        output_tokens=out_tok,
        cost_usd=call_cost(price, in_tok, out_tok),
    )


def email_for(worker: int, j: int) -> LedgerEntry:
    return LedgerEntry(
        email_id=f"w{worker}-e{j}",
        at=AT,
        strategy="failover" if j % 2 else "consensus",
        providers=[LedgerProviderCost(provider="claude", model="claude-sonnet-4-5", cost_usd=0.5)],
        total_cost_usd=0.5,
    )


def make_store(state_dir: Path) -> JsonStateStore:
    # A huge breaker threshold keeps every process on the same code path (no opened breaker).
    cfg = BreakerSettings(failure_threshold=1_000_000)
    return JsonStateStore(state_dir, cfg, cost=CostSettings(), lock_timeout_s=30)


def _wait_for_go(ready: Path | None, go: Path | None) -> None:
    if ready is not None:
        ready.touch()
    if go is not None:
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.005)


def run_events(args: argparse.Namespace) -> None:
    store = make_store(args.dir)
    _wait_for_go(args.ready, args.go)
    for j in range(args.events):
        event = event_for(args.worker, j)
        store.acquire(event.provider)  # an unlocked read racing with the writers
        store.record_call(event)
        if j < args.emails:
            store.record_email(email_for(args.worker, j))


def run_forever(args: argparse.Namespace) -> None:
    if args.slow:
        real_fsync = os.fsync

        def slow_fsync(fd: int) -> None:
            time.sleep(0.002)
            real_fsync(fd)

        os.fsync = slow_fsync  # type: ignore[assignment]
    store = make_store(args.dir)
    ack = os.open(args.ack, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    in_tok, out_tok = FOREVER_TOKENS
    j = 0
    while True:
        store.record_call(
            CallEvent(
                provider="claude",
                model="claude-sonnet-4-5",
                ok=True,
                at=AT,
                latency_ms=10.0,
                input_tokens=in_tok,
                output_tokens=out_tok,
                cost_usd=call_cost(PRICES["claude"][1], in_tok, out_tok),
            )
        )
        os.write(ack, b"c")
        if j % 5 == 0:
            store.record_email(email_for(0, j))
            os.write(ack, b"e")
        j += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("events", "forever", "status"))
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--emails", type=int, default=0)
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--ack", type=Path)
    parser.add_argument("--slow", action="store_true")
    args = parser.parse_args(argv)
    if args.mode == "events":
        run_events(args)
    elif args.mode == "forever":
        run_forever(args)
    else:
        sys.stdout.write(make_store(args.dir).snapshot().model_dump_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
