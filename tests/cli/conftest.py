"""Helpers for the CLI tests: the real ``collabiq`` in-process (``invoke``) and as a subprocess.

``invoke`` runs :func:`collabiq_llm.cli.app.main` (not ``app`` alone) inside Typer's
``CliRunner`` isolation, so the error -> exit-code mapping of ``main()`` is part of
what is tested, with stdout and stderr captured separately. ``run_cli`` starts
``python -m collabiq_llm.cli.app`` in a fresh interpreter, as cron would.

The suite-wide autouse fixture (``tests/conftest.py``) has already pointed
``COLLABIQ_HOME`` at a temp folder, removed every key and base URL and moved the
cwd to a temp folder; both helpers inherit that environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.emulators import Behaviour, Emulator
from tests.emulators.fixtures import env_for

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TERMINAL_VARS = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")


@dataclass
class CliResult:
    """What one ``collabiq`` run produced."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as one JSON document."""
        return json.loads(self.stdout)

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as JSONL."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No colour forcing from the developer's shell; wide enough tables by default."""
    for var in TERMINAL_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "120")


def invoke(
    *args: str, input: str | bytes | None = None, env: Mapping[str, str | None] | None = None
) -> CliResult:
    """Run ``collabiq ARGS`` in this process through ``main()`` (exit codes mapped)."""
    from collabiq_llm.cli.app import main

    runner = CliRunner()
    code = 0
    old_argv = sys.argv
    with runner.isolation(input=input, env=env) as (out, err, _mixed):
        sys.argv = ["collabiq", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = old_argv
            sys.stdout.flush()
            sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    return CliResult(code, stdout, stderr)


def cli_command() -> list[str]:
    """The argv prefix that starts the real command in a new interpreter."""
    return [sys.executable, "-m", "collabiq_llm.cli.app"]


def subprocess_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This (isolated) environment plus ``env``; the repo on PYTHONPATH."""
    merged = {**os.environ, "PYTHONPATH": str(REPO)}
    merged.update(env or {})
    return merged


def run_on_terminal(
    args: list[str],
    env: Mapping[str, str],
    *,
    stdout: bool = False,
    stderr: bool = True,
    timeout: float = 60.0,
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run ``args`` with stdout and/or stderr on one pseudo-terminal (the others piped);
    the finished process and everything drawn on the terminal. The terminal is read
    while the command runs, so a long output never fills it and blocks the command."""
    import pty
    import threading

    leader, follower = pty.openpty()
    drawn: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every end of the terminal's follower side closed
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=follower if stdout else subprocess.PIPE,
            stderr=follower if stderr else subprocess.PIPE,
            env=subprocess_env(env),
        )
        os.close(follower)
        follower = -1
        reader.start()
        out, err = proc.communicate(timeout=timeout)
        reader.join(timeout=timeout)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    done = subprocess.CompletedProcess(args, proc.returncode, out or b"", err or b"")
    return done, b"".join(drawn)


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 60.0,
) -> CliResult:
    """Run ``collabiq ARGS`` as a subprocess; stdin gets ``input`` (else /dev/null)."""
    data = input.encode("utf-8") if isinstance(input, str) else input
    proc = subprocess.run(
        [*cli_command(), *args],
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env(env),
        timeout=timeout,
        check=False,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@dataclass
class Providers:
    """The three emulators, with the env that points the shipped config at them."""

    gemini: Emulator
    claude: Emulator
    openai: Emulator
    env: dict[str, str]

    def by_name(self) -> dict[str, Emulator]:
        return {"gemini": self.gemini, "claude": self.claude, "openai": self.openai}


@pytest.fixture
def providers(
    emulator_factory: Callable[..., Emulator],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Providers]:
    """Gemini, Claude and OpenAI emulators answering at once; their keys and URLs in os.environ.

    Hedging is off: a cold SDK import can take longer than the hedge delay, and a
    hedge would add calls the exact-count assertions do not expect.
    """
    emus = {
        "gemini": emulator_factory("gemini", default=Behaviour.ok()),
        "claude": emulator_factory("anthropic", default=Behaviour.ok()),
        "openai": emulator_factory("openai", default=Behaviour.ok()),
    }
    env: dict[str, str] = {"COLLABIQ_FAILOVER__HEDGE": "false"}
    for emu in emus.values():
        env.update(env_for(emu))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield Providers(emus["gemini"], emus["claude"], emus["openai"], env)


def write_jsonl(path: Path, rows: list[dict[str, Any] | str | bytes]) -> Path:
    """One line per row: dicts as JSON, str / bytes verbatim (for malformed lines)."""
    with path.open("wb") as fh:
        for row in rows:
            if isinstance(row, dict):
                fh.write(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            elif isinstance(row, str):
                fh.write(row.encode("utf-8"))
            else:
                fh.write(row)
            fh.write(b"\n")
    return path
