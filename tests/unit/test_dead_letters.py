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
