"""Group commit for the JSON state store: queue events, write them together, never drop one.

Why: rewriting ``health.json`` and ``costs.json`` (lock, rewrite, fsync) for every
call and every email was the largest per-email cost of a batch, and under CPU load
16 processes queued on the locks long enough to hit the lock timeout. The store
(``json_store.JsonStateStore``, which mixes this in) therefore queues events in
memory; a committer thread writes the queue once per ``commit_interval_s``, per
``commit_max_events`` events, at once for an urgent event (one that changes a
breaker), and at exit. What cannot be written (lock busy past its timeout, disk
full) stays queued and is retried; at exit it is spooled (``state/pending.py``).

Locks: ``_mutex`` guards the queue and the views and is never held across file I/O,
so recording never waits for a file lock; ``_commit_lock`` makes commits one at a
time. The in-flight batch's id is recorded in each file it is written to, so the
store's views never count it twice.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

from collabiq_llm.errors import StateError
from collabiq_llm.state.jsonfile import JsonFile
from collabiq_llm.state.pending import Batch, SpoolDir

COMMIT_INTERVAL_S = 1.0  # what make_store uses: a crash loses at most this much
COMMIT_MAX_EVENTS = 100
RETRY_S = 1.0  # a commit that failed (lock busy, disk full) is retried this often

_open_stores: set[GroupCommit] = set()  # stores holding queued events (kept alive until
# written: a store dropped by its owner still commits them, from its thread or at exit)


@atexit.register
def _close_open_stores() -> None:
    """Normal exit, ``sys.exit``, Ctrl-C or SIGTERM (see the CLI): write or spool the queues."""
    for store in list(_open_stores):
        with contextlib.suppress(Exception):
            store.close()


def _warn(message: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(f"collabiq: warning: {message}\n")
        sys.stderr.flush()


class GroupCommit:
    """The queue/commit/spool half of the JSON store (state and files live in the store)."""

    commit_interval_s: float
    commit_max_events: int
    spool: SpoolDir
    _health: JsonFile[Any]
    _costs: JsonFile[Any]
    _health_view: Any
    _costs_view: Any

    def _init_group_commit(self, interval_s: float, max_events: int) -> None:
        self.commit_interval_s = max(0.0, interval_s)
        self.commit_max_events = max(1, max_events)
        self._mutex = threading.RLock()  # never held across file I/O that may wait for a lock
        self._commit_lock = threading.Lock()  # one commit at a time in this process
        self._queue = Batch()
        self._inflight: Batch | None = None  # being written; views skip it once a file has it
        self._queued_since: float | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()  # set while nothing is queued or in flight
        self._idle.set()
        self._committer: threading.Thread | None = None
        self._warned = False

    def _unwritten(self) -> list[Batch]:
        """This process's batches not known to be written: in flight, then queued."""
        return [b for b in (self._inflight, self._queue) if b is not None]

    def _commit_calls(self, doc: Any, own: Batch, spooled: list[tuple[Path, Batch]]) -> None:
        raise NotImplementedError

    def _commit_emails(self, doc: Any, own: Batch, spooled: list[tuple[Path, Batch]]) -> None:
        raise NotImplementedError

    # -- group commit ----------------------------------------------------------------------

    @property
    def records_block(self) -> bool:
        """Whether ``record_call`` / ``record_email`` may wait for a file lock.

        With group commit they only queue (a committer thread writes), so the
        orchestrator calls them on the event loop instead of in a worker thread.
        """
        return self.commit_interval_s == 0

    def _note_queued(self) -> None:
        """Caller holds ``_mutex`` and just queued an event."""
        self._idle.clear()
        if self._queued_since is None:
            self._queued_since = time.monotonic()
            _open_stores.add(self)

    def _due(self, *, urgent: bool) -> None:
        """Caller holds no lock: commit now (write-through store) or wake the committer."""
        if self.commit_interval_s == 0:
            if not self._commit():
                self._start_committer()  # retried in the background
            return
        with self._mutex:
            full = len(self._queue) >= self.commit_max_events
        if urgent or full:
            self._wake.set()
        self._start_committer()

    def _start_committer(self) -> None:
        with self._mutex:
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_loop, name="collabiq-state-commit", daemon=True
                )
                self._committer.start()

    def _commit_loop(self) -> None:
        """Write the queue when due (interval, size or an urgent event); retry on failure;
        end when nothing is left (restarted by the next queued event)."""
        while True:
            with self._mutex:
                if not self._queue and self._inflight is None:
                    self._committer = None
                    return
                since = self._queued_since or time.monotonic()
                interval = self.commit_interval_s or RETRY_S
                wait = since + interval - time.monotonic()
            if wait > 0 and self._wake.wait(wait):
                self._wake.clear()
            if not self._commit():
                self._wake.wait(RETRY_S)
                self._wake.clear()

    def wait_committed(self, timeout: float | None = None) -> bool:
        """Block until every queued event is written (by the committer); False on timeout.

        For callers that need "in the files now" (tests, admin commands); recording
        itself never waits.
        """
        return self._idle.wait(timeout)

    def flush(self) -> bool:
        """Commit every queued (and spooled) event now; False when the state files are busy
        or unwritable (the events stay queued and are retried)."""
        return self._commit()

    def close(self) -> None:
        """Flush; what still cannot be written is spooled to ``pending/`` for the next process."""
        if self._commit():
            return
        with self._mutex:
            if not self._queue:
                return
            batch, self._queue = self._queue, Batch()
            self._queued_since = None
            self._health_view = self._costs_view = None
        try:
            where = self.spool.write(batch)
        except OSError as exc:
            _warn(f"{len(batch)} state event(s) could not be written or spooled ({exc}); lost")
        else:
            _warn(
                f"{len(batch)} state event(s) could not be written in time; kept in {where} "
                "and applied by the next collabiq process"
            )
        _open_stores.discard(self)

    def _commit(self) -> bool:
        """One locked write per file for the queue and any spool files; False on failure.

        The queue is taken as one in-flight batch (its id goes into each file it is
        written to, so views never count it twice), written without holding
        ``_mutex`` (recording never waits for a file lock), and put back at the front
        of the queue if a file cannot be written. Spool files are applied by id
        (exactly once) and deleted once both files have them.
        """
        with self._commit_lock:
            spooled = self.spool.batches() if self.spool.path.exists() else []
            with self._mutex:
                if not self._queue and not spooled:
                    return True
                batch, self._queue = self._queue, Batch()
                self._inflight = batch
                self._queued_since = time.monotonic() if self._queue else None
            try:
                if batch.calls or any(b.calls for _, b in spooled):
                    self._health.update(lambda doc: self._commit_calls(doc, batch, spooled))
                if batch.emails or any(b.emails for _, b in spooled):
                    self._costs.update(lambda doc: self._commit_emails(doc, batch, spooled))
            except StateError as exc:
                with self._mutex:
                    # what no file has yet goes back to the front, under a new id
                    self._queue.calls[:0] = self._not_in(self._health, batch, batch.calls)
                    self._queue.emails[:0] = self._not_in(self._costs, batch, batch.emails)
                    self._inflight = None
                    self._queued_since = self._queued_since or time.monotonic()
                    self._health_view = self._costs_view = None
                    count = len(self._queue)
                if not self._warned:
                    self._warned = True
                    _warn(
                        f"state store busy or unwritable ({exc}); {count} event(s) "
                        "kept in memory and retried, none dropped"
                    )
                return False
            for path, _ in spooled:
                self.spool.remove(path)
            with self._mutex:
                self._inflight = None
                self._health_view = self._costs_view = None
                if not self._queue:
                    _open_stores.discard(self)
                    self._idle.set()
            return True

    @staticmethod
    def _not_in(file: JsonFile, batch: Batch, items: list) -> list:  # type: ignore[type-arg]
        """``items`` unless ``file`` already records ``batch`` as applied."""
        try:
            applied = getattr(file.read(), "applied", [])
        except Exception:
            applied = []
        return [] if batch.id in applied else list(items)
