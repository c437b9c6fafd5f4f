"""The atomic, locked JSON file: modes, schema, no-op writes, corruption, lock timeout."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from pydantic import BaseModel, Field

from collabiq_llm.errors import StateError
from collabiq_llm.state import jsonfile
from collabiq_llm.state.jsonfile import CorruptFile, JsonFile


class Doc(BaseModel):
    count: int = 0
    names: list[str] = Field(default_factory=list)


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[CorruptFile]]:
    seen: list[CorruptFile] = []
    monkeypatch.setattr(jsonfile, "on_corrupt", seen.append)
    yield seen


def bump(doc: Doc) -> int:
    doc.count += 1
    return doc.count


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_file_reads_as_defaults_and_creates_nothing(tmp_path: Path) -> None:
    f = JsonFile(tmp_path / "state" / "doc.json", Doc)
    assert f.read() == Doc()
    assert not (tmp_path / "state").exists()


def test_update_writes_schema_with_private_modes(tmp_path: Path) -> None:
    f = JsonFile(tmp_path / "state" / "doc.json", Doc, schema=3)
    assert f.update(bump) == 1
    assert f.update(bump) == 2
    assert json.loads(f.path.read_text()) == {"schema": 3, "count": 2, "names": []}
    assert mode(f.path) == 0o600
    assert mode(f.lock_path) == 0o600
    assert mode(f.path.parent) == 0o700
    assert f.read().count == 2


def test_noop_update_does_not_rewrite(tmp_path: Path) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.update(bump)
    inode = f.path.stat().st_ino
    assert f.update(lambda doc: doc.count) == 1
    assert f.path.stat().st_ino == inode  # os.replace would have made a new inode


def test_failed_update_leaves_file_untouched(tmp_path: Path) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.update(bump)

    def boom(doc: Doc) -> None:
        doc.count = 99
        raise RuntimeError("caller failed")

    with pytest.raises(RuntimeError):
        f.update(boom)
    assert f.read().count == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_stale_temp_files_are_swept_by_the_next_writer(tmp_path: Path) -> None:
    leftover = tmp_path / ".doc.json.abc123.tmp"
    leftover.write_text('{"half')
    other = tmp_path / ".other.json.abc123.tmp"
    other.write_text("x")
    JsonFile(tmp_path / "doc.json", Doc).update(bump)
    assert not leftover.exists()
    assert other.exists()  # another file's temp is not ours to judge


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x00\xffgarbage", "not UTF-8"),
        (b"not json at all", "invalid JSON"),
        (b'{"schema": 1, "count": 4', "invalid JSON"),
        (b'{"schema": 2, "count": 4}', "schema version 2, expected 1"),
        (b'{"count": 4}', "no schema version"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"schema": 1, "count": "many"}', "unexpected content at count"),
        (b"", "invalid JSON"),
    ],
)
def test_corrupt_file_is_moved_aside_with_a_notice(
    tmp_path: Path, notices: list[CorruptFile], content: bytes, problem: str
) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.path.write_bytes(content)
    assert f.read() == Doc()
    assert len(notices) == 1
    notice = notices[0]
    assert notice.path == f.path and problem in notice.problem
    assert notice.moved_to is not None and notice.moved_to.read_bytes() == content
    assert notice.moved_to.name.startswith("doc.json.corrupt-")
    assert not f.path.exists()
    assert str(f.path) in notice.message() and str(notice.moved_to) in notice.message()
    # work continues from defaults
    assert f.update(bump) == 1
    assert len(notices) == 1


def test_corrupt_file_found_by_a_writer_is_moved_aside(
    tmp_path: Path, notices: list[CorruptFile]
) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.path.write_text("{{{")
    assert f.update(bump) == 1
    assert len(notices) == 1 and notices[0].moved_to is not None
    assert len(list(tmp_path.glob("doc.json.corrupt-*"))) == 1


def test_two_corruptions_in_one_second_keep_both_copies(
    tmp_path: Path, notices: list[CorruptFile]
) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    for junk in ("one", "two"):
        f.path.write_text(junk)
        f.read()
    kept = sorted(p.read_text() for p in tmp_path.glob("doc.json.corrupt-*"))
    assert kept == ["one", "two"]


def test_default_hook_prints_one_line_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.path.write_text("garbage")
    f.read()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("collabiq: warning: state file ") and str(f.path) in err
    assert "moved aside to" in err and "continuing from defaults" in err


def test_a_failing_hook_never_breaks_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_: CorruptFile) -> None:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(jsonfile, "on_corrupt", broken)
    f = JsonFile(tmp_path / "doc.json", Doc)
    f.path.write_text("garbage")
    assert f.read() == Doc()
    assert "collabiq: warning" in capsys.readouterr().err  # fell back to the default line


def test_lock_timeout_raises_a_clear_state_error(tmp_path: Path) -> None:
    f = JsonFile(tmp_path / "doc.json", Doc, lock_timeout_s=0.05)
    f.update(bump)
    holder = FileLock(f.lock_path)  # another holder (flock locks conflict across open files)
    with (
        holder,
        pytest.raises(StateError, match=r"could not lock .*doc\.json\.lock within 0\.05 s"),
    ):
        f.update(bump)
    assert f.read().count == 1  # reads need no lock
    assert f.update(bump) == 2


def test_append_line_closes_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    jsonfile.append_line(path, '{"a":1}')
    with path.open("a") as fh:
        fh.write('{"torn":')  # a writer killed mid-line
    jsonfile.append_line(path, '{"b":2}')
    assert path.read_text().splitlines() == ['{"a":1}', '{"torn":', '{"b":2}']
    assert mode(path) == 0o600


def test_existing_state_dir_mode_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    JsonFile(folder / "doc.json", Doc).update(bump)
    assert mode(folder) == 0o755


def test_io_failure_on_write_is_a_state_error_and_reads_never_raise(
    tmp_path: Path, notices: list[CorruptFile]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    f = JsonFile(blocker / "doc.json", Doc)
    with pytest.raises(StateError, match="cannot update state file"):
        f.update(bump)
    assert f.read() == Doc()
