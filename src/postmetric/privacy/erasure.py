"""Erasure: a visitor's or a person's data removed from a site on request, and an audit row saying so.

`find_person(store, site_id, selector)` says whose data a request names; `erase(store, site_id, person)`
removes it; `record_erasure(session, ...)` notes who erased how much, when.

The rules:
1. A `visitor_id` names one device. A `user_id` or `email` names a person, and so does every key
   an identify or payment event names together with one of theirs (an identify with both their
   user id and email ties the two; emails trimmed and lower-cased, as revenue/people.py does).
   Their devices are the visitors whose identify or payment events name one of their keys, and
   those their payments with one of their emails are linked to. A shared computer identified
   as two people is erased with either, but does not tie the two people together.
2. Their events, visits and identities go from the event store (`EventStore.erase_visitors`).
3. Their payments stay, for the site's revenue totals, with the personal columns emptied
   (`ledger.ERASED_COLUMNS`: email, customer id, visitor, visit, checkout id) and the link
   `erased`, which no later delivery or load fills in again (`ledger.merged_delivery`). The
   payments are theirs when linked to one of their visitors, or when they carry one of the emails,
   user ids or customer ids their identify and payment events gave.
4. The audit row holds no personal data: the kind of selector and a keyed hash of its value
   (HMAC-SHA256 under the secret key), so an operator holding the value can check it was erased.

Callers flush the ingestion writer first, so that acknowledged rows not yet loaded are erased
too, and drop the visitors' cached visits (`VisitTracker.forget_visitors`).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import ValidationError
from postmetric.store.dialects import DIALECTS, lowered
from postmetric.store.events import EventStore
from postmetric.store.identities import EMAIL_KEY, USER_ID_KEY
from postmetric.store.metadata import ErasureRecord, User

SELECTOR_KINDS = ("visitor_id", "user_id", "email")
MAX_SELECTOR_LENGTH = 255
_CUSTOMER_ID_KEY = "'customer_id'"
_ABSENT = frozenset({"", "(none)"})  # how the dialects spell a missing property
# Keys found through keys (an email with a user id, that user id with another email…), this many hops at most.
_MAX_KEY_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Selector:
    """Whose data a request names: `kind` one of SELECTOR_KINDS; an email lower-cased and trimmed."""

    kind: str
    value: str


def parse_selector(raw: Mapping[str, Any]) -> Selector:
    """The one selector `raw` (a JSON body or query parameters) gives; ValidationError naming the field."""
    given = [kind for kind in SELECTOR_KINDS if raw.get(kind) not in (None, "")]
    if len(given) != 1:
        raise ValidationError("body", "give exactly one of visitor_id, user_id or email")
    [kind] = given
    return selector(kind, raw[kind])


def selector(kind: str, value: object) -> Selector:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(kind, "must be a non-empty string")
    if len(value) > MAX_SELECTOR_LENGTH:
        raise ValidationError(kind, f"must be at most {MAX_SELECTOR_LENGTH} characters")
    if kind == "visitor_id":
        try:
            value = str(uuid.UUID(value))
        except ValueError:
            raise ValidationError(kind, "must be a UUID, as the Visitor API shows it") from None
    elif kind == "email":
        value = value.strip().lower()
        if "@" not in value:
            raise ValidationError(kind, "must be an email address")
    return Selector(kind, value)


@dataclass(frozen=True, slots=True)
class Person:
    """What the site's event store holds of the person (or visitor) a selector names."""

    visitor_ids: tuple[str, ...]
    session_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()  # user ids and customer ids, as payments' customer_id may hold either


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: rows per store table, and payments scrubbed."""

    visitors: int
    events: int
    visits: int
    identities: int
    payments: int

    def to_json(self) -> dict[str, int]:
        return {"visitors": self.visitors, "events": self.events, "visits": self.visits,
                "identities": self.identities, "payments_scrubbed": self.payments}


def find_person(store: EventStore, site_id: int, selector: Selector) -> Person:
    """Every visitor of the site the selector names (rule 1), with their visits, emails and ids (blocking)."""
    d = DIALECTS[store.dialect]
    site = d.param("site", "int")
    base = {"site": d.param_value(site_id, "int")}
    email, user_id = lowered(d, f"trim({d.prop(EMAIL_KEY)})"), d.prop(USER_ID_KEY)
    naming = f"events WHERE site_id = {site} AND type IN ('identify', 'payment')"

    def keyed(emails: set[str], user_ids: set[str]) -> dict[str, Any]:
        return base | {"emails": d.param_value(sorted(emails), "strings"),
                       "user_ids": d.param_value(sorted(user_ids), "strings")}

    named_by = (f"({d.is_in(email, d.param('emails', 'strings'))}"
                f" OR {d.is_in(user_id, d.param('user_ids', 'strings'))})")
    if selector.kind == "visitor_id":
        visitors = {selector.value}
    else:
        emails = {selector.value} if selector.kind == "email" else set()
        user_ids = {selector.value} if selector.kind == "user_id" else set()
        for _ in range(_MAX_KEY_ROUNDS):  # an event naming one key with another: both are the person's
            rows = fetch(store, f"SELECT DISTINCT {email} AS email, {user_id} AS user_id FROM {naming}"
                                f" AND {named_by}", keyed(emails, user_ids))
            more_emails = {row["email"] for row in rows} - _ABSENT
            more_user_ids = {row["user_id"] for row in rows} - _ABSENT
            if more_emails <= emails and more_user_ids <= user_ids:
                break
            emails, user_ids = emails | more_emails, user_ids | more_user_ids
        params = keyed(emails, user_ids)
        visitors = {row["v"] for row in fetch(
            store, f"SELECT DISTINCT {d.text('visitor_id')} AS v FROM {naming} AND {named_by}"
                   f" UNION ALL SELECT DISTINCT {d.text('visitor_id')} AS v FROM {d.payments_table}"
                   f" WHERE site_id = {site} AND visitor_id IS NOT NULL"
                   f" AND {d.is_in(lowered(d, 'email'), d.param('emails', 'strings'))}", params)}
    if not visitors:
        return Person(visitor_ids=(), emails=(selector.value,) if selector.kind == "email" else (),
                      customer_ids=(selector.value,) if selector.kind == "user_id" else ())
    params = base | {"visitors": d.param_value(sorted(visitors), "strings")}
    in_visitors = d.is_in(d.text("visitor_id"), d.param("visitors", "strings"))
    named = fetch(store, f"SELECT DISTINCT {email} AS email, {user_id} AS user_id,"
                         f" {d.prop(_CUSTOMER_ID_KEY)} AS customer_id FROM {naming} AND {in_visitors}", params)
    sessions = fetch(store, f"SELECT DISTINCT {d.text('session_id')} AS s FROM events WHERE site_id = {site}"
                            f" AND {in_visitors}", params)
    emails = {row["email"] for row in named} | ({selector.value} if selector.kind == "email" else set())
    customer_ids = ({row["user_id"] for row in named} | {row["customer_id"] for row in named}
                    | ({selector.value} if selector.kind == "user_id" else set()))
    return Person(visitor_ids=tuple(sorted(visitors)), session_ids=tuple(sorted(row["s"] for row in sessions)),
                  emails=tuple(sorted(emails - _ABSENT)), customer_ids=tuple(sorted(customer_ids - _ABSENT)))


def fetch(store: EventStore, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`store.fetch` with the parameters `sql` uses (DuckDB refuses others)."""
    return store.fetch(sql, {name: value for name, value in params.items() if f"${name}:" in sql or f"{{{name}:" in sql})


def erase(store: EventStore, site_id: int, person: Person) -> Erasure:
    """Remove the person's events, visits and identities, and scrub their payments (blocking)."""
    removed = (store.erase_visitors(site_id, person.visitor_ids) if person.visitor_ids
               else {"events": 0, "sessions": 0, "identities": 0})
    scrubbed = store.scrub_payments(site_id, visitor_ids=person.visitor_ids, emails=person.emails,
                                    customer_ids=person.customer_ids)
    return Erasure(visitors=len(person.visitor_ids), events=removed["events"], visits=removed["sessions"],
                   identities=removed["identities"], payments=scrubbed)


def subject_hash(selector: Selector, secret_key: str) -> str:
    """The audit's keyed hash of what was erased (rule 4)."""
    return hmac.new(secret_key.encode(), f"{selector.kind}:{selector.value}".encode(), hashlib.sha256).hexdigest()


def recent_erasures(session: Session, site_id: int, *, limit: int = 100) -> list[tuple[ErasureRecord, str | None]]:
    """The site's latest erasures, newest first, with the email of the account that asked (None for
    the CLI, or an account since deleted)."""
    rows = session.execute(
        select(ErasureRecord, User.email).outerjoin(User, User.id == ErasureRecord.user_id)
        .where(ErasureRecord.site_id == site_id).order_by(ErasureRecord.created_at.desc(), ErasureRecord.id.desc())
        .limit(limit))
    return [(record, email) for record, email in rows]


def record_erasure(session: Session, *, site_id: int, user_id: int | None, selector: Selector, erasure: Erasure,
                   secret_key: str, now: datetime) -> ErasureRecord:
    """The audit row of an erasure (rule 4); `user_id` None when an operator ran `postmetric erase`."""
    record = ErasureRecord(site_id=site_id, user_id=user_id, selector=selector.kind,
                           subject_hash=subject_hash(selector, secret_key), visitors=erasure.visitors,
                           events=erasure.events, visits=erasure.visits, identities=erasure.identities,
                           payments=erasure.payments, created_at=now)
    session.add(record)
    session.flush()
    return record
