"""The identities table (revenue/people.py): one row per identify event that names someone,
appended by every load and built from the events for a data dir that lacks it."""

from __future__ import annotations

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.ingest.rows import event_row
from postmetric.revenue.people import person_map
from postmetric.store.dialects import DIALECTS
from postmetric.store.events import encode_rows

from event_stores import KINDS, open_store

LAPTOP, PHONE, SHARED = ("00000000-0000-4000-8000-00000000000" + n for n in "123")


def identify(visitor_id: str, at: float, site_id: int = 1, **props: str):
    event = stored_event(visitor_id=visitor_id, timestamp=at, type=EventType.IDENTIFY, name="identify", props=props)
    event.site_id = site_id
    return event


def events() -> list:
    return [
        stored_event(visitor_id=LAPTOP, timestamp=900.0),  # a pageview names nobody
        identify(LAPTOP, 1000.0, user_id="42", email="ada@example.com"),
        identify(PHONE, 2000.0, email="  Ada@Example.COM "),  # no user id: the email names them
        identify(SHARED, 3000.0, user_id="42"),
        identify(SHARED, 4000.0, name="only a name"),  # names nobody: the user id stays
        identify(SHARED, 5000.0, user_id="43", site_id=2),  # another site's
    ]


def people(store, site_id: int = 1) -> dict[str, str]:
    d = DIALECTS[store.dialect]
    return {str(row["visitor_id"]): row["person"] for row in store.fetch(person_map(d, str(site_id)))}


EXPECTED = {LAPTOP: "user:42", PHONE: "email:ada@example.com", SHARED: "user:42"}


@pytest.mark.parametrize("dialect", KINDS)
def test_loads_append_the_identifies_that_name_someone(tmp_path, dialect):
    store = open_store(dialect, tmp_path)
    try:
        for event in events():  # one load each, as the writer may
            store.load(encode_rows([event_row(event)]))
        assert people(store) == EXPECTED
        assert people(store, 2) == {SHARED: "user:43"}
        assert store.fetch("SELECT count(*) AS n FROM identities")[0]["n"] == 4
        # A later identify as someone else wins.
        store.load(encode_rows([event_row(identify(PHONE, 6000.0, user_id="7"))]))
        assert people(store)[PHONE] == "user:7"
    finally:
        store.close()


@pytest.mark.parametrize("dialect", KINDS)
def test_a_data_dir_without_the_table_gets_it_built_from_its_events(tmp_path, dialect):
    store = open_store(dialect, tmp_path)
    store.load(encode_rows(event_row(e) for e in events()))
    store.fetch("DROP TABLE identities")  # a data dir from before the table, and before numbered migrations
    store.fetch("DROP TABLE schema_migrations")
    store.close()

    store = open_store(dialect, tmp_path)
    try:
        assert people(store) == EXPECTED
    finally:
        store.close()
