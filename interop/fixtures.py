"""Emails to send and the project's own emulators as truthful peers of the local model.

The emulators answer each email with its labelled record (an "oracle"), so in
consensus / best-match the tiny local model is measured against providers that are
right; in fault cases they are the healthy secondary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collabiq_llm.evaluation.dataset import EvalExample, load_dataset
from interop.paths import EVAL_SET
from tests.emulators import Behaviour, Emulator, RecordedRequest

EMAIL_IDS: tuple[str, ...] = ("ko-001", "en-001", "mixed-001", "ko-002", "en-002", "mixed-002")
FIELDS = ("person_in_charge", "startup_name", "partner_org", "date")
ORACLE_CONFIDENCE = {"person": 0.9, "startup": 0.9, "partner": 0.9, "details": 0.8, "date": 0.85}


def examples(ids: Sequence[str] = EMAIL_IDS) -> list[EvalExample]:
    by_id = {e.id: e for e in load_dataset(EVAL_SET)}
    return [by_id[i] for i in ids]


def write_jsonl(path: Path, emails: Sequence[EvalExample]) -> Path:
    """The CLI's batch input: one ``{"text", "email_id", "received_at"}`` per line."""
    lines = [
        json.dumps(
            {"text": e.text, "email_id": e.id, "received_at": e.received_at.isoformat()},
            ensure_ascii=False,
        )
        for e in emails
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def expected_record(example: EvalExample) -> dict[str, Any]:
    exp = example.expected.model_dump(mode="json")
    return {**exp, "confidence": dict(ORACLE_CONFIDENCE)}


def fields_right(result: dict[str, Any], example: EvalExample) -> int:
    """How many of person / startup / partner / date equal the label (exact, as a user sees)."""
    exp = example.expected.model_dump(mode="json")
    return sum(1 for f in FIELDS if result.get(f) is not None and result.get(f) == exp.get(f))


def oracle(emails: Sequence[EvalExample], latency_s: float = 0.1) -> Behaviour:
    """Answer every known email with its label after ``latency_s``; others the default."""

    def answer(request: RecordedRequest) -> Behaviour:
        text = request.email_text() or request.user_prompt() or ""
        example = find_email(text, emails)
        record = expected_record(example) if example else None
        return Behaviour.ok(record, latency_s=latency_s)

    return Behaviour.respond(answer)


def find_email(text: str, emails: Sequence[EvalExample]) -> EvalExample | None:
    """The email whose body lines the prompt holds most of (the product strips header lines
    and cleans the text, so a whole-text match would miss)."""

    def hits(example: EvalExample) -> int:
        lines = [ln.strip() for ln in example.text.splitlines() if len(ln.strip()) >= 12]
        return sum(1 for ln in lines if ln in text)

    best = max(emails, key=hits, default=None)
    return best if best is not None and hits(best) > 0 else None


def start_emulator(flavour: str, default: Behaviour) -> Emulator:
    emu = Emulator(flavour, default=default)
    emu.start()
    return emu
