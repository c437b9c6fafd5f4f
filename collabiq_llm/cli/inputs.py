"""Reading ``extract``'s inputs: files, ``-``, ``/dev/stdin``, FIFOs and ``<(cmd)``.

Every JSONL input is opened before the first line is extracted; a line too long for
one email becomes a marker (one error record) so memory stays flat; ``--output``
naming an input is refused before it could truncate it.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from collabiq_llm.errors import InputError

MAX_INPUT_BYTES = 25 * 1024 * 1024  # a raw .eml with attachments; the text limit is separate


def _open_source(name: str) -> IO[bytes]:
    """Open one input for reading: a file, ``-`` (stdin), or anything ``open`` can read
    (``/dev/stdin``, a FIFO, ``<(cmd)``); a directory or a missing file is an InputError."""
    if name == "-":
        if sys.stdin.isatty():
            raise InputError("no input: pass an email FILE or pipe one on stdin")
        return sys.stdin.buffer
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"file not found: {name}") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory, not an email file") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise InputError(f"{name} is a directory, not an email file")
    return fh


def _read_source(name: str) -> bytes:
    stream = _open_source(name)
    try:
        data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    return data


@dataclass
class _Input:
    name: str
    stream: IO[bytes]

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()


def _open_all(sources: list[str]) -> list[_Input]:
    """Every input opened (not just looked at) before the first line is extracted, so an
    unreadable second file stops the batch before any provider call, not half-way."""
    opened: list[_Input] = []
    try:
        for name in sources:
            if name == "-" and sys.stdin.isatty():
                raise InputError("no input: pass a JSONL FILE or pipe lines on stdin")
            opened.append(_Input(name, _open_source(name)))
    except BaseException:
        for item in opened:
            item.close()
        raise
    return opened


def _refuse_output_among_inputs(output: Path | None, inputs: list[tuple[str, int]]) -> None:
    """``--output`` naming an input would truncate it before it is read: exit 2 instead."""
    if output is None:
        return
    try:
        out = os.stat(output)
    except OSError:
        return  # does not exist yet: cannot be an input
    for name, fd in inputs:
        try:
            st = os.fstat(fd) if fd >= 0 else os.stat(name if name != "-" else "/dev/stdin")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) and stat.S_ISREG(st.st_mode):
            raise InputError(
                f"--output {output} is also an input ({name}); writing it would destroy the "
                "input: choose another output file"
            )


def _fileno(stream: IO[bytes]) -> int:
    try:
        return stream.fileno()
    except (OSError, ValueError):  # a test harness's in-memory stdin
        return -1


def _iter_lines(inputs: list[_Input]) -> Iterator[bytes]:
    """Raw lines of every input, one by one; decoding happens per line in the batch, so
    a line that is not UTF-8 becomes one error record instead of stopping the batch.
    A UTF-8 byte-order mark at the start of an input is dropped."""
    for item in inputs:
        try:
            first = True
            for line in _bounded_lines(item.stream):
                if first:
                    line, first = line.removeprefix(b"\xef\xbb\xbf"), False
                yield line
        finally:
            item.close()


MAX_LINE_BYTES = 1024 * 1024  # a JSONL line holds one email of ≤ 10,000 characters


def _bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Lines, but a line over MAX_LINE_BYTES is skipped in chunks (memory stays flat) and
    replaced by a marker that becomes one error record for that line."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the huge line
            line = stream.readline(MAX_LINE_BYTES)
        yield OVERSIZED_LINE


OVERSIZED_LINE = b"\x00oversized-line"
