"""Issue 11: every input line ends as a result, an error line or a dead letter — always.

Each test runs the real command (mostly as a subprocess, as cron would) and counts
records: N emails in ⇒ N records out, no traceback, the documented exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox
from collabiq_llm.entities import ExtractionResult
from tests.cli.conftest import Providers, cli_command, invoke, run_cli, subprocess_env, write_jsonl
from tests.emulators import Behaviour

NO_TRACE = ("Traceback", "Task exception was never retrieved", "Exception ignored")


def _email(i: int) -> dict[str, str]:
    return {"email_id": f"m-{i:03d}", "text": f"본봄 x 한빛유통 킥오프 #{i}. 담당자: 김민수 매니저"}


def _nested_mime(depth: int) -> str:
    msg = "Content-Type: text/plain\n\nhi"
    for d in range(depth):
        msg = f"Content-Type: multipart/mixed; boundary=b{d}\n\n--b{d}\n{msg}\n--b{d}--\n"
    return "From: a@example.com\nMIME-Version: 1.0\n" + msg


def _no_trace(stderr: str) -> None:
    for marker in NO_TRACE:
        assert marker not in stderr, stderr[-2000:]


def test_hundred_lines_with_hostile_lines_5_10_15_give_97_results_and_3_errors(
    tmp_path: Path,
) -> None:
    """Cases 1–2 of the issue: a lone surrogate, JSON 50,000 deep, MIME 1,500 deep."""
    rows: list[dict[str, str] | str] = [_email(i) for i in range(1, 101)]
    rows[4] = '{"text": "\\ud800 본봄 미팅", "email_id": "surrogate"}'
    rows[9] = "[" * 50_000 + "]" * 50_000
    rows[14] = json.dumps({"text": _nested_mime(1_500), "email_id": "deep-mime"})
    path = write_jsonl(tmp_path / "in.jsonl", rows)  # type: ignore[arg-type]
    res = run_cli("llm", "extract", "--jsonl", str(path))
    assert res.exit_code == 2, res.stderr
    _no_trace(res.stderr)
    lines = res.json_lines()
    assert len(lines) == 100
    errors = [(i + 1, x) for i, x in enumerate(lines) if "error" in x]
    assert [n for n, _ in errors] == [5, 10, 15]
    assert [x["line"] for _, x in errors] == [5, 10, 15]
    assert all(x["error_kind"] == "bad_input" for _, x in errors)
    assert "surrogate" in errors[0][1]["error"] and "nested too deeply" in errors[1][1]["error"]
    assert "nested too deeply" in errors[2][1]["error"]
    results = [ExtractionResult.model_validate(x) for x in lines if "error" not in x]
    expected = [f"m-{i:03d}" for i in range(1, 101) if i not in (5, 10, 15)]
    assert [r.email_id for r in results] == expected  # 97, in input order
    assert "100 lines: 97 extracted, 3 bad" in res.stderr


def _providers_down(providers: Providers, home: Path) -> dict[str, str]:
    for emu in providers.by_name().values():
        emu.set_default(Behaviour.status(503))
    (home / "dead_letters").write_text("not a folder\n", "utf-8")  # letters cannot be written
    return {"COLLABIQ_OFFLINE_LAST_RESORT": "false"}


def test_providers_down_and_dead_letters_unwritable_keep_all_300_in_the_output(
    tmp_path: Path, providers: Providers, isolated_home: Path
) -> None:
    env = _providers_down(providers, isolated_home)
    path = write_jsonl(tmp_path / "in.jsonl", [_email(i) for i in range(300)])
    res = run_cli("llm", "extract", "--jsonl", "-n", "8", str(path), env=env, timeout=120)
    assert res.exit_code == 4, res.stderr
    _no_trace(res.stderr)
    lines = res.json_lines()
    assert len(lines) == 300
    for i, line in enumerate(lines):
        assert line["line"] == i + 1 and line["email_id"] == f"m-{i:03d}"
        assert line["kept_in_output"] is True and line["dead_letter"] is False
        assert line["text"] == _email(i)["text"]  # the email itself, not only its id
        assert line["error_kind"] == "all_providers_failed" and line["errors"]
    assert "300 failed email(s) could not be kept in dead letters" in res.stderr


def test_one_email_on_stdin_is_never_only_in_memory(
    providers: Providers, isolated_home: Path
) -> None:
    env = _providers_down(providers, isolated_home)
    text = _email(1)["text"]
    res = run_cli("llm", "extract", input=text, env=env)
    assert res.exit_code == 4, res.stderr
    _no_trace(res.stderr)
    record = res.json()
    assert record["text"] == text and record["kept_in_output"] is True
    assert "NOT kept in dead letters" in res.stderr


def test_two_concurrent_replays_of_100_letters_give_100_results(
    tmp_path: Path, providers: Providers, isolated_home: Path
) -> None:
    """Each letter is claimed before it is replayed: no email processed (or paid) twice."""
    box = DeadLetterBox(isolated_home / "dead_letters")
    for i in range(100):
        box.put(DeadLetter(email_id=f"r-{i:03d}", text=_email(i)["text"], strategy="failover"))
    providers.gemini.set_default(Behaviour.ok().delayed(0.03))  # so the two runs overlap
    env = subprocess_env({"COLLABIQ_PRIORITY": '["gemini"]'})
    outs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    procs = [
        subprocess.Popen(
            [*cli_command(), "llm", "dead-letters", "replay", "--output", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for out in outs
    ]
    stderrs = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        stderrs.append(err.decode())
        assert proc.returncode == 0, stderrs[-1]
        _no_trace(stderrs[-1])
    ids = [json.loads(x)["email_id"] for out in outs for x in out.read_text("utf-8").splitlines()]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert providers.gemini.request_count == 100  # never paid twice
    assert box.list() == []


def test_output_naming_an_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [_email(i) for i in range(3)])
    before = path.read_bytes()
    res = invoke("llm", "extract", "--jsonl", str(path), "--output", str(path))
    assert res.exit_code == 2 and "is also an input" in res.stderr
    link = tmp_path / "link.jsonl"
    link.symlink_to(path)
    res = invoke("llm", "extract", "--jsonl", str(path), "--output", str(link))
    assert res.exit_code == 2 and "is also an input" in res.stderr
    eml = tmp_path / "a.txt"
    eml.write_text(_email(1)["text"], "utf-8")
    res = invoke("llm", "extract", str(eml), "-o", str(eml))
    assert res.exit_code == 2 and eml.read_text("utf-8") == _email(1)["text"]
    assert path.read_bytes() == before


def test_every_jsonl_input_is_opened_before_the_first_line(
    tmp_path: Path, providers: Providers
) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [_email(i) for i in range(20)])
    second = tmp_path / "b.jsonl"
    second.mkdir()  # exists, but cannot be read as lines
    res = run_cli("llm", "extract", "--jsonl", str(first), str(second))
    assert (res.exit_code, res.stdout) == (2, "")
    assert "is a directory" in res.stderr
    assert providers.gemini.request_count == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_an_unreadable_second_input_stops_the_batch_before_any_call(
    tmp_path: Path, providers: Providers
) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [_email(i) for i in range(20)])
    second = write_jsonl(tmp_path / "b.jsonl", [_email(99)])
    second.chmod(0)
    res = run_cli("llm", "extract", "--jsonl", str(first), str(second))
    assert (res.exit_code, res.stdout) == (2, "")
    assert "cannot read" in res.stderr and providers.gemini.request_count == 0


def test_bom_dev_stdin_and_fifos_are_readable_inputs(tmp_path: Path) -> None:
    data = ("\ufeff" + "\n".join(json.dumps(_email(i)) for i in range(3)) + "\n").encode()
    res = run_cli("llm", "extract", "--jsonl", "/dev/stdin", input=data)
    assert res.exit_code == 0, res.stderr
    assert [x["email_id"] for x in res.json_lines()] == ["m-000", "m-001", "m-002"]
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    res = run_cli("llm", "extract", "--jsonl", str(fifo))
    writer.join(timeout=30)
    assert res.exit_code == 0, res.stderr
    assert len(res.json_lines()) == 3


def test_a_reader_that_stops_early_ends_the_batch_quietly(tmp_path: Path) -> None:
    """`extract --jsonl big | head -1`: exit 0, nothing on stderr but the usual."""
    path = write_jsonl(tmp_path / "in.jsonl", [_email(i) for i in range(400)])
    proc = subprocess.Popen(
        [*cli_command(), "llm", "extract", "--jsonl", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `head -1` exiting
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert json.loads(first)["email_id"] == "m-000"
    _no_trace(err)
    assert "BrokenPipe" not in err


def test_a_full_output_disk_ends_the_batch_with_the_resume_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [_email(i) for i in range(5)])
    res = run_cli("llm", "extract", "--jsonl", str(path), "--output", "/dev/full")
    assert res.exit_code == 2
    _no_trace(res.stderr)
    assert "cannot write results to /dev/full" in res.stderr
    assert "the first 0 result line(s) were written" in res.stderr
    assert "re-run from non-blank input line 1" in res.stderr
