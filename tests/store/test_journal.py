"""The ingestion journal: durable records, torn tails cut off, segments rotated and discarded."""

from postmetric.store.journal import EventJournal, Position


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


def test_a_torn_tail_is_cut_off_and_earlier_records_survive(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append(b"1\n")
    journal.append(b"2," + b"x" * 100)
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    segment.write_bytes(segment.read_bytes()[:-10])  # the crash interrupted the second write
    assert EventJournal(tmp_path).replay(None) == [(b"1\n", kept)]
    assert segment.stat().st_size == kept.offset


def test_a_corrupt_record_stops_the_replay(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append(b"1\n")
    journal.append(b"2\n")
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    data = bytearray(segment.read_bytes())
    data[-2] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert EventJournal(tmp_path).replay(None) == [(b"1\n", kept)]


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
