"""Client CPU per email: ``collabiq llm extract --jsonl`` against the bare SDK loop.

    python -m bench.bench_cpu [--quick]

Both run as subprocesses against the same instantly answering Gemini emulator (its
own process, so its CPU is not counted), on the same batch, at the same concurrency,
alternating, in the same run. CPU = user + system time of the child (``getrusage``).
Per email = (CPU of a 3N-email run − CPU of an N-email run) / 2N: every one-off cost
(interpreter, imports, SDK import, client and connection set-up, the company
directory) is in both runs and cancels out; what is left is the steady per-email work.
Each ratio is the median over repetitions of the ratio within one repetition (whose
runs alternate, so they share the machine's load).
The figure is our per-email CPU as a multiple of the bare ``google-genai`` loop's
(``bench/sdk_loop.py``) making the same kind of call: collabiq streams by default
(``stream = true``, so a hang is told from a slow answer by the first event), and the
SDK's own per-chunk parsing is most of a streamed call's CPU, so the like-for-like
baseline is the bare loop with ``--stream``. With ``stream = false`` collabiq makes the
plain ``generate_content`` call instead, so that run is set against the plain loop; the
streaming run against the plain loop is reported too (what streaming itself costs).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_overhead import standalone_emulator
from bench.common import ROOT, clean_env, collabiq_cmd, dataset_texts, median, row

CONCURRENCY = 16
TARGET_RATIO = 1.5


def _cpu(cmd: list[str], env: dict[str, str]) -> float:
    """User + system seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr.decode()[-800:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text("utf-8").splitlines() if line.strip())


def run(quick: bool = False) -> dict[str, Any]:
    """Median per-email CPU (ms) of both clients over alternating repetitions."""
    from collabiq_llm.prompt import OUTPUT_SCHEMA, SYSTEM_PROMPT

    n = 50 if quick else 300  # start-up varies by tens of ms: spread it over 2N emails
    reps = 1 if quick else 5
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="collabiq-cpu-")))
        url, key = stack.enter_context(standalone_emulator("gemini"))
        small, big = tmp / "small.jsonl", tmp / "big.jsonl"
        rows = dataset_texts(3 * n)
        small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:n]))
        big.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        env = clean_env(
            NO_COLOR="1",
            GEMINI_API_KEY=key,
            GOOGLE_GEMINI_BASE_URL=url,
            BENCH_PROMPT_AND_SCHEMA=json.dumps([SYSTEM_PROMPT, OUTPUT_SCHEMA]),
            PYTHONPATH=str(ROOT),
        )
        ours: list[float] = []
        ours_plain: list[float] = []
        bare: list[float] = []
        bare_stream: list[float] = []
        for rep in range(reps):
            home = {"COLLABIQ_HOME": str(tmp / f"home-{rep}")}
            cli = [*collabiq_cmd(), "llm", "extract", "--jsonl", "-n", str(CONCURRENCY)]
            loop = [sys.executable, "-m", "bench.sdk_loop", "--concurrency", str(CONCURRENCY)]
            runs = {}
            for name, source, count in (("small", small, n), ("big", big, 3 * n)):
                for kind, stream in (("ours", "true"), ("ours_plain", "false")):
                    out = tmp / f"{kind}-{name}-{rep}.jsonl"
                    cmd = [*cli, str(source), "--output", str(out)]
                    mode = {"COLLABIQ_PROVIDERS__GEMINI__STREAM": stream}
                    runs[kind, name] = _cpu(cmd, {**env, **home, **mode})
                    if _lines(out) != count:
                        raise RuntimeError("collabiq did not write one line per email")
                for kind, extra in (("bare", []), ("bare_stream", ["--stream"])):
                    out = tmp / f"{kind}-{name}-{rep}.jsonl"
                    runs[kind, name] = _cpu([*loop, *extra, str(source), str(out)], env)
                    if _lines(out) != count:
                        raise RuntimeError("the SDK loop did not write one line per email")
            for kind, into in (
                ("ours", ours),
                ("ours_plain", ours_plain),
                ("bare", bare),
                ("bare_stream", bare_stream),
            ):
                into.append((runs[kind, "big"] - runs[kind, "small"]) / (2 * n))
    ours_ms, bare_ms = median(ours) * 1000, median(bare) * 1000
    stream_ms, ours_plain_ms = median(bare_stream) * 1000, median(ours_plain) * 1000

    def paired(top: list[float], bottom: list[float]) -> list[float]:
        """Ratio within each repetition (its runs alternate, so they share the load)."""
        return [round(a / b, 3) for a, b in zip(top, bottom, strict=True) if b > 0]

    per_rep = {
        "stream": paired(ours, bare_stream),
        "plain": paired(ours_plain, bare),
        "stream_vs_plain": paired(ours, bare),
    }
    ratio, both_plain_ratio, plain_ratio = (median(v) if v else None for v in per_rep.values())
    return {
        "benchmark": "client_cpu",
        "emails": [n, 3 * n],
        "repetitions": reps,
        "concurrency": CONCURRENCY,
        "ours_cpu_ms_per_email": round(ours_ms, 3),
        "ours_no_stream_cpu_ms_per_email": round(ours_plain_ms, 3),
        "bare_sdk_cpu_ms_per_email": round(bare_ms, 3),
        "bare_sdk_stream_cpu_ms_per_email": round(stream_ms, 3),
        "ratios_per_repetition": per_rep,
        "rows": [
            _row(
                f"Batch client CPU per email (`extract --jsonl -n {CONCURRENCY}`, {3 * n} vs {n})",
                ours_ms,
                f"bare `google-genai` streaming loop {stream_ms:.2f} ms (same call as ours)",
                stream_ms,
                ratio,
                bare_key="bare_stream_ms",
            ),
            _row(
                "Batch client CPU per email with `stream = false` (plain `generate_content`)",
                ours_plain_ms,
                f"bare `google-genai` `generate_content` loop {bare_ms:.2f} ms (same call)",
                bare_ms,
                both_plain_ratio,
            ),
            _row(
                "Batch client CPU per email, streaming, against the non-streaming SDK loop",
                ours_ms,
                f"bare `google-genai` `generate_content` loop {bare_ms:.2f} ms",
                bare_ms,
                plain_ratio,
            ),
        ],
    }


def _row(
    figure: str,
    ours_ms: float,
    baseline: str,
    bare_ms: float,
    ratio: float | None,
    *,
    bare_key: str = "bare_ms",
) -> dict[str, Any]:
    """One CPU row: met when the ratio to its same-call baseline is within the target."""
    return row(
        figure,
        f"{ours_ms:.2f} ms",
        baseline,
        ratio,
        f"≤ {TARGET_RATIO:g}×",
        ratio is not None and ratio <= TARGET_RATIO,
        ours_ms=round(ours_ms, 3),
        **{bare_key: round(bare_ms, 3)},
    )


if __name__ == "__main__":
    from bench.common import script_main

    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(script_main(run, __doc__))
