"""JSONL batches: 1,000 lines through a provider that fails part-way, and streaming memory."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabiq_llm.batch import run_batch
from collabiq_llm.dead_letters import DeadLetterBox
from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ExtractionResult
from collabiq_llm.status import StatusReport
from tests.cli.conftest import Providers, run_cli, write_jsonl
from tests.emulators import Behaviour, RecordedRequest

LINES = 1_000
OUTAGE = range(300, 320)  # the provider's requests number 300..319 get a 503
BAD = {5, 97, 250, 251, 499, 777, 998}  # 0-based input lines that are malformed


def _batch_input(path: Path) -> list[str | None]:
    """Write the input; return the email_id expected on each output line (None = bad line)."""
    rows: list[dict[str, str] | str | bytes] = []
    expected: list[str | None] = []
    for i in range(LINES):
        if i in BAD:
            rows.append(b'{"text": "\xc3\x28 invalid utf-8"}' if i % 2 else '{"text": ')
            expected.append(None)
            continue
        rows.append(
            {
                "email_id": f"b-{i:04d}",
                "text": f"본봄 x 신세계인터내셔널 파일럿 킥오프 #{i}. 담당자: 김철수 매니저",
                "received_at": "2025-11-04",
            }
        )
        expected.append(f"b-{i:04d}")
    write_jsonl(path, rows)
    return expected


@pytest.mark.slow
def test_thousand_lines_provider_fails_part_way_then_replay_drains(
    tmp_path: Path, providers: Providers, isolated_home: Path
) -> None:
    lock = threading.Lock()
    served = 0

    def flaky(req: RecordedRequest) -> Behaviour:
        nonlocal served
        with lock:
            served += 1
            n = served
        return Behaviour.status(503) if n in OUTAGE else Behaviour.ok()

    providers.gemini.set_default(Behaviour.respond(flaky))
    # gemini alone, no last resort: an email gemini fails on is dead-lettered
    env = {
        "COLLABIQ_PRIORITY": '["gemini"]',
        "COLLABIQ_OFFLINE_LAST_RESORT": "false",
        "COLLABIQ_BREAKER__COOLDOWN_S": "0.05",
        "COLLABIQ_BREAKER__HALF_OPEN_MAX_PROBES": "8",
        # exact call accounting below: on a loaded machine the 1.5 s no-history first-event
        # deadline can fail a call before its request reached the emulator
        "COLLABIQ_FAILOVER__FIRST_BYTE_DEFAULT_S": "60",
        "COLLABIQ_FAILOVER__FIRST_BYTE_CAP_S": "60",
    }
    expected = _batch_input(tmp_path / "emails.jsonl")
    out = tmp_path / "results.jsonl"
    res = run_cli(
        "llm", "extract", "--jsonl", "--concurrency", "8", str(tmp_path / "emails.jsonl"),
        "--output", str(out), env=env, timeout=120,
    )  # fmt: skip
    assert res.exit_code == 3, res.stderr
    assert res.stdout == ""
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert len(lines) == LINES  # one output line per input line

    dead: list[str] = []
    ok = 0
    for i, (line, want) in enumerate(zip(lines, expected, strict=True)):
        if want is None:
            assert line["line"] == i + 1 and line["error_kind"] == "bad_input"
            continue
        assert line["email_id"] == want  # input order kept
        if line.get("dead_letter"):
            assert line["line"] == i + 1 and line["error_kind"] == "all_providers_failed"
            dead.append(want)
        else:
            ExtractionResult.model_validate(line)
            ok += 1
    assert any(
        "invalid UTF-8" in x.get("error", "") or "UTF-8" in x.get("error", "") for x in lines
    )
    assert dead, "the outage should have dead-lettered some emails"
    assert ok + len(dead) + len(BAD) == LINES
    assert f"{LINES} lines: {ok} extracted, {len(BAD)} bad, {len(dead)} kept" in res.stderr

    box = DeadLetterBox(isolated_home / "dead_letters")
    assert sorted(x.email_id for x in box.list()) == sorted(dead)  # nothing dropped
    status = StatusReport.model_validate_json(run_cli("llm", "status", "--json", env=env).stdout)
    gemini = status.providers["gemini"]
    assert gemini.calls == providers.gemini.request_count  # every call counted once
    assert gemini.failures == len(OUTAGE)
    assert status.totals.emails == LINES - len(BAD)

    # the provider is back: replay drains the box, every result written
    assert run_cli("llm", "reset", "gemini", env=env).exit_code == 0
    replay = run_cli("llm", "dead-letters", "replay", env=env, timeout=120)
    assert replay.exit_code == 0, replay.stderr
    replayed = [ExtractionResult.model_validate_json(x) for x in replay.stdout.splitlines()]
    assert sorted(r.email_id for r in replayed) == sorted(dead)
    assert f"replayed {len(dead)} of {len(dead)} with failover; 0 still kept" in replay.stderr
    assert len(box) == 0


class _Result:
    def __init__(self, email: EmailInput) -> None:
        self.email = email

    def model_dump_json(self) -> str:
        return json.dumps({"email_id": self.email.email_id})


def test_batch_streams_with_a_bounded_window(tmp_path: Path) -> None:
    """Lines are pulled only as results are written: memory is flat on any input size."""
    total = 5_000
    concurrency = 8
    pulled = 0
    written: list[str] = []
    in_flight = 0
    peak_window = 0
    peak_in_flight = 0

    def lines() -> Iterator[bytes]:
        nonlocal pulled, peak_window
        for i in range(total):
            pulled += 1
            peak_window = max(peak_window, pulled - len(written))
            yield json.dumps({"email_id": f"s-{i}", "text": f"본봄 미팅 {i}"}).encode()

    async def extract(email: EmailInput) -> _Result:
        nonlocal in_flight, peak_in_flight
        in_flight += 1
        peak_in_flight = max(peak_in_flight, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return _Result(email)

    summary = asyncio.run(
        run_batch(
            extract,
            lines(),
            written.append,
            dead_letters=DeadLetterBox(tmp_path / "dl"),
            strategy="failover",
            concurrency=concurrency,
        )
    )
    assert summary.lines == summary.ok == total
    assert [json.loads(x)["email_id"] for x in written] == [f"s-{i}" for i in range(total)]
    assert peak_window <= 4 * concurrency + 1  # never more than the window in memory
    assert peak_in_flight == concurrency
