"""The ingestion journal: an append-only, fsynced log of event rows.

An event is acknowledged once its row is in the journal and `fdatasync` returned; the
event store then loads rows from memory in large batches, recording in the same
transaction how far into the journal it got (its checkpoint). After a crash, `replay`
hands back every row past the checkpoint, so nothing acknowledged is lost and nothing
is loaded twice.

Why not commit each group straight into DuckDB? A DuckDB insert costs ~3 ms of CPU
before its first row, so at 64 connections acknowledgements would wait on it; an fsynced
append costs ~0.3 ms, and the store then loads 10,000 rows for the price of one insert.

Format: segment files `<number>.journal`; each record is a 16-byte header, `<magic "PMj\\xff">
<u32 length><u32 crc32 of the payload><u32 crc32 of the 12 bytes before>`, then `length` bytes of
payload (CSV rows, see `store.events.encode_rows`). The header's own checksum means a damaged
length is noticed rather than followed; the magic lets replay find the next record after damage.

Failures, and what each costs:
1. A write or fdatasync that fails (a full disk, an I/O error) raises, so the caller acknowledges
   nothing; the partial record is cut off (or, if that fails too, writing continues in a fresh
   segment), so later records sit at the offsets their positions say.
2. A crash mid-write leaves a torn tail in the last segment: it was never acknowledged, and is
   cut off quietly.
3. A damaged record anywhere else is skipped alone (every intact record after it is kept), one
   log line says where and why, and its segment is kept in `damaged/`, which nothing deletes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import struct
import uuid
import zlib
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

SEGMENT_BYTES = 16 * 1024 * 1024
_MAGIC = b"PMj\xff"  # \xff never occurs in UTF-8 text; as a u32 it is no plausible length either
_FIELDS = struct.Struct("<4sII")
_HEADER = struct.Struct("<4sIII")
# Segments written before record headers had a magic: `<u32 length><u32 crc32>` then the payload.
_LEGACY_HEADER = struct.Struct("<II")


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
        self._synced = 0  # the offset up to which the open segment is durable
        self._segment_suspect = False  # a failed write could not be cut off: start a fresh segment
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

    @property
    def damaged_directory(self) -> Path:
        return self.directory / "damaged"

    def replay(self, after: Position | None) -> list[tuple[bytes, Position]]:
        """Every intact record written after `after`: its payload and the position at its end.

        Call before `open_for_append`. A torn tail of the last segment is cut off; damaged
        records elsewhere are skipped and logged, and their segment kept aside.
        """
        records: list[tuple[bytes, Position]] = []
        segments = [s for s in self._segments() if after is None or s >= after.segment]
        for segment in segments:
            path = self._path(segment)
            data = path.read_bytes()
            start = after.offset if after is not None and segment == after.segment else 0
            if data[:4] != _MAGIC and _is_legacy(data):
                records += [(payload, Position(segment, end)) for payload, end in _legacy_records(data, start)]
                continue
            found, damaged, tail = _scan(data, start)
            records += [(payload, Position(segment, end)) for payload, end in found]
            if tail is not None:
                if segment == segments[-1]:  # a write the crash interrupted; never acknowledged
                    with path.open("r+b") as f:
                        f.truncate(tail[0])
                else:  # a closed segment was complete: damage at its end is damage all the same
                    damaged.append(tail)
            if damaged:
                kept = self._keep_aside(path)
                for offset, length, reason in damaged:
                    log.warning("journal segment %s: skipped %d damaged bytes at offset %d (%s); "
                                "the segment is kept as %s", path.name, length, offset, reason, kept)
        return records

    def open_for_append(self, after: Position | None = None) -> None:
        """Start a fresh segment after the existing ones and after `after` (the store's
        checkpoint), so numbering never goes back even if the journal's files were removed."""
        segments = self._segments()
        self._segment = max(segments[-1] if segments else 0, after.segment if after else 0)
        self._start_segment()

    def append(self, payload: bytes) -> Position:
        """Write `payload` as one record and make it durable; return the position after it."""
        position = self.write(payload)
        self.sync()
        return position

    def write(self, payload: bytes) -> Position:
        """Write `payload` as one record, not yet durable: `sync()` makes every write so far durable.

        Raises OSError if the record could not be written whole; the journal is then as before."""
        fields = _FIELDS.pack(_MAGIC, len(payload), zlib.crc32(payload))
        record = fields + zlib.crc32(fields).to_bytes(4, "little") + payload
        sealed = self._sealed.segment == self._segment and self._sealed.offset > 0
        if self._segment_suspect or (
            self._offset and (sealed or self._offset + len(record) > self.segment_bytes)
        ):
            self._start_segment()
        try:
            _write_all(self._file, record)
        except OSError:
            self._cut_back_to(self._offset)
            raise
        self._offset += len(record)
        return Position(self._segment, self._offset)

    def sync(self) -> None:
        """Make every write so far durable, or raise OSError and drop the writes since the last sync."""
        try:
            os.fdatasync(self._file)
        except OSError:
            # After a failed fdatasync the kernel may have dropped the unwritten pages and
            # marked them clean, so what the file holds past the last good sync is unknown.
            self._cut_back_to(self._synced)
            self._offset = self._synced
            raise
        self._synced = self._offset

    def seal(self) -> None:
        """Begin a new segment at the next write, so that the current one, once loaded, is deleted
        by `discard_before`: after an erasure its rows must not stay on disk. Safe from another
        thread: it only records where the segment was (one assignment), and an empty one stays."""
        self._sealed = Position(self._segment, self._offset)

    def discard_before(self, position: Position) -> None:
        """Delete segments wholly before `position` (their rows are in the store). Segments kept
        in `damaged/` are left for a person to look at."""
        for segment in self._segments():
            if segment < position.segment:
                self._path(segment).unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def _start_segment(self) -> None:
        """Continue in the next segment. On failure the journal stays as it was, so the next
        write tries again."""
        if self._file is not None and not self._segment_suspect and self._synced < self._offset:
            self.sync()  # the full segment's last writes, before its file is let go
        path = self._path(self._segment + 1)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _fsync_directory(self.directory)  # the new file's name must survive a crash too
        except OSError:
            os.close(fd)
            raise
        if self._file is not None:
            with contextlib.suppress(OSError):  # its records are durable or were never acknowledged
                os.close(self._file)
        self._file, self._segment = fd, self._segment + 1
        self._offset = self._synced = 0
        self._segment_suspect = False

    def _cut_back_to(self, offset: int) -> None:
        """Remove what a failed write or sync left past `offset`; if even that fails, the
        segment is suspect and the next write starts a fresh one."""
        try:
            os.ftruncate(self._file, offset)
        except OSError:
            log.warning("journal segment %s: could not cut a failed write back to offset %d; "
                        "continuing in a new segment", self._path(self._segment).name, offset)
            self._segment_suspect = True

    def _keep_aside(self, path: Path) -> Path:
        """Link (or copy) a damaged segment into `damaged/`: discarding the original leaves it there."""
        kept = self.damaged_directory / path.name
        if not kept.exists():
            self.damaged_directory.mkdir(exist_ok=True)
            try:
                os.link(path, kept)
            except OSError:
                shutil.copyfile(path, kept)
            _fsync_directory(self.damaged_directory)
        return kept

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.journal") if p.stem.isdigit())

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}.journal"


_Damage = tuple[int, int, str]  # offset, length, reason


def _scan(data: bytes, offset: int) -> tuple[list[tuple[bytes, int]], list[_Damage], _Damage | None]:
    """Records from `offset`: the intact ones as (payload, end offset), the damaged spans that
    intact records follow, and the damaged tail that none follows (if any)."""
    records: list[tuple[bytes, int]] = []
    damaged: list[_Damage] = []
    while offset < len(data):
        end, reason = _check(data, offset)
        if reason is None:
            records.append((data[offset + _HEADER.size : end], end))
            offset = end
            continue
        # With an intact header the damage is this record alone; otherwise look for the next record.
        if end is not None and end < len(data) and _check(data, end)[1] is None:
            resume = end
        else:
            resume = _next_record(data, offset + 1)
        if resume is None:
            return records, damaged, (offset, len(data) - offset, reason)
        damaged.append((offset, resume - offset, reason))
        offset = resume
    return records, damaged, None


def _check(data: bytes, offset: int) -> tuple[int | None, str | None]:
    """The end of the record at `offset` if its header is intact, and what is wrong with it, if anything."""
    if len(data) - offset < _HEADER.size:
        return None, "header cut short"
    magic, length, payload_crc, header_crc = _HEADER.unpack_from(data, offset)
    if magic != _MAGIC:
        return None, "no record header"
    if zlib.crc32(data[offset : offset + _FIELDS.size]) != header_crc:
        return None, "header checksum mismatch"
    end = offset + _HEADER.size + length
    if end > len(data):
        return None, "record runs past the end of the segment"
    if zlib.crc32(data[offset + _HEADER.size : end]) != payload_crc:
        return end, "payload checksum mismatch"
    return end, None


def _next_record(data: bytes, offset: int) -> int | None:
    while (offset := data.find(_MAGIC, offset)) != -1:
        if _check(data, offset)[1] is None:
            return offset
        offset += 1
    return None


def _is_legacy(data: bytes) -> bool:
    """Whether `data` begins with an intact record of the format before magic headers."""
    if len(data) < _LEGACY_HEADER.size:
        return False
    length, crc = _LEGACY_HEADER.unpack_from(data)
    payload = data[_LEGACY_HEADER.size : _LEGACY_HEADER.size + length]
    return len(payload) == length > 0 and zlib.crc32(payload) == crc


def _legacy_records(data: bytes, offset: int) -> list[tuple[bytes, int]]:
    """An old segment's records from `offset` up to the first that fails its checks."""
    records = []
    while offset + _LEGACY_HEADER.size <= len(data):
        length, crc = _LEGACY_HEADER.unpack_from(data, offset)
        start = offset + _LEGACY_HEADER.size
        payload = data[start : start + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        offset = start + length
        records.append((payload, offset))
    return records


def _write_all(fd: int, data: bytes) -> None:
    """`os.write` may write less than asked (a disk filling up): write the rest, or raise."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(28, os.strerror(28))  # ENOSPC in all but name; never loop forever
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
