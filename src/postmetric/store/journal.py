"""The ingestion journal: an append-only, fsynced log of event rows.

An event is acknowledged once its row is in the journal and `fdatasync` returned; the
event store then loads rows from memory in large batches, recording in the same
transaction how far into the journal it got (its checkpoint). After a crash, `replay`
hands back every row past the checkpoint, so nothing acknowledged is lost and nothing
is loaded twice.

Why not commit each group straight into DuckDB? A DuckDB insert costs ~3 ms of CPU
before its first row, so at 64 connections acknowledgements would wait on it; an fsynced
append costs ~0.3 ms, and the store then loads 10,000 rows for the price of one insert.

Format: segment files `<number>.journal`; each record is `<u32 length><u32 crc32>` then
`length` bytes of payload (CSV rows, see `store.events.encode_rows`). A record cut short by a crash fails its
length or CRC check; it was never acknowledged, and is cut off.
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from pathlib import Path
from typing import NamedTuple

_HEADER = struct.Struct("<II")
SEGMENT_BYTES = 16 * 1024 * 1024


class Position(NamedTuple):
    """A point in the journal: a segment number and a byte offset in it."""

    segment: int
    offset: int


class EventJournal:
    """Not thread-safe: one thread writes (`sync` may run on a helper thread while that thread
    waits); `discard_before` may run on another thread (it only unlinks)."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._file: int | None = None
        self._segment = 0
        self._offset = 0
        self._sealed = Position(0, 0)  # `seal`: where the segment to leave was at the time; 0: none

    @property
    def journal_id(self) -> str:
        """This journal's name, made once: a shared event store keeps each node's checkpoint under it."""
        path = self.directory / "id"
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_text(uuid.uuid4().hex)
            temporary.replace(path)
        return path.read_text().strip()

    @property
    def append_position(self) -> Position:
        return Position(self._segment, self._offset)

    def replay(self, after: Position | None) -> list[tuple[bytes, Position]]:
        """Every record written after `after`: its payload and the position at its end.

        Call before `open_for_append`. A torn record at the tail is cut off.
        """
        records: list[tuple[bytes, Position]] = []
        for segment in self._segments():
            if after is not None and segment < after.segment:
                continue
            path = self._path(segment)
            data = path.read_bytes()
            offset = after.offset if after is not None and segment == after.segment else 0
            while offset + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, offset)
                start = offset + _HEADER.size
                payload = data[start : start + length]
                if len(payload) < length or zlib.crc32(payload) != crc:
                    break
                offset = start + length
                records.append((payload, Position(segment, offset)))
            if offset < len(data):  # a write the crash interrupted; never acknowledged
                with path.open("r+b") as f:
                    f.truncate(offset)
        return records

    def open_for_append(self, after: Position | None = None) -> None:
        """Start a fresh segment after the existing ones and after `after` (the store's
        checkpoint), so numbering never goes back even if the journal's files were removed."""
        segments = self._segments()
        self._segment = max(segments[-1] if segments else 0, after.segment if after else 0) + 1
        self._open_segment()

    def append(self, payload: bytes) -> Position:
        """Write `payload` as one record and make it durable; return the position after it."""
        position = self.write(payload)
        self.sync()
        return position

    def write(self, payload: bytes) -> Position:
        """Write `payload` as one record, not yet durable: `sync()` makes every write so far durable."""
        record = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        sealed = self._sealed.segment == self._segment and self._sealed.offset > 0
        if self._offset and (sealed or self._offset + len(record) > self.segment_bytes):
            os.fdatasync(self._file)  # the full segment's last writes, before its file is let go
            os.close(self._file)
            self._segment += 1
            self._open_segment()
        os.write(self._file, record)
        self._offset += len(record)
        return Position(self._segment, self._offset)

    def sync(self) -> None:
        os.fdatasync(self._file)

    def seal(self) -> None:
        """Begin a new segment at the next write, so that the current one, once loaded, is deleted
        by `discard_before`: after an erasure its rows must not stay on disk. Safe from another
        thread: it only records where the segment was (one assignment), and an empty one stays."""
        self._sealed = Position(self._segment, self._offset)

    def discard_before(self, position: Position) -> None:
        """Delete segments wholly before `position` (their rows are in the store)."""
        for segment in self._segments():
            if segment < position.segment:
                self._path(segment).unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def _open_segment(self) -> None:
        self._file = os.open(self._path(self._segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._offset = 0
        _fsync_directory(self.directory)  # the new file's name must survive a crash too

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.journal") if p.stem.isdigit())

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}.journal"


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
