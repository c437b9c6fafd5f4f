"""The labelled evaluation set: one JSON object per line (see data/eval/README.md).

Loading is strict on purpose: a benchmark that silently skips a malformed line
reports accuracy over a different set than the one people think it measures.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collabiq_llm.entities import FIELD_NAMES, make_email_id

MAX_EMAIL_CHARS = 10_000  # the product's input limit; an eval email must fit in it
DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "data" / "eval" / "emails.jsonl"
DEFAULT_COMPANIES = DEFAULT_DATASET.with_name("companies.toml")


class DatasetError(ValueError):
    """A dataset file that cannot be used, with the file and line that broke it."""


class Expected(BaseModel):
    """The ground-truth record for one email (null = the email does not say)."""

    model_config = ConfigDict(extra="forbid")

    person_in_charge: str | None
    startup_name: str | None
    partner_org: str | None
    details: str = Field(min_length=1)
    date: dt.date | None

    @field_validator("date", mode="before")
    @classmethod
    def _iso_only(cls, value: Any) -> Any:
        if isinstance(value, str):
            return dt.date.fromisoformat(value)  # exactly YYYY-MM-DD, no timestamps
        return value

    def value(self, field: str) -> str | None:
        """The expected value of one field as a string (dates in ISO form)."""
        raw = getattr(self, field)
        return raw.isoformat() if isinstance(raw, dt.date) else raw


class EvalExample(BaseModel):
    """One labelled email.

    ``distractors`` lists plausible wrong answers per field (colleagues, look-alike
    companies, other dates in the mail); only the benchmark oracle reads them.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    lang: Literal["ko", "en", "mixed"]
    received_at: dt.date
    text: str = Field(min_length=1, max_length=MAX_EMAIL_CHARS)
    tags: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"]
    expected: Expected
    distractors: dict[str, list[str]] = Field(default_factory=dict)
    template: str | None = None

    @field_validator("distractors")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(FIELD_NAMES)
        if unknown:
            raise ValueError(f"unknown distractor fields: {sorted(unknown)}")
        return value

    @property
    def email_id(self) -> str:
        """The id the product gives this email (same text, same id)."""
        return make_email_id(self.text)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(line)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_lines(lines: Iterable[str], source: str = "<dataset>") -> list[EvalExample]:
    """Parse JSON lines into examples; blank lines are allowed, anything else must be valid."""
    examples: list[EvalExample] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{source}:{lineno}: invalid JSON ({exc.msg}, column {exc.colno})"
            ) from exc
        if not isinstance(raw, dict):
            raise DatasetError(
                f"{source}:{lineno}: expected a JSON object, got {type(raw).__name__}"
            )
        ident = raw.get("id", "?")
        try:
            example = EvalExample.model_validate(raw)
        except ValidationError as exc:
            raise DatasetError(f"{source}:{lineno} (id={ident}): {_describe(exc)}") from exc
        if example.id in seen:
            raise DatasetError(
                f"{source}:{lineno}: duplicate id {example.id!r} (first on line {seen[example.id]})"
            )
        seen[example.id] = lineno
        examples.append(example)
    return examples


def load_dataset(path: str | Path = DEFAULT_DATASET) -> list[EvalExample]:
    """Read a JSONL dataset; raise ``DatasetError`` naming the first bad line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError(f"dataset not found: {file}") from exc
    except IsADirectoryError as exc:
        raise DatasetError(f"{file} is a directory, not a JSONL dataset") from exc
    except OSError as exc:
        raise DatasetError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    examples = parse_lines(text.splitlines(), str(file))
    if not examples:
        raise DatasetError(f"{file}: no examples")
    return examples
