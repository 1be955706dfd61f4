"""Cookieless salts: the day's secret for hashing visitors, shared by every node through the database.

Secondary responsibilities:
1. Keep yesterday's salt, so a visit that crosses midnight stays one visitor.
2. Delete older salts: once a salt is gone, nobody can link its hashes to a visitor again.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postmetric.store.metadata import CookielessSalt

SALT_BYTES = 32


class Rng(Protocol):
    def token_bytes(self, nbytes: int, /) -> bytes: ...


def cookieless_salts(
    session: Session,
    *,
    today: date,
    rng: Rng = secrets,  # type: ignore[assignment]
) -> tuple[bytes, bytes | None]:
    """(today's salt, yesterday's salt or None), creating today's if missing.

    Commits: pass a session of its own, not one carrying other work.
    """
    yesterday = today - timedelta(days=1)
    rows = session.execute(
        select(CookielessSalt.day, CookielessSalt.salt).where(CookielessSalt.day >= yesterday)
    )
    salts: dict[date, bytes] = {day: salt for day, salt in rows}
    if today not in salts:
        salt = rng.token_bytes(SALT_BYTES)
        session.add(CookielessSalt(day=today, salt=salt))
        try:
            session.commit()
            salts[today] = salt
        except IntegrityError:
            # Another node created today's salt first; every node must hash with the same one.
            session.rollback()
            salts[today] = session.scalars(
                select(CookielessSalt.salt).where(CookielessSalt.day == today)
            ).one()
    session.execute(delete(CookielessSalt).where(CookielessSalt.day < yesterday))
    session.commit()
    return salts[today], salts.get(yesterday)
