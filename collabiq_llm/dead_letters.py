"""Emails no provider could handle are kept here, one JSON file each, until replayed.

Writes are atomic (temp file + fsync + ``os.replace``) so a crash never leaves a
half-written letter; a letter is removed only after its replayed result was written.
A replay *claims* each letter with an exclusive lock first, so two replays running
at once never process (and pay for) the same email twice; the lock dies with its
process, so a killed replay leaves nothing to clean up. Temp files a killed writer
left behind are swept (a complete one is promoted to its letter, never dropped),
and a letter file that cannot be read is reported, never silently skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from collabiq_llm.entities import utc_now
from collabiq_llm.redact import redact

TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 60.0  # a live put() holds its temp file for milliseconds


class DeadLetter(BaseModel):
    email_id: str
    text: str
    received_at: dt.date | None = None
    strategy: str | None = None
    failed_at: dt.datetime = Field(default_factory=utc_now)
    errors: dict[str, str] = Field(default_factory=dict)
    source: str | None = None  # file name or "stdin" / "line 42"
    attempts: int = 1


@dataclass(frozen=True)
class UnreadableLetter:
    """A file in the box that is not a valid letter (truncated, edited, wrong encoding)."""

    path: Path
    reason: str


class DeadLetterBox:
    """A folder of dead letters (``$COLLABIQ_HOME/dead_letters`` by default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, letter: DeadLetter) -> Path:
        """One file per (email_id, text): two different emails sharing a caller-given id
        are both kept; the same email failing again updates its own file."""
        safe = "".join(ch for ch in letter.email_id if ch.isalnum() or ch in "-_.")[:100]
        digest = hashlib.sha256(letter.text.encode("utf-8", errors="surrogatepass")).hexdigest()[
            :12
        ]
        return self.folder / f"{safe or 'email'}-{digest}.json"

    def put(self, letter: DeadLetter) -> Path:
        """Keep (or update) a letter; repeated failures of the same email bump ``attempts``.

        Raises ``OSError`` (or ``ValueError`` for text that cannot be stored as UTF-8)
        when the letter cannot be written: the caller must then keep the email elsewhere.
        """
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path_for(letter)
        previous = self._load(path)
        if isinstance(previous, DeadLetter):
            letter = letter.model_copy(update={"attempts": previous.attempts + 1})
        letter = letter.model_copy(
            update={"errors": {k: redact(v)[:300] for k, v in letter.errors.items()}}
        )
        data = letter.model_dump_json(indent=2).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _load(self, path: Path) -> DeadLetter | UnreadableLetter | None:
        """The letter at ``path``; None when there is no file; UnreadableLetter when broken."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return UnreadableLetter(path, f"cannot read: {exc.strerror or exc}")
        try:
            return DeadLetter.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            first = str(exc).splitlines()
            why = "empty file" if not raw.strip() else (first[-1] if first else "invalid")
            return UnreadableLetter(path, f"not a valid dead letter ({why.strip()[:120]})")

    def scan(self) -> tuple[list[DeadLetter], list[UnreadableLetter]]:
        """Every letter (oldest failure first) and every file that is not a readable letter."""
        pairs, broken = self.scan_entries()
        return [letter for _, letter in pairs], broken

    def list(self) -> list[DeadLetter]:
        return self.scan()[0]

    def unreadable(self) -> list[UnreadableLetter]:
        """Files that look like letters but cannot be read: report them, never skip silently."""
        return self.scan()[1]

    def iter(self) -> Iterator[DeadLetter]:
        yield from self.list()

    def remove(self, letter: DeadLetter) -> None:
        self.path_for(letter).unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.list())

    # -- addressing one letter (the CLI's show / replay ID / drop) ---------------------------

    def entries(self) -> list[tuple[str, DeadLetter]]:
        """(id, letter) pairs, oldest failure first; the id is the file name without .json."""
        return self.scan_entries()[0]

    def scan_entries(self) -> tuple[list[tuple[str, DeadLetter]], list[UnreadableLetter]]:
        """(id, letter) pairs, oldest failure first, and every file that is not a letter."""
        found: list[tuple[str, DeadLetter]] = []
        broken: list[UnreadableLetter] = []
        if not self.folder.is_dir():
            return found, broken
        self.sweep()
        for path in sorted(self.folder.glob("*.json")):
            loaded = self._load(path)
            if isinstance(loaded, DeadLetter):
                found.append((path.stem, loaded))
            elif isinstance(loaded, UnreadableLetter):
                broken.append(loaded)
        found.sort(key=lambda pair: pair[1].failed_at)
        return found, broken

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

    @contextlib.contextmanager
    def claim(self, letter: DeadLetter) -> Iterator[DeadLetter | None]:
        """Hold ``letter`` exclusively while it is replayed.

        Yields the letter as it is on disk now, or None when another process holds it
        or it is gone (already replayed elsewhere). The claim is an ``flock`` on a
        sidecar file, released by the kernel if this process dies.
        """
        path = self.path_for(letter)
        lock_path = path.with_name(f".{path.stem}.lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield None
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield None  # another replay is on it
                return
            if not _same_file(fd, lock_path):  # its previous holder finished and removed it
                yield None
                return
            current = self._load(path)
            try:
                yield current if isinstance(current, DeadLetter) else None
            finally:
                if not path.exists():  # done: drop the sidecar while still holding it
                    lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def sweep(self, *, now: float | None = None) -> int:
        """Finish what killed writers left: a complete temp letter becomes its letter (an
        email is never dropped), a partial one is deleted; stale claim files are removed.
        Only files older than ``STALE_TEMP_S`` are touched. Returns how many were handled."""
        if not self.folder.is_dir():
            return 0
        now = time.time() if now is None else now
        handled = 0
        for tmp in self.folder.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime < STALE_TEMP_S:
                    continue
                loaded = self._load(tmp)
                if isinstance(loaded, DeadLetter) and not self.path_for(loaded).exists():
                    os.replace(tmp, self.path_for(loaded))
                else:
                    tmp.unlink(missing_ok=True)
                handled += 1
        for lock_path in self.folder.glob(".*.lock"):
            if (self.folder / f"{lock_path.stem[1:]}.json").exists():
                continue
            with contextlib.suppress(OSError), _try_flock(lock_path) as held:
                if held and not (self.folder / f"{lock_path.stem[1:]}.json").exists():
                    lock_path.unlink(missing_ok=True)
                    handled += 1
        return handled


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


@contextlib.contextmanager
def _try_flock(path: Path) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield _same_file(fd, path)
    finally:
        os.close(fd)
