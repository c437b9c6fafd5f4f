"""Helpers shared by the benchmarks: result rows, timing, a sample email, clean environments.

Every figure is reported next to a baseline measured in the same run (the machine is
shared, so absolute times drift; ratios measured side by side do not).
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.emulators.oracle_mode import PROVIDER_ENV as ORACLE_PROVIDER_ENV

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_ENV = ORACLE_PROVIDER_ENV  # real keys / base URLs never reach a benchmark run


def row(
    figure: str,
    measured: str,
    baseline: str,
    ratio: float | None,
    target: str = "—",
    met: bool | None = None,
    *,
    ratio_text: str | None = None,
    **values: Any,
) -> dict[str, Any]:
    """One line of the results table; ``values`` keeps the raw numbers for results.json."""
    return {
        "figure": figure,
        "measured": measured,
        "baseline": baseline,
        "ratio": None if ratio is None else round(ratio, 3),
        "ratio_text": ratio_text if ratio_text is not None else _ratio_text(ratio),
        "target": target,
        "met": met,
        "values": values,
    }


def _ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.2f}×" if ratio < 100 else f"{ratio:.0f}×"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s"


def sample_email(index: int = 0):
    """A labelled email parsed as the CLI would (``EmailInput``)."""
    from collabiq_llm.evaluation.dataset import load_dataset
    from collabiq_llm.evaluation.runner import email_for

    return email_for(load_dataset()[index])


def dataset_texts(n: int) -> list[dict[str, str]]:
    """``n`` JSONL batch lines cycled from the labelled set."""
    from collabiq_llm.evaluation.dataset import load_dataset

    examples = load_dataset()
    return [
        {
            "text": examples[i % len(examples)].text,
            "received_at": examples[i % len(examples)].received_at.isoformat(),
        }
        for i in range(n)
    ]


def clean_env(extra: Mapping[str, str] | None = None, **more: str) -> dict[str, str]:
    """The current environment without real keys / base URLs / COLLABIQ_* settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROVIDER_ENV and not k.startswith("COLLABIQ_")
    }
    env.update(extra or {})
    env.update(more)
    return env


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def collabiq_cmd() -> list[str]:
    """The installed ``collabiq`` entry point next to this interpreter (else ``-m``)."""
    script = Path(sys.executable).with_name("collabiq")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "collabiq_llm.cli.app"]


def memory_store():
    """A state store that keeps nothing (to measure orchestration without state I/O)."""
    from collabiq_llm.state.api import OrchestrationConfig, Permit, StateSnapshot

    class MemoryStore:
        backend = "memory"

        def acquire(self, provider: str, **_: object) -> Permit:
            return Permit(allowed=True)

        def record_call(self, event: object) -> None:
            return None

        def record_email(self, entry: object) -> None:
            return None

        def read_ledger(self, limit: int | None = None) -> list:
            return []

        def snapshot(self) -> StateSnapshot:
            return StateSnapshot(backend="memory", location="")

        def get_orchestration(self) -> OrchestrationConfig:
            return OrchestrationConfig()

        def set_orchestration(self, config: OrchestrationConfig) -> OrchestrationConfig:
            return config

        def reset(self, provider: str) -> None:
            return None

    return MemoryStore()


def script_main(run: Callable[..., dict[str, Any]], doc: str | None) -> int:
    """``python -m bench.bench_X [--quick]``: run one benchmark, print its figures as JSON."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    json.dump(run(quick=parser.parse_args().quick), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
