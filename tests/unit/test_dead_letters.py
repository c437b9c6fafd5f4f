"""Dead letters: atomic files, never overwriting a different email, removed one by one."""

from __future__ import annotations

import stat
from pathlib import Path

from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox


def test_two_emails_with_the_same_caller_id_are_both_kept(tmp_path: Path) -> None:
    box = DeadLetterBox(tmp_path / "dl")
    first = DeadLetter(email_id="dup", text="FIRST email", errors={"gemini": "503"})
    second = DeadLetter(email_id="dup", text="SECOND email", errors={"gemini": "503"})
    box.put(first)
    box.put(second)
    assert sorted(x.text for x in box.list()) == ["FIRST email", "SECOND email"]
    box.remove(first)
    assert [x.text for x in box.list()] == ["SECOND email"]


def test_the_same_email_failing_again_bumps_attempts_in_place(tmp_path: Path) -> None:
    box = DeadLetterBox(tmp_path / "dl")
    letter = DeadLetter(email_id="em_1", text="body", errors={"claude": "timeout"})
    path = box.put(letter)
    assert box.put(letter) == path
    (kept,) = box.list()
    assert kept.attempts == 2
    assert stat.S_IMODE((tmp_path / "dl").stat().st_mode) == 0o700
    assert not list((tmp_path / "dl").glob(".tmp-*"))


def test_errors_are_redacted(tmp_path: Path) -> None:
    from collabiq_llm.redact import register_secret

    register_secret("sk-test-secret-value-123456")
    box = DeadLetterBox(tmp_path / "dl")
    box.put(
        DeadLetter(email_id="e", text="t", errors={"openai": "bad key sk-test-secret-value-123456"})
    )
    raw = next((tmp_path / "dl").glob("*.json")).read_text()
    assert "sk-test-secret-value-123456" not in raw and "[REDACTED]" in raw


def test_a_claimed_letter_cannot_be_claimed_again_until_released(tmp_path: Path) -> None:
    """Two replays at once: the second sees the letter as taken, never processes it too."""
    box = DeadLetterBox(tmp_path / "dl")
    letter = DeadLetter(email_id="em_1", text="body", errors={"gemini": "503"})
    box.put(letter)
    with box.claim(letter) as mine:
        assert mine is not None and mine.text == "body"
        with box.claim(letter) as theirs:
            assert theirs is None
        box.remove(mine)
    with box.claim(letter) as late:  # replayed and removed: nothing left to claim
        assert late is None
    assert not list((tmp_path / "dl").iterdir())  # no sidecar left behind


def test_a_letter_kept_after_a_failed_replay_can_be_claimed_again(tmp_path: Path) -> None:
    box = DeadLetterBox(tmp_path / "dl")
    letter = DeadLetter(email_id="em_1", text="body")
    box.put(letter)
    with box.claim(letter) as mine:
        assert mine is not None
    with box.claim(letter) as again:
        assert again is not None
    assert [x.email_id for x in box.list()] == ["em_1"]


def test_unreadable_letters_are_reported_not_skipped(tmp_path: Path) -> None:
    box = DeadLetterBox(tmp_path / "dl")
    for i in range(3):
        box.put(DeadLetter(email_id=f"em_{i}", text=f"body {i}"))
    paths = sorted((tmp_path / "dl").glob("*.json"))
    paths[0].write_bytes(paths[0].read_bytes()[:40])  # truncated
    paths[1].write_bytes(b"\xff\xfe not utf-8")
    letters, broken = box.scan()
    assert len(letters) == 1
    assert sorted(b.path for b in broken) == paths[:2]
    assert all("not a valid dead letter" in b.reason for b in broken)
    assert paths[0].exists() and paths[1].exists()  # kept: they still hold emails


def test_sweep_promotes_a_complete_temp_letter_and_drops_a_partial_one(tmp_path: Path) -> None:
    """A writer killed between fsync and rename left a whole letter: it becomes the letter."""
    import os

    box = DeadLetterBox(tmp_path / "dl")
    whole = DeadLetter(email_id="em_whole", text="whole body")
    (tmp_path / "dl").mkdir(mode=0o700)
    complete = tmp_path / "dl" / ".tmp-abc"
    complete.write_text(whole.model_dump_json(), "utf-8")
    partial = tmp_path / "dl" / ".tmp-def"
    partial.write_text('{"email_id": "em_half", "te', "utf-8")
    fresh = tmp_path / "dl" / ".tmp-ghi"  # a live writer's file: too new to touch
    fresh.write_text('{"email_id": "em_live"', "utf-8")
    for path in (complete, partial):
        os.utime(path, (1_000, 1_000))
    os.utime(fresh, (5_000, 5_000))
    assert box.sweep(now=5_010) == 2
    assert not complete.exists() and not partial.exists() and fresh.exists()
    assert box.path_for(whole).exists()
    assert [x.text for x in box.list()] == ["whole body"]
