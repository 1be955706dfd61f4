"""`EventJournal.seal`: the current segment is closed at the next write, so that, loaded, it is deleted
(an erasure must not leave the person's rows in the journal on disk)."""

from __future__ import annotations

from postmetric.store.journal import EventJournal


def test_a_sealed_segment_is_left_at_the_next_write_and_then_discarded(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    journal.append(b"ada's row\n")
    first = journal.append(b"another row\n")
    journal.seal()
    after = journal.append(b"bob's row\n")
    assert after.segment == first.segment + 1 and after.offset > 0
    journal.append(b"and on\n")
    assert journal.append_position.segment == after.segment  # one new segment, not one per write
    journal.discard_before(after)
    assert [path.read_bytes().count(b"ada") for path in tmp_path.glob("*.journal")] == [0]
    journal.close()
    assert [payload for payload, _ in EventJournal(tmp_path).replay(None)] == [b"bob's row\n", b"and on\n"]


def test_sealing_an_empty_segment_changes_nothing(tmp_path):
    journal = EventJournal(tmp_path)
    journal.open_for_append()
    segment = journal.append_position.segment
    journal.seal()
    assert journal.append(b"row\n").segment == segment
    assert journal.append(b"row\n").segment == segment  # the seal was of an empty segment: no later roll
    journal.close()
