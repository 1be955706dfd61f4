"""The ingestion journal: durable records, torn tails cut off, segments rotated and discarded."""

from postmetric.store.journal import EventJournal, Position


def test_records_replay_in_order_after_a_position(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    first = journal.append([[1, "a"], [2, "b"]])
    second = journal.append([[3, "c"]])
    journal.close()
    reopened = EventJournal(tmp_path)
    assert reopened.replay(None) == [([[1, "a"], [2, "b"]], first), ([[3, "c"]], second)]
    assert reopened.replay(first) == [([[3, "c"]], second)]
    assert reopened.replay(second) == []


def test_a_torn_tail_is_cut_off_and_earlier_records_survive(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append([[1]])
    journal.append([[2, "x" * 100]])
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    segment.write_bytes(segment.read_bytes()[:-10])  # the crash interrupted the second write
    assert EventJournal(tmp_path).replay(None) == [([[1]], kept)]
    assert segment.stat().st_size == kept.offset


def test_a_corrupt_record_stops_the_replay(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    kept = journal.append([[1]])
    journal.append([[2]])
    journal.close()
    [segment] = tmp_path.glob("*.journal")
    data = bytearray(segment.read_bytes())
    data[-2] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert EventJournal(tmp_path).replay(None) == [([[1]], kept)]


def test_segments_rotate_and_loaded_ones_are_discarded(tmp_path):
    journal = EventJournal(tmp_path, segment_bytes=64)
    journal.open_for_append()
    positions = [journal.append([["row", i, "padding" * 3]]) for i in range(4)]
    assert [p.segment for p in positions] == [1, 2, 3, 4]
    journal.discard_before(positions[2])
    assert sorted(p.name for p in tmp_path.glob("*.journal")) == [f"{n:012d}.journal" for n in (3, 4)]
    journal.close()
    assert [rows[0][1] for rows, _ in EventJournal(tmp_path).replay(Position(3, 0))] == [2, 3]


def test_appending_starts_a_new_segment_after_existing_ones(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    journal.append([[1]])
    journal.close()
    again = EventJournal(tmp_path)
    again.open_for_append()
    assert again.append([[2]]).segment == 2
    again.close()
