"""The span of time a stored event or payment may carry: from 2000-01-01 to a little after now.

Backfills and payments bring their own timestamps. One dated in year 1 or 9999 makes every
later date computation on it overflow (all-time queries start at a site's first event), so such
a timestamp is refused at the edge with a message naming the field, never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
# A payment may be stamped by a backend whose clock runs ahead, or in a zone east of UTC.
PAYMENT_AHEAD = timedelta(days=1)


def window_problem(moment: datetime, *, now: datetime, ahead: timedelta) -> str | None:
    """Why the aware `moment` is outside [EARLIEST, now + ahead], or None when it is inside.
    Aware datetimes compare without converting, so year 1 or 9999 with an offset cannot overflow."""
    if moment < EARLIEST:
        return f"is before {EARLIEST.date().isoformat()}; older data cannot be stored"
    if moment > now + ahead:
        return "is in the future"
    return None
