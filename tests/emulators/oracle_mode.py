"""Oracle mode: three emulators that answer from the labelled set's ground truth, degraded
per provider by a noise profile (``bench/profiles/*.toml``). A *simulation* for
benchmarks and tests; ``collabiq llm eval`` itself runs unchanged against real providers.

    with OracleFleet(load_dataset(), latency_scale=0.01) as fleet:
        env = fleet.env()                  # keys, base URLs, short provider timeouts
        configs = fleet.provider_configs()  # or ProviderConfig objects for an Orchestrator

Standalone (prints ``export`` lines, then serves until Ctrl-C; or runs one command)::

    python -m tests.emulators.oracle_mode [--latency-scale 0.05] [--seed 0] \
        [-- collabiq llm eval data/eval/emails.jsonl --compare]

Each request's email is found from its prompt (``RecordedRequest.email_text()``);
``simulate_answer`` decides the answer: ``ok`` → that extraction after the simulated
latency × ``latency_scale``; ``invalid`` → a 200 whose model output is the simulated
malformed text; ``timeout`` → the connection hangs (the client's timeout fires).
An email that is not in the set (e.g. ``collabiq llm test``) gets the default answer.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from collabiq_llm.email.parsing import parse_email
from collabiq_llm.entities import normalise_email_text
from collabiq_llm.evaluation.dataset import DEFAULT_DATASET, EvalExample, load_dataset
from collabiq_llm.evaluation.oracle import (
    DEFAULT_PROFILES_DIR,
    ExampleIndex,
    NoiseProfile,
    load_profiles,
    simulate_answer,
)
from collabiq_llm.settings import ProviderConfig
from tests.emulators.behaviour import Behaviour, RecordedRequest
from tests.emulators.fixtures import FLAVOUR_FOR_KIND, env_for, provider_config_for
from tests.emulators.server import Emulator

KINDS: tuple[str, ...] = ("gemini", "claude", "openai")
"""Provider kinds served; the profile of each is ``bench/profiles/<kind>.toml``."""

PROVIDER_ENV: tuple[str, ...] = (
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "OPENAI_BASE_URL",
)
"""Real keys / base URLs that must not leak into a run aimed at the emulators."""

SIMULATION_NOTE = (
    "SIMULATION: answers come from the dataset's ground truth degraded by per-provider "
    "noise profiles (bench/profiles/*.toml), not from real models"
)


def default_timeout_s(latency_scale: float) -> float:
    """A provider timeout well past the slowest simulated answer at this latency scale."""
    return round(max(0.5, 8.0 * latency_scale), 3)


class PromptIndex:
    """Finds the labelled email in a request: the text the product sends is the *cleaned*
    email (``parse_email`` drops headers, quotes, signatures), so it is indexed that way,
    with ``ExampleIndex`` (raw text inside the prompt) as the fallback."""

    def __init__(self, examples: Iterable[EvalExample]) -> None:
        self.examples = list(examples)
        self._cleaned: dict[str, EvalExample] = {}
        for example in self.examples:
            try:
                cleaned = parse_email(example.text, received_at=example.received_at).text
            except Exception:  # an email the product rejects is never sent anyway
                continue
            self._cleaned.setdefault(normalise_email_text(cleaned), example)
        self._raw = ExampleIndex(self.examples)

    def find(self, email_text: str | None) -> EvalExample | None:
        if not email_text:
            return None
        hit = self._cleaned.get(normalise_email_text(email_text))
        return hit if hit is not None else self._raw.find(email_text)


def _usage(req: RecordedRequest, extraction: Mapping[str, object] | None) -> tuple[int, int]:
    """Rough token counts (≈ 3 characters a token) so cost per email is not zero."""
    prompt = (req.system_prompt() or "") + (req.user_prompt() or "")
    out = json.dumps(extraction or {}, ensure_ascii=False)
    return max(1, math.ceil(len(prompt) / 3)), max(1, math.ceil(len(out) / 3))


class OracleResponder:
    """The ``Behaviour.respond`` callback of one emulated provider."""

    def __init__(
        self,
        emulator: Emulator,
        index: PromptIndex,
        profile: NoiseProfile,
        *,
        seed: int,
        latency_scale: float,
        hang_s: float = 60.0,
    ) -> None:
        self.emulator = emulator
        self.index = index
        self.profile = profile
        self.seed = seed
        self.latency_scale = latency_scale
        self.hang_s = hang_s
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def __call__(self, req: RecordedRequest) -> Behaviour:
        example = self.index.find(req.email_text())
        if example is None:
            self._count("unknown")
            median_s = self.profile.latency_ms_median / 1000.0
            return Behaviour.ok(latency_s=median_s * self.latency_scale)
        answer = simulate_answer(example, self.profile, seed=self.seed)
        self._count(answer.kind)
        latency = answer.latency_ms / 1000.0 * self.latency_scale
        if answer.kind == "timeout":
            return Behaviour.hang(max_s=self.hang_s)
        if answer.kind == "invalid":  # rendered per request: streamed or whole, as asked
            return Behaviour.text_output(answer.raw_text or "", latency_s=latency)
        return Behaviour.ok(
            answer.extraction, latency_s=latency, usage=_usage(req, answer.extraction)
        )


class OracleFleet:
    """One oracle emulator per provider kind (gemini, claude → anthropic, openai)."""

    def __init__(
        self,
        examples: Sequence[EvalExample],
        *,
        profiles: Mapping[str, NoiseProfile] | None = None,
        profiles_dir: str | Path = DEFAULT_PROFILES_DIR,
        seed: int = 0,
        latency_scale: float = 1.0,
        kinds: Sequence[str] = KINDS,
        timeout_s: float | None = None,
    ) -> None:
        loaded = dict(profiles) if profiles is not None else load_profiles(profiles_dir)
        missing = [k for k in kinds if k not in loaded]
        if missing:
            raise ValueError(f"no noise profile for {missing} in {profiles_dir}")
        self.seed = seed
        self.latency_scale = latency_scale
        self.timeout_s = timeout_s if timeout_s is not None else default_timeout_s(latency_scale)
        self.index = PromptIndex(examples)
        self.emulators: dict[str, Emulator] = {}
        self.responders: dict[str, OracleResponder] = {}
        for kind in kinds:
            emu = Emulator(FLAVOUR_FOR_KIND[kind])
            responder = OracleResponder(
                emu, self.index, loaded[kind], seed=seed, latency_scale=latency_scale
            )
            emu.set_default(Behaviour.respond(responder))
            self.emulators[kind] = emu
            self.responders[kind] = responder

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> OracleFleet:
        for emu in self.emulators.values():
            emu.start()
        return self

    def stop(self) -> None:
        for emu in self.emulators.values():
            emu.stop()

    def __enter__(self) -> OracleFleet:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- pointing the product at it ------------------------------------------
    def env(self) -> dict[str, str]:
        """Keys, base URLs and provider timeouts for the shipped config (CLI subprocesses)."""
        out: dict[str, str] = {}
        for kind, emu in self.emulators.items():
            out.update(env_for(emu, kind))
            out[f"COLLABIQ_PROVIDERS__{kind.upper()}__TIMEOUT_S"] = f"{self.timeout_s:g}"
        return out

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) without real keys / base URLs, plus ``env()``."""
        source = os.environ if base is None else base
        clean = {k: v for k, v in source.items() if k not in PROVIDER_ENV}
        return {**clean, **self.env()}

    def provider_configs(self) -> dict[str, ProviderConfig]:
        """``ProviderConfig`` per kind, aimed at its emulator (base URL, short timeout)."""
        return {
            kind: provider_config_for(emu, kind, timeout_s=self.timeout_s)
            for kind, emu in self.emulators.items()
        }

    def api_keys(self) -> dict[str, str]:
        return {kind: emu.api_key for kind, emu in self.emulators.items()}

    def answer_counts(self) -> dict[str, dict[str, int]]:
        """What each emulator answered so far (ok / invalid / timeout / unknown)."""
        return {kind: dict(r.counts) for kind, r in self.responders.items()}


# ---------------------------------------------------------------------- standalone
def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.oracle_mode", description=SIMULATION_NOTE
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--profiles", type=Path, default=DEFAULT_PROFILES_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--latency-scale", type=float, default=1.0, help="latency factor (0.01: fast)"
    )
    return parser.parse_args(argv), command


def main(argv: list[str] | None = None) -> int:
    args, command = _parse(argv)
    examples = load_dataset(args.dataset)
    with OracleFleet(
        examples, profiles_dir=args.profiles, seed=args.seed, latency_scale=args.latency_scale
    ) as fleet:
        print(f"# {SIMULATION_NOTE}", file=sys.stderr)
        if command:
            return subprocess.call(command, env=fleet.subprocess_env())
        for name, value in fleet.env().items():
            print(f"export {name}={value}", flush=True)
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        done.wait()
        print(f"answers: {fleet.answer_counts()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
