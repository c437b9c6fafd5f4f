"""One JSON document on disk, shared safely by many short-lived processes.

Why this shape: cron starts one ``collabiq`` process per email, all writing the
same state. Every change is one transaction:

* lock a sidecar ``<file>.lock`` (never the data file; ``flock`` is released by
  the kernel when a holder dies, even by SIGKILL), with a timeout that raises
  :class:`~collabiq_llm.errors.StateError`;
* read and validate, let the caller modify, and only if the text changed:
* write a temp file in the same folder (created 0600), flush + fsync,
  ``os.replace`` it over the file. A reader or a crash sees the old or the new
  file, never a mix, so reads take no lock.

Every file carries ``"schema": <int>``. A file that is not valid JSON, has the
wrong schema version or content that does not validate is moved aside to
``<file>.corrupt-<UTC timestamp>`` and work continues from defaults.

Warnings: the module-level hook :data:`on_corrupt` is called with a
:class:`CorruptFile` notice. The default writes one line to stderr; the CLI (or
an embedding service) may assign its own callable to render or log it. The hook
is never allowed to raise into the caller.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from collabiq_llm.errors import StateError

SCHEMA_KEY = "schema"
FILE_MODE = 0o600
DIR_MODE = 0o700
POLL_INTERVAL_S = 0.001  # filelock polls a non-blocking flock; its 50 ms default starves waiters

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class CorruptFile:
    """A state file that could not be used, and what was done about it."""

    path: Path
    problem: str
    moved_to: Path | None = None
    action: str | None = None

    def message(self) -> str:
        if self.action:
            done = self.action
        elif self.moved_to is not None:
            done = f"moved aside to {self.moved_to}; continuing from defaults"
        else:
            done = "could not move it aside; continuing from defaults"
        return f"warning: state file {self.path} is unusable ({self.problem}); {done}"


def print_notice(notice: CorruptFile) -> None:
    """Default :data:`on_corrupt`: one line on stderr."""
    sys.stderr.write(f"collabiq: {notice.message()}\n")
    sys.stderr.flush()


on_corrupt: Callable[[CorruptFile], None] = print_notice


def notify(notice: CorruptFile) -> None:
    """Call the hook; a failing hook must never break the command that found the problem."""
    try:
        on_corrupt(notice)
    except Exception:
        with contextlib.suppress(Exception):
            print_notice(notice)


class _Corrupt(Exception):
    """Internal: the file exists but cannot be used."""


def ensure_dir(path: Path) -> None:
    """Create the state folder 0700 (an existing folder keeps its mode)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)


def fsync_write(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``: same-folder temp file, fsync, ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp already uses 0600; be explicit about it
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one line (caller holds the lock); a torn last line from a crash is closed first."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        data = line.encode("utf-8") + b"\n"
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def aside_path(path: Path, now: dt.datetime | None = None) -> Path:
    """A free ``<file>.corrupt-<UTC timestamp>`` name next to ``path``."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return candidate


class JsonFile(Generic[M]):
    """A pydantic model stored as one schema-versioned JSON file with a sidecar lock."""

    def __init__(
        self,
        path: Path,
        model: type[M],
        *,
        schema: int = 1,
        lock_timeout_s: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.model = model
        self.schema = schema
        self.lock_timeout_s = lock_timeout_s
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock = FileLock(
            self.lock_path, timeout=lock_timeout_s, mode=FILE_MODE, poll_interval=POLL_INTERVAL_S
        )
        self._swept = False

    # -- reading ---------------------------------------------------------------------------

    def signature(self) -> tuple[int, int, int] | None:
        """(inode, mtime ns, size), or None when absent: changes with every write.

        Every write replaces the file (new inode), so an unchanged signature means an
        unchanged document: callers keep their parsed copy instead of re-reading.
        """
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _parse(self, raw: bytes) -> M:
        try:
            data: Any = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _Corrupt(f"not UTF-8 text: {exc.reason}") from exc
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise _Corrupt(f"invalid JSON: {exc.msg} at {where}") from exc
        if not isinstance(data, dict):
            raise _Corrupt(f"expected a JSON object, found {type(data).__name__}")
        version = data.pop(SCHEMA_KEY, None)
        if version != self.schema:
            found = "no schema version" if version is None else f"schema version {version!r}"
            raise _Corrupt(f"{found}, expected {self.schema}")
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "document"
            raise _Corrupt(f"unexpected content at {where}: {first.get('msg')}") from exc

    def _load(self) -> tuple[M, bytes | None]:
        """The document and its raw bytes (None when the file does not exist)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self.model(), None
        except OSError as exc:
            raise _Corrupt(f"unreadable: {exc.strerror or exc}") from exc
        return self._parse(raw), raw

    def _quarantine(self, problem: str) -> M:
        """Move the bad file aside (caller holds the lock), warn, return defaults."""
        moved: Path | None = None
        try:
            target = aside_path(self.path)
            os.replace(self.path, target)
            moved = target
        except OSError:
            moved = None
        notify(CorruptFile(self.path, problem, moved))
        return self.model()

    def _load_locked(self) -> tuple[M, bytes | None]:
        try:
            return self._load()
        except _Corrupt as exc:
            return self._quarantine(str(exc)), None

    def read(self) -> M:
        """The current document without taking the lock; never raises for a bad file."""
        try:
            return self._load()[0]
        except _Corrupt as first:
            # Quarantine under the lock, re-reading first: a writer may have replaced it meanwhile.
            try:
                with self._locked(min(self.lock_timeout_s, 2.0)):
                    return self._load_locked()[0]
            except Exception:  # the warning path must not raise
                notify(CorruptFile(self.path, str(first), None))
                return self.model()

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, timeout: float | None = None) -> Iterator[None]:
        ensure_dir(self.path.parent)
        limit = self.lock_timeout_s if timeout is None else timeout
        try:
            self._lock.acquire(timeout=limit)
        except Timeout as exc:
            raise StateError(
                f"could not lock {self.lock_path} within {limit:g} s: another collabiq "
                "process holds it (stuck, or a very slow disk); try again"
            ) from exc
        try:
            if not self._swept:
                self._sweep_temps()
            yield
        finally:
            self._lock.release()

    def _sweep_temps(self) -> None:
        """Delete temp files of writers that died mid-write (only a lock holder makes them)."""
        self._swept = True
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def dumps(self, doc: M) -> bytes:
        """Compact JSON with the schema key first (pydantic's fast serializer, then spliced)."""
        body = doc.model_dump_json().encode()
        head = b'{"%s":%d' % (SCHEMA_KEY.encode(), self.schema)
        return head + (b"}" if body == b"{}" else b"," + body[1:])

    def update(self, fn: Callable[[M], T]) -> T:
        """One locked read-modify-write; ``fn`` mutates the document in place and returns a result.

        The file is rewritten only when its text changes, so a no-op costs no fsync.
        I/O failures (disk full, read-only folder) surface as ``StateError``.
        """
        try:
            with self._locked():
                doc, raw = self._load_locked()
                result = fn(doc)
                text = self.dumps(doc)
                if text != raw:
                    fsync_write(self.path, text)
                return result
        except OSError as exc:
            raise StateError(f"cannot update state file {self.path}: {exc}") from exc
