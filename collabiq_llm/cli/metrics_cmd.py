"""``collabiq llm metrics``: the status report for Prometheus (reads state only)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from collabiq_llm.cli.output import ExitCode
from collabiq_llm.errors import InputError


def run_metrics(output: Path | None) -> int:
    from collabiq_llm.metrics import render_metrics
    from collabiq_llm.status import current_status

    text = render_metrics(current_status()[2])
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return int(ExitCode.OK)
    # the textfile collector must never read a half-written file: temp file + rename
    folder = output.parent if str(output.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return int(ExitCode.OK)
