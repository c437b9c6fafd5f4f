"""Fault cases against the real servers: a crash mid-run, 429 + Retry-After, slow and hung."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from interop.context import LOCAL, Ctx, Target, attempts_of, local_provider, success_latency
from interop.fixtures import write_jsonl
from interop.procs import Server
from interop.report import Row
from tests.emulators import Behaviour, Emulator

GATEWAY = "gw"  # provider name of the OpenAI-compatible endpoint in front of a faulty upstream


def _gw_provider(target: Target) -> dict[str, Any]:
    return {**local_provider(target, "chat"), "timeout_s": 30.0}


def killed_row(ctx: Ctx, target: Target, victim: Server, n: int = 3) -> Row:
    """SIGKILL the llama-server after the first result of a batch: the rest must fail over."""
    batch = write_jsonl(ctx.run_dir / "inputs" / "killed.jsonl", ctx.emails[:n])
    providers = {LOCAL: local_provider(target), **ctx.peers()}
    home = ctx.home(
        "killed",
        providers,
        [LOCAL, "gemini"],
        env={"COLLABIQ_FAILOVER__HEDGE": "false"},
        key=target.api_key,
    )
    started = time.perf_counter()
    proc = home.popen("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    assert proc.stdout is not None
    lines: list[dict[str, Any]] = []
    killed_after = None
    for raw in proc.stdout:
        if raw.strip().startswith("{"):
            lines.append(json.loads(raw))
        if killed_after is None and lines:
            victim.kill()
            killed_after = len(lines)
    stderr = proc.stderr.read() if proc.stderr else ""
    rc = proc.wait(timeout=600)
    wall = time.perf_counter() - started
    results = [r for r in lines if "meta" in r]
    after = results[killed_after or 0 :]
    by_gemini = sum(1 for r in after if r["meta"]["provider"] == "gemini")
    kinds = sorted(
        {
            a.get("error_kind") or "?"
            for r in after
            for a in attempts_of(r, LOCAL)
            if a["outcome"] != "success"
        }
    )
    status = home.status().get("providers", {}).get(LOCAL, {})
    ok = rc == 0 and len(results) == n and by_gemini == len(after) and len(after) > 0
    detail = (
        f"killed after result {killed_after}; {by_gemini}/{len(after)} later emails answered by "
        f"gemini-emu; local errors: {', '.join(kinds) or '-'}; "
        f"local breaker {status.get('breaker')}"
    )
    if rc != 0:
        detail += f"; exit {rc}: {stderr.strip().splitlines()[-1][:160] if stderr.strip() else ''}"
    return Row(
        server=target.label,
        case="fault: server killed mid-run → failover",
        outcome="pass" if ok else "fail",
        latency_ms=success_latency(after, "gemini"),
        wall_s=wall,
        detail=detail,
    )


def probe_headers(base_url: str, model: str, key: str) -> dict[str, str]:
    """One raw Chat Completions call; the error response's headers (what a client sees)."""
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(
        base_url + "/chat/completions",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return {"status": str(resp.status)}
    except urllib.error.HTTPError as err:
        headers = {k.lower(): v for k, v in err.headers.items() if "retry" in k.lower()}
        return {"status": str(err.code), **headers}


def retry_after_row(ctx: Ctx, target: Target, upstream: Emulator, seconds: int = 120) -> Row:
    """Upstream 429 + retry-after: the next process (cron run) must not call it before then."""
    upstream.enqueue(Behaviour.status(429, retry_after=seconds))
    # what the client sees on the wire
    seen = probe_headers(target.base_url, target.model, target.api_key)
    upstream.enqueue(Behaviour.status(429, retry_after=seconds))
    batch = write_jsonl(ctx.run_dir / "inputs" / "retry-after.jsonl", ctx.emails[:1])
    providers = {GATEWAY: _gw_provider(target), **ctx.peers()}
    home = ctx.home(
        "retry-after", providers, [GATEWAY, "gemini"], key=target.api_key, slow_local=False
    )
    first = home.run("llm", "extract", "--jsonl", str(batch))
    before = upstream.request_count
    status = home.status().get("providers", {}).get(GATEWAY, {})
    second = home.run("llm", "extract", "--jsonl", str(batch))
    called_again = upstream.request_count - before
    answered = [
        r["meta"]["provider"] for run in (first, second) for r in run.json_lines() if "meta" in r
    ]
    retry_hdrs = {k: v for k, v in seen.items() if k != "status"}
    # a retry-after is not a breaker state: status shows it as `not_before` (health
    # rate_limited until then); next_try_at is the breaker's own cool-down
    until = status.get("not_before") or status.get("next_try_at")
    ok = called_again == 0 and until is not None and answered == ["gemini"] * 2
    detail = (
        f"client saw HTTP {seen.get('status')} {retry_hdrs or 'no retry header'}; "
        f"answered by {answered}; status {status.get('health')} until {until}; "
        f"next process called the 429 upstream {called_again}×"
    )
    return Row(
        server=target.label,
        case=f"fault: 429 retry-after {seconds} s, next process",
        outcome="pass" if ok else "fail",
        blame="" if ok else "product",
        wall_s=first.seconds + second.seconds,
        detail=detail,
    )


def slow_row(ctx: Ctx, target: Target, n: int = 5) -> Row:
    """A slow but healthy local primary, fast secondary, default hedging (issue 12 item 1).

    Pass: the primary's breaker stays closed and no call of it is recorded as a timeout.
    """
    batch = write_jsonl(ctx.run_dir / "inputs" / "slow.jsonl", ctx.emails[:n])
    providers = {LOCAL: local_provider(target), **ctx.peers()}
    home = ctx.home("slow", providers, [LOCAL, "gemini"], key=target.api_key, slow_local=False)
    run = home.run("llm", "extract", "--jsonl", str(batch), "--concurrency", "1")
    results = [r for r in run.json_lines() if "meta" in r]
    st = home.status().get("providers", {})
    local = st.get(LOCAL, {})
    kinds = local.get("failures_by_kind", {}) or {}
    hedges = sum(int(p.get("hedges", 0) or 0) for p in st.values())
    winners: dict[str, int] = {}
    for r in results:
        winners[r["meta"]["provider"]] = winners.get(r["meta"]["provider"], 0) + 1
    ok = run.returncode == 0 and local.get("breaker") == "closed" and not kinds.get("timeout")
    detail = (
        f"answered by {winners}; hedges {hedges}; local breaker {local.get('breaker')}, "
        f"failures {local.get('failures')} {kinds}; local p95 {local.get('p95_latency_ms')} ms"
    )
    return Row(
        server=target.label,
        case=f"fault: slow primary ({n} emails, default hedging)",
        outcome="pass" if ok else "fail",
        blame="" if ok else "product",
        latency_ms=success_latency(results),
        wall_s=run.seconds,
        detail=detail,
    )


def hung_row(ctx: Ctx, target: Target, upstream: Emulator) -> Row:
    """Upstream accepts and never answers: failover must still be quick (< 2 s target)."""
    upstream.set_default(Behaviour.hang(max_s=60))
    batch = write_jsonl(ctx.run_dir / "inputs" / "hung.jsonl", ctx.emails[:1])
    providers = {GATEWAY: _gw_provider(target), **ctx.peers()}
    home = ctx.home("hung", providers, [GATEWAY, "gemini"], key=target.api_key, slow_local=False)
    run = home.run("llm", "extract", "--jsonl", str(batch))
    results = [r for r in run.json_lines() if "meta" in r]
    meta = results[0]["meta"] if results else {}
    latency = meta.get("latency_ms")
    ok = run.returncode == 0 and meta.get("provider") == "gemini" and not meta.get("degraded")
    quick = latency is not None and latency < 2000
    return Row(
        server=target.label,
        case="fault: hung upstream → failover",
        outcome="pass" if ok else "fail",
        latency_ms=latency,
        wall_s=run.seconds,
        detail=f"answered by {meta.get('provider')}; hedged {meta.get('hedged')}; "
        f"email took {latency:.0f} ms ({'<' if quick else '≥'} 2 s)"
        if latency is not None
        else run.brief_error()[:200],
    )
