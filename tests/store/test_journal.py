"""The ingestion journal: durable records, torn tails cut off, damaged records skipped one by one,
segments rotated and discarded, and a full disk that acknowledges nothing it did not keep."""

import logging
import shutil
import struct
import zlib

import pytest

from postmetric.store.journal import EventJournal, Position
from small_disk import fill, free, small_disk

# The record layout the journal documents: magic, length, payload CRC, header CRC (u32 each), payload.
MAGIC, LENGTH, PAYLOAD_CRC, HEADER_CRC, PAYLOAD = 0, 4, 8, 12, 16


def test_records_replay_in_order_after_a_position(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    first = journal.append(b"1,a\n2,b\n")
    second = journal.append(b"3,c\n")
    journal.close()
    reopened = EventJournal(tmp_path)
    assert reopened.replay(None) == [(b"1,a\n2,b\n", first), (b"3,c\n", second)]
    assert reopened.replay(first) == [(b"3,c\n", second)]
    assert reopened.replay(second) == []


def test_a_torn_tail_is_cut_off_quietly_and_earlier_records_survive(tmp_path, caplog):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append(b"1\n")
    journal.append(b"2," + b"x" * 100)
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    for torn in (segment.read_bytes()[:-10], segment.read_bytes()[: kept.offset + 7]):
        segment.write_bytes(torn)  # the crash interrupted the second write, in its payload or its header
        with caplog.at_level(logging.INFO, logger="postmetric.store.journal"):
            assert EventJournal(tmp_path).replay(None) == [(b"1\n", kept)]
        assert segment.stat().st_size == kept.offset
    assert not caplog.records and not (tmp_path / "damaged").exists()


def test_a_tail_of_zeros_left_by_a_crash_is_cut_off_quietly(tmp_path, caplog):
    """A file system may extend the file before the data lands: the tail reads as zeros."""
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append(b"1\n")
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    segment.write_bytes(segment.read_bytes() + b"\0" * 4096)
    with caplog.at_level(logging.INFO, logger="postmetric.store.journal"):
        assert EventJournal(tmp_path).replay(None) == [(b"1\n", kept)]
    assert segment.stat().st_size == kept.offset and not caplog.records


def _journal_of_two_segments(directory):
    """Five records in segment 1 (closed, so any damage there is damage, not a torn tail), two in segment 2."""
    journal = EventJournal(directory)
    journal.open_for_append()
    records = [(payload, journal.append(payload)) for payload in (b"%d,row\n" % i * (i + 1) for i in range(5))]
    journal.close()
    journal = EventJournal(directory)
    journal.open_for_append()
    records += [(payload, journal.append(payload)) for payload in (b"5,row\n", b"6,row\n6,row\n")]
    journal.close()
    return records


def _start(records, index):
    previous = records[index - 1][1] if index else None
    return previous.offset if previous is not None and previous.segment == records[index][1].segment else 0


@pytest.mark.parametrize("field,byte", [("payload", PAYLOAD + 3), ("length, low byte", LENGTH),
                                        ("length, high byte", LENGTH + 3), ("magic", MAGIC),
                                        ("payload checksum", PAYLOAD_CRC), ("header checksum", HEADER_CRC)])
@pytest.mark.parametrize("index", [0, 2, 4, 5], ids=["first", "middle", "last of a closed segment",
                                                     "first of the open segment"])
def test_a_damaged_record_is_skipped_alone_logged_and_its_segment_kept_aside(tmp_path, caplog, field, byte, index):
    records = _journal_of_two_segments(tmp_path)
    segment = tmp_path / f"{records[index][1].segment:012d}.journal"
    data = bytearray(segment.read_bytes())
    data[_start(records, index) + byte] ^= 0x5A
    segment.write_bytes(bytes(data))

    with caplog.at_level(logging.INFO, logger="postmetric.store.journal"):
        replayed = EventJournal(tmp_path).replay(None)

    assert replayed == records[:index] + records[index + 1:]
    [line] = [r.getMessage() for r in caplog.records]
    assert segment.name in line and f"offset {_start(records, index)}" in line and "damaged" in line
    kept_aside = tmp_path / "damaged" / segment.name
    assert kept_aside.read_bytes() == bytes(data)
    assert str(kept_aside) in line


def test_any_single_damaged_byte_costs_exactly_its_own_record(tmp_path):
    """The class, not one example: flip every byte of both segments in turn."""
    original = tmp_path / "original"
    records = _journal_of_two_segments(original)
    for index, (payload, end) in enumerate(records):
        name = f"{end.segment:012d}.journal"
        for offset in range(_start(records, index), end.offset):
            case = tmp_path / f"case-{index}-{offset}"
            shutil.copytree(original, case)
            data = bytearray((case / name).read_bytes())
            data[offset] ^= 0xFF
            (case / name).write_bytes(bytes(data))
            assert EventJournal(case).replay(None) == records[:index] + records[index + 1:], (index, offset)
            shutil.rmtree(case)


def test_a_kept_aside_segment_survives_discard_and_later_replays(tmp_path):
    records = _journal_of_two_segments(tmp_path)
    segment = tmp_path / f"{1:012d}.journal"
    data = bytearray(segment.read_bytes())
    data[_start(records, 2) + PAYLOAD] ^= 0xFF
    segment.write_bytes(bytes(data))
    journal = EventJournal(tmp_path)
    journal.replay(None)
    journal.open_for_append()
    journal.discard_before(journal.append(b"7\n"))
    journal.close()
    assert sorted(p.name for p in tmp_path.glob("*.journal")) == [f"{3:012d}.journal"]
    assert (tmp_path / "damaged" / segment.name).read_bytes() == bytes(data)
    assert [payload for payload, _ in EventJournal(tmp_path).replay(None)] == [b"7\n"]


def test_segments_rotate_and_loaded_ones_are_discarded(tmp_path):
    journal = EventJournal(tmp_path, segment_bytes=64)
    journal.open_for_append()
    positions = [journal.append(b"row %d " % i + b"padding" * 6) for i in range(4)]
    assert [p.segment for p in positions] == [1, 2, 3, 4]
    journal.discard_before(positions[2])
    assert sorted(p.name for p in tmp_path.glob("*.journal")) == [f"{n:012d}.journal" for n in (3, 4)]
    journal.close()
    assert [payload[:5] for payload, _ in EventJournal(tmp_path).replay(Position(3, 0))] == [b"row 2", b"row 3"]


def test_appending_starts_a_new_segment_after_existing_ones(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    journal.append(b"1\n")
    journal.close()
    again = EventJournal(tmp_path)
    again.open_for_append()
    assert again.append(b"2\n").segment == 2
    again.close()


def test_numbering_continues_after_the_stores_checkpoint_even_without_files(tmp_path):
    """If the journal's files are gone but the store remembers segment 7, new records must not
    reuse lower numbers: a later replay after segment 7 would skip them."""
    journal = EventJournal(tmp_path)
    journal.open_for_append(after=Position(7, 1234))
    assert journal.append(b"1\n").segment == 8
    journal.close()


@pytest.mark.parametrize("segment_bytes", [16 * 1024 * 1024, 40_000], ids=["one segment", "rotating"])
def test_a_full_disk_acknowledges_only_whole_records_and_recovers_when_space_returns(tmp_path, segment_bytes):
    with small_disk(tmp_path / "disk", "1m") as disk:
        journal = EventJournal(disk / "journal", segment_bytes=segment_bytes)
        journal.open_for_append()
        fill(disk, leave=96 * 1024)
        acknowledged, refused = [], 0
        for i in range(400):
            payload = b"%d," % i + b"x" * (500 + 137 * (i % 50)) + b"\n"  # sizes that straddle the last page
            try:
                acknowledged.append((payload, journal.append(payload)))
            except OSError:
                refused += 1
            if refused == 20:
                break
        assert refused == 20 and len(acknowledged) > 5
        end = acknowledged[-1][1]
        assert (disk / "journal" / f"{end.segment:012d}.journal").stat().st_size == end.offset

        free(disk)
        acknowledged += [(payload, journal.append(payload)) for payload in (b"after,1\n", b"after,2\n" * 300)]
        journal.close()  # closing without any flush: every acknowledged record is already on disk
        assert EventJournal(disk / "journal").replay(None) == acknowledged


def test_segments_written_before_record_magic_still_replay(tmp_path):
    """A journal left by an older version (records `<u32 length><u32 crc32>` + payload) is loaded at upgrade."""
    old = b"".join(struct.pack("<II", len(p), zlib.crc32(p)) + p for p in (b"1,a\n", b"2,b\n"))
    (tmp_path / f"{3:012d}.journal").write_bytes(old)
    journal = EventJournal(tmp_path)
    assert journal.replay(None) == [(b"1,a\n", Position(3, 12)), (b"2,b\n", Position(3, 24))]
    assert journal.replay(Position(3, 12)) == [(b"2,b\n", Position(3, 24))]
    journal.open_for_append(after=Position(3, 24))
    assert journal.append(b"3\n").segment == 4
    journal.close()
