"""Emails no provider could handle are kept here, one JSON file each, until replayed.

Writes are atomic (temp file + fsync + ``os.replace``) so a crash never leaves a
half-written letter; a letter is removed only after its replayed result was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from collabiq_llm.entities import utc_now
from collabiq_llm.redact import redact


class DeadLetter(BaseModel):
    email_id: str
    text: str
    received_at: dt.date | None = None
    strategy: str | None = None
    failed_at: dt.datetime = Field(default_factory=utc_now)
    errors: dict[str, str] = Field(default_factory=dict)
    source: str | None = None  # file name or "stdin" / "line 42"
    attempts: int = 1


class DeadLetterBox:
    """A folder of dead letters (``$COLLABIQ_HOME/dead_letters`` by default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, letter: DeadLetter) -> Path:
        """One file per (email_id, text): two different emails sharing a caller-given id
        are both kept; the same email failing again updates its own file."""
        safe = "".join(ch for ch in letter.email_id if ch.isalnum() or ch in "-_.")[:100]
        digest = hashlib.sha256(letter.text.encode("utf-8")).hexdigest()[:12]
        return self.folder / f"{safe or 'email'}-{digest}.json"

    def put(self, letter: DeadLetter) -> Path:
        """Keep (or update) a letter; repeated failures of the same email bump ``attempts``."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path_for(letter)
        previous = self._load(path)
        if previous is not None:
            letter = letter.model_copy(update={"attempts": previous.attempts + 1})
        letter = letter.model_copy(
            update={"errors": {k: redact(v)[:300] for k, v in letter.errors.items()}}
        )
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(letter.model_dump_json(indent=2))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _load(self, path: Path) -> DeadLetter | None:
        try:
            return DeadLetter.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, json.JSONDecodeError):
            return None

    def list(self) -> list[DeadLetter]:
        return sorted(self.iter(), key=lambda letter: letter.failed_at)

    def iter(self) -> Iterator[DeadLetter]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.json")):
            letter = self._load(path)
            if letter is not None:
                yield letter

    def remove(self, letter: DeadLetter) -> None:
        self.path_for(letter).unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for _ in self.iter())

    # -- addressing one letter (the CLI's show / replay ID / drop) ---------------------------

    def entries(self) -> list[tuple[str, DeadLetter]]:
        """(id, letter) pairs, oldest failure first; the id is the file name without .json."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            letter = self._load(path)
            if letter is not None:
                found.append((path.stem, letter))
        return sorted(found, key=lambda pair: pair[1].failed_at)

    def find(self, ref: str) -> list[tuple[str, DeadLetter]]:
        """Letters matching ``ref``: an exact id, else its email_id, else a unique id prefix."""
        pairs = self.entries()
        for match in (
            [p for p in pairs if p[0] == ref],
            [p for p in pairs if p[1].email_id == ref],
        ):
            if match:
                return match
        return [p for p in pairs if p[0].startswith(ref)] if ref else []

    def drop(self, letter_id: str) -> bool:
        """Delete one letter by id; False when it was not there (e.g. replayed meanwhile)."""
        path = self.folder / f"{letter_id}.json"
        if path.parent != self.folder or not path.is_file():
            return False
        path.unlink(missing_ok=True)
        return True
