"""Run the real ``collabiq`` CLI in a fresh, isolated home, as a user (or cron) would."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop.paths import COLLABIQ
from tests.emulators.oracle_mode import PROVIDER_ENV

# Never let the caller's keys or base URLs leak into a case: each case names its own.
SCRUBBED_ENV = (
    *PROVIDER_ENV,
    "COLLABIQ_CONFIG",
    "COLLABIQ_STATE_URL",
)


def toml_value(value: Any) -> str:
    """A TOML literal for the plain values a config needs (str, bool, number, list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def config_toml(top: Mapping[str, Any], tables: Mapping[str, Mapping[str, Any]]) -> str:
    """Top-level keys, then one ``[table]`` per entry (dotted names allowed)."""
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for table, values in tables.items():
        lines += ["", f"[{table}]"] + [f"{k} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@dataclass
class CliRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json_lines(self) -> list[dict[str, Any]]:
        """Every stdout line that is a JSON object (results, one per email)."""
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def json(self) -> Any:
        return json.loads(self.stdout)

    def brief_error(self) -> str:
        """The last stderr line (the CLI's one-line error), shortened for a table."""
        lines = [ln for ln in self.stderr.strip().splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""


@dataclass
class Home:
    """One isolated ``COLLABIQ_HOME`` with its config file and environment."""

    path: Path
    env: dict[str, str]

    @classmethod
    def create(
        cls,
        path: Path,
        top: Mapping[str, Any],
        tables: Mapping[str, Mapping[str, Any]],
        env: Mapping[str, str] | None = None,
    ) -> Home:
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.toml").write_text(config_toml(top, tables), encoding="utf-8")
        return cls(path=path, env=dict(env or {}))

    def environ(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        return {**base, "COLLABIQ_HOME": str(self.path), "NO_COLOR": "1", **self.env}

    def run(self, *args: str, stdin: str | None = None, timeout_s: float = 600.0) -> CliRun:
        """``collabiq ARGS`` with cwd = the home (so no stray ``.env`` is read)."""
        argv = [str(COLLABIQ), *args]
        started = time.perf_counter()
        proc = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.path,
            env=self.environ(),
            timeout=timeout_s,
        )
        seconds = time.perf_counter() - started
        return CliRun(argv, proc.returncode, proc.stdout, proc.stderr, seconds)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A running ``collabiq`` whose stdout is read line by line (fault cases)."""
        return subprocess.Popen(
            [str(COLLABIQ), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.path,
            env=self.environ(),
        )

    def status(self) -> dict[str, Any]:
        run = self.run("llm", "status", "--json", timeout_s=60)
        return run.json() if run.returncode == 0 else {}
