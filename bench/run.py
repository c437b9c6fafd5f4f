"""Run every benchmark, write ``bench/results.json`` and the README table.

    python -m bench.run --quick    # make bench-quick: small counts, < 60 s on 2 cores
    python -m bench.run --full     # make bench: more repetitions, three oracle seeds

Each figure is a ratio against a baseline measured in the same run (the machine is
shared, so absolute times drift between runs; ratios taken side by side do not).
Targets are reported, never asserted: the command fails only if a benchmark breaks.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import PROVIDER_ENV, ROOT, row

RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
QUICK_BUDGET_S = 52.0  # redis is skipped (with the reason) if it would not fit
BENCHES: tuple[tuple[str, str], ...] = (
    ("startup", "bench.bench_startup"),
    ("overhead", "bench.bench_overhead"),
    ("cpu", "bench.bench_cpu"),
    ("peer", "bench.bench_peer"),
    ("failover", "bench.bench_failover"),
    ("consensus", "bench.bench_consensus"),
    ("batch", "bench.bench_batch"),
    ("state", "bench.bench_state"),
    ("accuracy", "bench.bench_accuracy"),
)
NOTES = (
    "- **Start-up**: `status --json` reads a state folder filled through the real store "
    "(three providers with full latency windows, 300 emails of costs). The headline is "
    "how monitoring runs it: an earlier run validated the settings, so no pydantic loads "
    "(`collabiq_llm/status_fast.py`); the next row is the first run after a settings "
    "change (memo removed before each run), which validates them with pydantic-settings.",
    "- **Orchestrator overhead**: the headline row includes the JSON store's work per "
    "extraction (group-committed as in production: one locked, fsync'd write per file per "
    "second, failures written at once); the tmpfs and in-memory rows show how much of it is "
    "disk I/O and how much is orchestration.",
    "- **Client CPU per email**: `collabiq llm extract --jsonl -n 16` and a bare "
    "`google-genai` async loop (`bench/sdk_loop.py`, same requests) against the same "
    "instant emulator; CPU of a 3N-email run minus an N-email run, over 2N, so start-up "
    "and one-off costs cancel. Each mode is set against the bare loop making the same "
    "call: collabiq's default `stream = true` (a hang is told from a slow answer by the "
    "first event) against the streaming loop, and `stream = false` against the plain "
    "`generate_content` loop; the last row sets streaming collabiq against the plain loop "
    "(what streaming itself costs). The input parsing of each email (MIME, quoted "
    "replies, From/To) is collabiq's work and counts on its side.",
    "- **LiteLLM**: `Router.acompletion` over the bare `openai` SDK vs our orchestrator "
    "over our provider, same emulator, same event loop, alternating (`bench/bench_peer.py`; "
    "litellm comes from the bench dependency group).",
    "- **Test suite under load**: `make test` (pytest -n 2) with two `yes > /dev/null` "
    "processes burning both cores; recorded by `make bench-suite` (`bench/bench_suite.py`).",
    "- **Failover**: first encounter (fresh state: breaker closed, no history, so a "
    "streaming primary with no first event is hung at `first_byte_default_s` = 1.5 s); "
    "with history the hang deadline and hedge delay follow the primary's p95 time to "
    "first event, and once the breaker is open the primary is skipped outright. The "
    "slow-primary rows run 10 emails through one state folder.",
    "- **Batch**: the whole `collabiq llm extract --jsonl` command (start-up, SDK import, "
    "state writes included; nothing subtracted) against a provider answering in 100 ms.",
    "- **State store**: one event = lock + read + validate + write + fsync + replace; "
    "8 processes contend for one lock, so throughput does not scale with processes.",
)
SDKS = ("anthropic", "openai", "google-genai", "httpx2", "pydantic", "redis")


def machine() -> dict[str, Any]:
    """Where and with what the figures were taken."""
    versions = {}
    for name in SDKS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def state_rows(result: dict[str, Any], label: str) -> list[dict[str, Any]]:
    """Rows for a state-store benchmark in bench_state's shape (JSON files or Redis)."""
    if "rows" in result:
        return list(result["rows"])
    per = result.get("per_event_us", {})
    eps = result.get("throughput_eps", {})
    rows = []
    if "record_call" in per:
        base_key = next(
            (k for k in ("baseline_atomic_fsync_write", "baseline_plain_json_write") if k in per),
            None,
        )
        base = per.get(base_key) if base_key else None
        rows.append(
            row(
                f"State store ({label}): one recorded event (`record_call`)",
                f"{per['record_call']:.0f} µs",
                f"{base_key.removeprefix('baseline_').replace('_', ' ')} {base:.0f} µs"
                if base
                else "—",
                per["record_call"] / base if base else None,
                **per,
            )
        )
    if "8" in eps and "1" in eps:
        rows.append(
            row(
                f"State store ({label}): 8 processes writing at once",
                f"{eps['8']:,.0f} events/s",
                f"1 process {eps['1']:,.0f} events/s",
                eps["8"] / eps["1"],
                throughput_eps=eps,
            )
        )
    return rows or [row(f"State store ({label})", "see results.json", "—", None)]


def redis_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for bench_redis (Redis and JSON files measured side by side in its run)."""
    per, eps = result.get("per_event_us", {}), result.get("throughput_eps", {})
    if not ("redis" in per and "json" in per):
        return state_rows(result, "Redis")
    rows = [
        row(
            "State store (Redis): one recorded event (`record_call`)",
            f"{per['redis']['record_call']:.0f} µs",
            f"JSON files {per['json']['record_call']:.0f} µs (same run)",
            per["redis"]["record_call"] / per["json"]["record_call"],
            **{f"{b}_{k}": v for b, d in per.items() for k, v in d.items()},
        )
    ]
    if "8" in eps.get("redis", {}) and "8" in eps.get("json", {}):
        rows.append(
            row(
                "State store (Redis): 8 processes writing at once",
                f"{eps['redis']['8']:,.0f} events/s",
                f"JSON files, 8 processes {eps['json']['8']:,.0f} events/s",
                eps["redis"]["8"] / eps["json"]["8"],
                throughput_eps=eps,
            )
        )
    return rows


def run_redis(quick: bool, budget_s: float) -> dict[str, Any]:
    """bench.bench_redis (someone else's module) in a subprocess, if it and Redis exist.

    Its own process group, so a time-out also ends the redis-server it started.
    """
    if importlib.util.find_spec("bench.bench_redis") is None:
        return {"skipped": "bench/bench_redis.py is not there"}
    if shutil.which("redis-server") is None:
        return {"skipped": "no redis-server on PATH"}
    if budget_s < 5:
        return {"skipped": f"quick time budget spent ({budget_s:.0f} s left)"}
    code = (
        "import json, sys\nfrom bench.bench_redis import run\n"
        f"json.dump(run(quick={quick!r}), sys.stdout)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=budget_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        return {"skipped": f"did not finish within the {budget_s:.0f} s left"}
    if proc.returncode != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        return {"skipped": f"bench_redis failed: {last[:200]}"}
    result = json.loads(out)
    return result if isinstance(result, dict) else {"skipped": "bench_redis returned no dict"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(results: dict[str, Any]) -> str:
    """The Markdown block that goes between the README's bench markers."""
    m = results["machine"]
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    lines = [
        f"Generated by `make {'bench-quick' if results['quick'] else 'bench'}` on "
        f"{results['date']} ({results['total_s']:.0f} s): {m['nproc']} CPUs (shared; load "
        f"{m['loadavg_at_start'][0]} at start), Python {m['python']}; {pkgs}. Every ratio "
        "is against a baseline measured in the same run; raw numbers in "
        "[`bench/results.json`](bench/results.json). Accuracy rows come from the oracle "
        "**simulation** (see [Evaluation](#evaluation)), not from real models; gateway "
        "figures are their published numbers, not measured here.",
        "",
        "| figure | measured | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        cells = [r["figure"], r["measured"], r["baseline"], r["ratio_text"], r["target"], met]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join([*lines, "", *NOTES])


def update_readme(block: str, path: Path = README) -> bool:
    """Replace what is between the bench markers (nothing else); False if they are missing."""
    text = path.read_text("utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    new = text[: start + len(START)] + "\n" + block + "\n" + text[end:]
    if new != text:
        path.write_text(new, "utf-8")
    return True


def _previous_suite() -> dict[str, Any] | None:
    try:
        old = json.loads(RESULTS.read_text("utf-8"))
        return old["benchmarks"]["suite_under_load"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _isolate_env(home: str) -> None:
    """No real key, config or state of the person running the benchmarks is used."""
    for name in list(os.environ):
        if name in PROVIDER_ENV or name.startswith("COLLABIQ_"):
            del os.environ[name]
    os.environ["COLLABIQ_HOME"] = home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small counts (default)")
    mode.add_argument("--full", action="store_true", help="more repetitions, three seeds")
    parser.add_argument("--no-readme", action="store_true", help="do not touch README.md")
    args = parser.parse_args(argv)
    quick = not args.full
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "machine": machine(),
        "benchmarks": {},
        "durations_s": {},
    }
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="collabiq-bench-home-") as home:
        _isolate_env(home)
        for name, module_name in BENCHES:
            t0 = time.perf_counter()
            print(f"[bench] {name} …", file=sys.stderr, flush=True)
            try:
                result = importlib.import_module(module_name).run(quick=quick)
            except Exception as exc:  # report, keep going, fail at the end
                failed.append(name)
                result = {"error": f"{type(exc).__name__}: {exc}"}
                rows.append(row(f"{name} benchmark", "FAILED", str(exc)[:120], None))
            else:
                rows += state_rows(result, "JSON files") if name == "state" else result["rows"]
            results["benchmarks"][name] = result
            results["durations_s"][name] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        left = QUICK_BUDGET_S - (t0 - started) if quick else 600.0
        redis = run_redis(quick, left)
        results["benchmarks"]["redis"] = redis
        results["durations_s"]["redis"] = round(time.perf_counter() - t0, 2)
        if "skipped" in redis:
            rows.append(row("State store (Redis)", "skipped", redis["skipped"], None))
        else:
            rows += redis_rows(redis)
    previous = _previous_suite()
    if previous is not None:  # measured by make bench-suite (minutes): kept across runs
        results["benchmarks"]["suite_under_load"] = previous
        rows += previous.get("rows", [])
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["rows"] = rows
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    block = render(results)
    if not args.no_readme and not update_readme(block):
        print("warning: README.md has no bench markers; table not written", file=sys.stderr)
    print(block)
    print(f"\n{RESULTS.relative_to(ROOT)} written in {results['total_s']:.1f} s", file=sys.stderr)
    if failed:
        print(f"error: benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
