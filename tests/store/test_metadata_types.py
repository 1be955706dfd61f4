"""Datetimes come back aware and in UTC, whatever the backend and the offset they were written with."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from postmetric.store.metadata import User


def test_aware_datetimes_are_stored_as_utc(db_session):
    berlin_summer = timezone(timedelta(hours=2))
    noon_in_berlin = datetime(2026, 7, 1, 12, tzinfo=berlin_summer)
    db_session.add(User(email="a@example.com", password_hash="x", created_at=noon_in_berlin))
    db_session.commit()
    db_session.expunge_all()
    created_at = db_session.scalars(select(User.created_at)).one()
    assert created_at == datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(db_session):
    db_session.add(User(email="a@example.com", password_hash="x", created_at=datetime(2026, 7, 1, 12)))
    with pytest.raises(StatementError, match="naive datetime"):
        db_session.flush()
