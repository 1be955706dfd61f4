"""sites/purge.py on both metadata databases: rows a deletion left in the event store (before ids were
kept) reserve their site id, so no new site is given it."""

from __future__ import annotations

import pytest

from event_stores import open_store
from factories import stored_event
from postmetric.accounts.users import create_user
from postmetric.ingest.rows import event_row
from postmetric.sites.purge import reserve_stored_site_ids
from postmetric.sites.service import create_site
from postmetric.store.database import session_factory
from postmetric.store.events import encode_rows


@pytest.fixture
def store(tmp_path):
    store = open_store("duckdb", tmp_path)
    yield store
    store.close()


def test_a_new_site_gets_an_id_past_every_site_id_in_the_event_store(metadata_engine, store):
    Session = session_factory(metadata_engine)
    with Session() as session:
        owner = create_user(session, email="ada@example.com", password="long enough")
        kept = create_site(session, owner=owner, domain="kept.example")
        session.commit()
    left_behind = kept.id + 5  # a site deleted before 0006: the sequence forgot it
    event = stored_event()
    event.site_id = left_behind
    store.load(encode_rows([event_row(event)]))

    assert reserve_stored_site_ids(Session, store) == left_behind
    assert reserve_stored_site_ids(Session, store) == left_behind  # again: nothing moves back
    with Session() as session:
        new = create_site(session, owner=session.merge(owner), domain="new.example")
        session.commit()
    assert new.id == left_behind + 1


def test_an_empty_store_leaves_the_sequence_alone(metadata_engine, store):
    Session = session_factory(metadata_engine)
    assert reserve_stored_site_ids(Session, store) == 0
    with Session() as session:
        owner = create_user(session, email="ada@example.com", password="long enough")
        assert create_site(session, owner=owner, domain="first.example").id == 1
        session.commit()


def test_a_sequence_already_past_the_store_is_not_moved_back(metadata_engine, store):
    Session = session_factory(metadata_engine)
    with Session() as session:
        owner = create_user(session, email="ada@example.com", password="long enough")
        ids = [create_site(session, owner=owner, domain=f"s{n}.example").id for n in range(3)]
        session.commit()
    event = stored_event()
    event.site_id = ids[0]
    store.load(encode_rows([event_row(event)]))
    reserve_stored_site_ids(Session, store)
    with Session() as session:
        assert create_site(session, owner=session.merge(owner), domain="new.example").id == ids[-1] + 1
