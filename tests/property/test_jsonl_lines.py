"""Hostile JSONL lines: N non-blank lines in ⇒ exactly N records out, in order, no crash."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.batch import run_batch
from collabiq_llm.dead_letters import DeadLetterBox
from collabiq_llm.entities import ExtractionResult
from collabiq_llm.orchestration.orchestrator import Orchestrator
from tests.cli.conftest import invoke
from tests.property.strategies import jsonl_raw_line


def _check_records(lines: list[bytes], records: list[str]) -> None:
    numbers = [n for n, raw in enumerate(lines, start=1) if raw.strip()]
    assert len(records) == len(numbers)
    for n, record in zip(numbers, records, strict=True):
        record.encode("utf-8")  # always writable as UTF-8
        obj = json.loads(record)
        if "error" in obj:
            assert obj["line"] == n  # each error names its own line: nothing shifted
            assert obj["error_kind"] == "bad_input", obj  # never "internal": no bug reached
        else:
            ExtractionResult.model_validate(obj)


@settings(max_examples=40)
@given(lines=st.lists(jsonl_raw_line, min_size=1, max_size=6))
def test_every_line_ends_as_exactly_one_record(lines: list[bytes], isolated_home: Path) -> None:
    """Through the real orchestrator (no key set: the offline extractor answers)."""
    records: list[str] = []
    orchestrator = Orchestrator()

    async def go():
        try:
            return await run_batch(
                lambda email: orchestrator.aextract(email, "failover"),
                lines,
                records.append,
                dead_letters=DeadLetterBox(isolated_home / "dead_letters"),
                strategy="failover",
                concurrency=3,
            )
        finally:
            await orchestrator.aclose()

    summary = asyncio.run(go())
    _check_records(lines, records)
    assert summary.lines == len(records) == summary.ok + summary.bad_lines
    assert (summary.internal, summary.dead_lettered, summary.unkept) == (0, 0, 0)


@settings(max_examples=8)
@given(lines=st.lists(jsonl_raw_line, min_size=1, max_size=5))
def test_the_command_never_shows_a_traceback(
    lines: list[bytes], tmp_path_factory, isolated_home: Path
) -> None:
    path = tmp_path_factory.mktemp("in") / "emails.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    res = invoke("llm", "extract", "--jsonl", str(path))
    internal = [x for x in res.json_lines() if x.get("error_kind") == "internal"]
    assert "Traceback" not in res.stderr and not internal, internal
    bad = sum(1 for x in res.json_lines() if "error" in x)
    assert res.exit_code == (2 if bad else 0), res.stderr
    _check_records(lines, res.stdout.splitlines())
