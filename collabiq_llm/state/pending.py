"""State events not yet in the shared JSON files: the in-memory queue and the on-disk spool.

Why a queue: writing ``health.json`` and ``costs.json`` (lock, rewrite, fsync) for
every call and every email made state the largest per-email cost of a batch, and
under CPU load 8-16 processes queued on the locks long enough to hit the lock
timeout. The JSON store therefore *group-commits*: events wait here and go to disk
together in one locked, fsync'd write per file (see ``json_store`` for when).

Why a spool: an event that cannot be written (the lock stays busy past its
timeout, the disk is full) is never dropped. It stays queued and is retried; if
the process has to exit first, the queue is written to
``<state_dir>/pending/<pid>-<random>.json`` (one atomic, fsync'd file, no lock
needed: nobody else writes that name). The next process that commits applies
every spooled batch inside its own locked transactions, exactly once: each
batch has an id, and the ids applied are remembered in the state file itself
(the last :data:`APPLIED_KEEP`), so a crash between applying and deleting a spool
file never counts it twice. A process's own group commits carry ids too, so its
reads never count a batch twice while it is being written. ``status`` counts the
events still spooled.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from collabiq_llm.state.api import CallEvent, LedgerEntry, UtcDatetime
from collabiq_llm.state.jsonfile import ensure_dir, fsync_write

SPOOL_SCHEMA = 1
APPLIED_KEEP = 64
SPOOL_DIR = "pending"


class QueuedCall(BaseModel):
    """A call event and the store's clock when it was recorded (breaker maths use it)."""

    event: CallEvent
    now: UtcDatetime


class Batch(BaseModel):
    """Events waiting for the shared files; ``id`` makes applying a spooled batch idempotent."""

    id: str = Field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(8)}")
    calls: list[QueuedCall] = Field(default_factory=list)
    emails: list[LedgerEntry] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.calls) + len(self.emails)


def remember(applied: list[str], batch_id: str) -> list[str]:
    """``applied`` plus ``batch_id``, bounded to the most recent :data:`APPLIED_KEEP`."""
    return [*applied, batch_id][-APPLIED_KEEP:]


class SpoolDir:
    """``<state_dir>/pending/*.json``: batches a process could not commit before it exited."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / SPOOL_DIR

    def write(self, batch: Batch) -> Path:
        """Persist ``batch`` (atomic + fsync); raises ``OSError`` when even that is impossible."""
        ensure_dir(self.path)
        target = self.path / f"{batch.id}.json"
        data = {"schema": SPOOL_SCHEMA, **batch.model_dump(mode="json")}
        fsync_write(target, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        return target

    def files(self) -> list[Path]:
        """Spool files, oldest first (one ``scandir``; cheap enough for every commit)."""
        try:
            entries = [e for e in os.scandir(self.path) if e.name.endswith(".json")]
        except OSError:
            return []
        with_times: list[tuple[float, Path]] = []
        for entry in entries:
            with contextlib.suppress(OSError):
                with_times.append((entry.stat().st_mtime, Path(entry.path)))
        return [path for _, path in sorted(with_times)]

    @staticmethod
    def read(path: Path) -> Batch | None:
        """The batch in ``path``; ``None`` when it vanished or cannot be read (left in place)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.pop("schema", None) != SPOOL_SCHEMA:
                return None
            return Batch.model_validate(data)
        except (OSError, ValueError, ValidationError):
            return None

    def batches(self) -> list[tuple[Path, Batch]]:
        out = []
        for path in self.files():
            batch = self.read(path)
            if batch is not None:
                out.append((path, batch))
        return out

    def count_events(self) -> int:
        """How many events wait in spool files (for ``status``)."""
        return sum(len(batch) for _, batch in self.batches())

    @staticmethod
    def remove(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
