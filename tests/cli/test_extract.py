"""``collabiq llm extract``: files, stdin, several files, --output, --received-at, --jsonl."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from collabiq_llm.entities import ExtractionResult
from tests.cli.conftest import ANSI, SAMPLES, Providers, invoke, run_cli, write_jsonl
from tests.emulators import Behaviour, RecordedRequest

KICKOFF = SAMPLES / "ko_pilot_kickoff.eml"
EMAIL = "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. 담당자: 김철수 매니저"


def test_one_file_gives_one_json_object_offline() -> None:
    """No key set: the offline extractor answers; piped stdout is one compact JSON line."""
    res = invoke("llm", "extract", str(KICKOFF))
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert (result.person_in_charge, result.startup_name, result.partner_org) == (
        "김철수",
        "본봄",
        "신세계인터내셔널",
    )
    assert str(result.date) == "2025-11-01"
    assert result.meta.provider == "offline"
    assert res.stdout.count("\n") == 1  # not a terminal: one line, so `>> x.jsonl` is JSONL
    assert not ANSI.search(res.stdout + res.stderr)
    pretty = invoke("llm", "extract", "--pretty", str(KICKOFF))
    assert pretty.stdout.startswith("{\n  ") and ExtractionResult.model_validate_json(pretty.stdout)


def test_cron_appends_stay_valid_jsonl(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    for _ in range(2):
        res = run_cli("llm", "extract", "-", input=KICKOFF.read_bytes())
        assert res.exit_code == 0, res.stderr
        with records.open("a", encoding="utf-8") as fh:
            fh.write(res.stdout)
    lines = records.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert all(ExtractionResult.model_validate_json(line) for line in lines)


def test_stdin_dash_and_received_at_anchor_relative_dates() -> None:
    res = invoke("llm", "extract", "-", "--received-at", "2025-11-04", input=EMAIL)
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert str(result.date) == "2025-11-03"  # 어제 relative to the given day
    res = invoke("llm", "extract", input=EMAIL)  # no FILE = stdin
    assert res.exit_code == 0
    ExtractionResult.model_validate_json(res.stdout)


def test_bad_received_at_is_usage_error() -> None:
    res = invoke("llm", "extract", "-", "--received-at", "next tuesday", input=EMAIL)
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "received_at" in res.stderr and "Traceback" not in res.stderr


def test_several_files_one_line_each_in_input_order(tmp_path: Path) -> None:
    """Several inputs: one compact JSON line per input, in order; a bad one gets an error line."""
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    names = [
        str(SAMPLES / "en_partnership.eml"),
        str(empty),
        str(tmp_path / "missing.eml"),
        str(KICKOFF),
        str(SAMPLES / "mixed_ko_en.txt"),
    ]
    res = invoke("llm", "extract", *names)
    assert res.exit_code == 2  # bad inputs, reported at the end
    lines = res.json_lines()
    assert len(lines) == len(names)
    assert [line.get("startup_name") for line in lines] == [
        "그린웨이브",
        None,
        None,
        "본봄",
        "테이블매니저",
    ]
    assert lines[1]["error_kind"] == "bad_input" and lines[1]["source"] == str(empty)
    assert "only whitespace" in lines[1]["error"]
    assert lines[2]["error"] == f"file not found: {tmp_path / 'missing.eml'}"
    for i in (0, 3, 4):
        ExtractionResult.model_validate(lines[i])
    assert "missing.eml" in res.stderr and "Traceback" not in res.stderr


def test_one_bad_file_alone_is_exit_2_without_output(tmp_path: Path) -> None:
    res = invoke("llm", "extract", str(tmp_path / "nope.eml"))
    assert (res.exit_code, res.stdout) == (2, "")
    assert res.stderr.strip() == f"error: file not found: {tmp_path / 'nope.eml'}"
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Réunion avec Bonbom, responsable: Kim".encode("latin-1"))
    res = invoke("llm", "extract", str(latin))
    assert res.exit_code == 2 and "not valid UTF-8" in res.stderr
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    res = invoke("llm", "extract", str(binary))
    assert res.exit_code == 2 and "binary" in res.stderr


def test_output_file(tmp_path: Path, providers: Providers) -> None:
    out = tmp_path / "out" / "result.jsonl"
    out.parent.mkdir()
    res = invoke(
        "llm", "extract", str(KICKOFF), str(SAMPLES / "en_partnership.eml"), "-o", str(out)
    )
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    rows = [ExtractionResult.model_validate_json(x) for x in out.read_text("utf-8").splitlines()]
    assert [r.meta.provider for r in rows] == ["gemini", "gemini"]
    # one email + --output: one compact line in the file
    res = invoke("llm", "extract", str(KICKOFF), "--output", str(out))
    assert res.exit_code == 0 and len(out.read_text("utf-8").splitlines()) == 1


def test_unwritable_output_fails_before_any_provider_call(
    tmp_path: Path, providers: Providers
) -> None:
    res = invoke("llm", "extract", str(KICKOFF), "-o", str(tmp_path / "no" / "such" / "dir.json"))
    assert res.exit_code == 2
    assert "cannot write" in res.stderr
    assert providers.gemini.request_count == 0


def test_subprocess_extract_against_emulators(providers: Providers) -> None:
    """A real process, the shipped config, keys and base URLs from the environment."""
    res = run_cli("llm", "extract", "-", input=EMAIL)
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert result.meta.provider == "gemini" and result.meta.strategy == "failover"
    assert (result.meta.input_tokens, result.meta.output_tokens) == (120, 40)
    assert result.meta.cost_usd == pytest.approx((120 * 0.30 + 40 * 2.50) / 1e6)
    assert providers.gemini.request_count == 1
    assert providers.claude.request_count == providers.openai.request_count == 0
    assert res.stderr == ""


def test_strategy_option_overrides_for_one_run(providers: Providers) -> None:
    res = invoke("llm", "extract", "-", "--strategy", "consensus", input=EMAIL)
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert result.meta.strategy == "consensus"
    assert {a.provider for a in result.meta.attempts} == {"gemini", "claude", "openai"}
    res = invoke("llm", "extract", "-", "--strategy", "majority", input=EMAIL)
    assert res.exit_code == 2
    assert "failover, consensus, best-match" in res.stderr


def test_all_providers_failing_keeps_the_email_and_exits_3(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABIQ_OFFLINE_LAST_RESORT", "false")
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(503))
    res = invoke("llm", "extract", "-", input=EMAIL)
    assert res.exit_code == 3
    record = res.json()
    assert record["dead_letter"] is True and record["error_kind"] == "all_providers_failed"
    assert "kept in" in res.stderr
    listed = invoke("llm", "dead-letters", "list", "--json").json()
    assert [x["email_id"] for x in listed] == [record["email_id"]]
    assert set(listed[0]["errors"]) == {"gemini", "claude", "openai"}


def test_offline_last_resort_answers_when_every_remote_fails(providers: Providers) -> None:
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(500))
    res = invoke("llm", "extract", "-", input=EMAIL)
    assert res.exit_code == 0, res.stderr
    result = ExtractionResult.model_validate_json(res.stdout)
    assert result.meta.provider == "offline"
    assert result.meta.degraded and result.meta.fallback_used
    assert "degraded result (answered by the offline extractor): gemini server:" in res.stderr
    assert "claude server:" in res.stderr and "openai server:" in res.stderr


# ---- --jsonl ---------------------------------------------------------------------------------


def _rows(n: int) -> list[dict[str, str]]:
    return [
        {"email_id": f"mail-{i:03d}", "text": f"{EMAIL} (#{i})", "received_at": "2025-11-04"}
        for i in range(n)
    ]


def test_jsonl_one_result_line_per_input_line_in_order(
    tmp_path: Path, providers: Providers
) -> None:
    """Bad lines (JSON, UTF-8, shape, date) get error lines; the rest come back in order."""
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(req: RecordedRequest) -> Behaviour:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return Behaviour.ok()

    providers.gemini.set_default(Behaviour.respond(slow))
    rows: list[dict[str, str] | str | bytes] = list(_rows(30))
    rows[3] = "{not json"
    rows[7] = b'{"text": "\xff\xfe broken"}'
    rows[11] = '["a list"]'
    rows[15] = '{"email_id": "x"}'
    rows[19] = json.dumps({"text": EMAIL, "received_at": "someday"})
    rows[23] = "   "  # blank lines are skipped, nothing is written for them
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    res = invoke("llm", "extract", "--jsonl", "--concurrency", "8", str(path))
    assert res.exit_code == 2  # bad lines, no dead letters
    lines = res.json_lines()
    assert len(lines) == 29
    bad = {line["line"]: line for line in lines if line.get("error_kind") == "bad_input"}
    assert sorted(bad) == [4, 8, 12, 16, 20]
    assert bad[4]["error"].startswith("not valid JSON")
    assert "not valid UTF-8" in bad[8]["error"]
    assert "received_at" in bad[20]["error"]
    good = [line for line in lines if "error" not in line]
    expected = [f"mail-{i:03d}" for i in range(30) if i not in (3, 7, 11, 15, 19, 23)]
    assert [line["email_id"] for line in good] == expected  # input order kept
    for line in good:
        assert str(ExtractionResult.model_validate(line).date) == "2025-11-01"
    assert 2 <= peak <= 8  # up to N in flight, never more
    assert "29 lines: 24 extracted, 5 bad, 0 kept in dead letters" in res.stderr
    assert not ANSI.search(res.stderr)  # no progress bar: stderr is not a terminal


def test_jsonl_from_stdin_with_output_file(tmp_path: Path) -> None:
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in _rows(5)) + "\n"
    out = tmp_path / "results.jsonl"
    res = invoke("llm", "extract", "--jsonl", "-", "-o", str(out), input=data)
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    ids = [json.loads(x)["email_id"] for x in out.read_text("utf-8").splitlines()]
    assert ids == [f"mail-{i:03d}" for i in range(5)]


def test_jsonl_missing_second_file_fails_before_any_line(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", list(_rows(2)))
    res = invoke("llm", "extract", "--jsonl", str(first), str(tmp_path / "b.jsonl"))
    assert (res.exit_code, res.stdout) == (2, "")
    assert "file not found" in res.stderr


def test_jsonl_dead_letters_and_exit_3(
    tmp_path: Path, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emails every provider fails on are kept; their lines say so; the batch goes on."""
    monkeypatch.setenv("COLLABIQ_OFFLINE_LAST_RESORT", "false")

    def by_text(req: RecordedRequest) -> Behaviour:
        return Behaviour.status(503) if "(#2)" in (req.email_text() or "") else Behaviour.ok()

    for emu in providers.by_name().values():
        emu.set_default(Behaviour.respond(by_text))
    path = write_jsonl(tmp_path / "in.jsonl", list(_rows(4)))
    res = invoke("llm", "extract", "--jsonl", str(path))
    assert res.exit_code == 3
    lines = res.json_lines()
    assert [line["email_id"] for line in lines] == [f"mail-{i:03d}" for i in range(4)]
    assert lines[2] == {
        "line": 3,
        "error": lines[2]["error"],
        "error_kind": "all_providers_failed",
        "email_id": "mail-002",
        "dead_letter": True,
    }
    letters = invoke("llm", "dead-letters", "list", "--json").json()
    assert [x["email_id"] for x in letters] == ["mail-002"]
    assert letters[0]["source"] == "line 3"


def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    """On a pseudo-terminal stderr shows a live progress line; stdout stays pure JSONL."""
    from tests.cli.conftest import cli_command, run_on_terminal

    path = write_jsonl(tmp_path / "in.jsonl", list(_rows(3)))
    proc, seen = run_on_terminal(
        [*cli_command(), "llm", "extract", "--jsonl", str(path)], {"TERM": "xterm-256color"}
    )
    assert proc.returncode == 0
    assert len(proc.stdout.decode().splitlines()) == 3
    assert not ANSI.search(proc.stdout.decode())
    text = seen.decode("utf-8", "replace")
    assert ANSI.search(text)  # the live display's control codes
    assert "3 lines: 3 extracted" in text


def test_a_huge_jsonl_line_is_one_error_line_and_memory_stays_bounded() -> None:
    import io

    from collabiq_llm.cli.extract_cmd import MAX_LINE_BYTES, OVERSIZED_LINE, _bounded_lines

    data = b'{"text": "a"}\n' + b"x" * (3 * MAX_LINE_BYTES) + b"\n" + b'{"text": "b"}'
    lines = list(_bounded_lines(io.BytesIO(data)))
    assert lines == [b'{"text": "a"}\n', OVERSIZED_LINE, b'{"text": "b"}']
