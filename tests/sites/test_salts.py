"""Cookieless salts: one per day shared by all nodes, yesterday's kept, older ones deleted."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from postmetric.sites.salts import cookieless_salts
from postmetric.store.database import session_factory
from postmetric.store.metadata import CookielessSalt

TODAY = date(2026, 3, 10)


def stored_days(session):
    return sorted(session.scalars(select(CookielessSalt.day)))


def test_the_first_call_of_the_day_creates_a_32_byte_salt(db_session):
    today, yesterday = cookieless_salts(db_session, today=TODAY)
    assert len(today) == 32 and yesterday is None
    assert stored_days(db_session) == [TODAY]


def test_later_calls_the_same_day_return_the_same_salt(db_session):
    first = cookieless_salts(db_session, today=TODAY)
    assert cookieless_salts(db_session, today=TODAY) == first


def test_the_next_day_gets_a_new_salt_and_keeps_yesterdays(db_session):
    monday, _ = cookieless_salts(db_session, today=TODAY)
    tuesday, yesterday = cookieless_salts(db_session, today=TODAY + timedelta(days=1))
    assert yesterday == monday and tuesday != monday


def test_salts_older_than_yesterday_are_deleted(db_session):
    for offset in range(4):
        cookieless_salts(db_session, today=TODAY + timedelta(days=offset))
    assert stored_days(db_session) == [TODAY + timedelta(days=2), TODAY + timedelta(days=3)]


def test_after_a_gap_there_is_no_yesterday(db_session):
    cookieless_salts(db_session, today=TODAY)
    _, yesterday = cookieless_salts(db_session, today=TODAY + timedelta(days=5))
    assert yesterday is None
    assert stored_days(db_session) == [TODAY + timedelta(days=5)]


def test_salts_come_from_the_given_rng(db_session):
    class FixedRng:
        def token_bytes(self, n):
            return b"s" * n

    assert cookieless_salts(db_session, today=TODAY, rng=FixedRng()) == (b"s" * 32, None)


def test_when_another_node_wins_the_race_its_salt_is_used(metadata_engine):
    sessions = session_factory(metadata_engine)

    class OtherNodeFirst:
        """Commits the other node's salt between our read and our insert."""

        def token_bytes(self, n):
            with sessions.begin() as other_node:
                other_node.add(CookielessSalt(day=TODAY, salt=b"o" * n))
            return b"m" * n

    with sessions() as session:
        assert cookieless_salts(session, today=TODAY, rng=OtherNodeFirst()) == (b"o" * 32, None)
    with sessions() as session:
        assert cookieless_salts(session, today=TODAY) == (b"o" * 32, None)


@pytest.mark.parametrize("days_back", [1, 2])
def test_yesterdays_salt_survives_even_when_today_exists(db_session, days_back):
    start = TODAY - timedelta(days=days_back)
    cookieless_salts(db_session, today=start)
    cookieless_salts(db_session, today=TODAY)
    _, yesterday = cookieless_salts(db_session, today=TODAY)
    assert (yesterday is not None) == (days_back == 1)
