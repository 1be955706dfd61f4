"""Erasure and export over HTTP, on both event stores: after an erasure no API finds the person,
revenue totals stay, the audit row holds no personal data; the site export round-trips.

The site (example.com, USD), the clock at Wed 11 Mar 2026 12:00 UTC:
  Ada on her laptop (visitor A) identified with user id u-42 and her email, on her phone (P)
  with the user id alone; she paid 49 (by email) and 10 (with visitor P's id, refunded 4).
  Bob (B) identified by email and paid 100 as customer cus_b.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import select

from postmetric.config import Settings
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import ErasureRecord

from event_stores import KINDS, clickhouse_url
from stats_api_support import NOW, bearer, clock, owner, pageview, send  # noqa: F401 - clock, owner: fixtures

A = "00000000-0000-4000-8000-00000000000a"
P = "00000000-0000-4000-8000-00000000000b"
B = "00000000-0000-4000-8000-00000000000c"
ADA_SECRETS = ("ada@example.com", "u-42", "Ada Lovelace", A, P, "cus_ada")


@pytest.fixture(params=KINDS)
def settings(request, tmp_path, derived_data_dir) -> Settings:
    store = {"clickhouse_url": clickhouse_url(tmp_path)} if request.param == "clickhouse" else {}
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="", **store)


def pay(client, tenant, transaction_id: str, amount: str, status: int = 201, **fields) -> None:
    body = {"transaction_id": transaction_id, "amount": amount, "currency": "USD",
            "timestamp": "2026-03-10T10:00:00Z"} | fields
    response = client.post("/api/v1/payments", json=body, headers=bearer(tenant.key))
    assert response.status_code == status, response.text


@pytest.fixture
def shop(client, owner):
    day = NOW.replace(day=10, hour=9)
    send(client, owner, [
        pageview(owner, "/", visitor=A, session="00000000-0000-4000-8000-000000000101", at=day,
                 referrer="https://www.google.com/"),
        pageview(owner, "/", visitor=A, session="00000000-0000-4000-8000-000000000101", at=day.replace(minute=1),
                 type="identify", props={"user_id": "u-42", "email": " Ada@Example.com", "name": "Ada Lovelace",
                                         "customer_id": "cus_ada"}),
        pageview(owner, "/pricing", visitor=P, session="00000000-0000-4000-8000-000000000102", at=day.replace(hour=10)),
        pageview(owner, "/pricing", visitor=P, session="00000000-0000-4000-8000-000000000102",
                 at=day.replace(hour=10, minute=1), type="identify", props={"user_id": "u-42"}),
        pageview(owner, "/", visitor=B, session="00000000-0000-4000-8000-000000000103", at=day.replace(hour=11)),
        pageview(owner, "/", visitor=B, session="00000000-0000-4000-8000-000000000103",
                 at=day.replace(hour=11, minute=1), type="identify", props={"email": "bob@example.com"}),
    ])
    pay(client, owner, "ch_1", "49.00", email="ada@example.com")
    pay(client, owner, "ch_2", "10", visitor_id=P)
    pay(client, owner, "ch_2", "4", visitor_id=P, refunded=True)
    pay(client, owner, "ch_3", "100", customer_id="cus_b", email="bob@example.com")
    return owner


def erase(client, tenant, **selector) -> dict:
    response = client.post(f"/api/v1/sites/{tenant.public_id}/erasures", json=selector, headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    return response.json()


def revenue_and_visitors(client, tenant, filters: list | None = None) -> tuple[float, int]:
    response = client.post("/api/v1/query", headers=bearer(tenant.key), json={
        "site_id": tenant.public_id, "date_range": "all", "metrics": ["revenue", "visitors"],
        "filters": filters or []})
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    return tuple(rows[0]["metrics"]) if rows else (0.0, 0)


def site_export(client, tenant) -> dict[str, list[dict]]:
    response = client.get(f"/api/v1/sites/{tenant.public_id}/export", headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
                for name in archive.namelist()}


def test_erasing_a_person_by_email_removes_every_device_and_keeps_revenue(client, shop, settings):
    before = revenue_and_visitors(client, shop)
    assert before == (155.0, 3)
    by_name = [["contains", "event:props:name", ["Lovelace"]]]
    assert revenue_and_visitors(client, shop, by_name)[1] == 1

    body = erase(client, shop, email="ADA@example.com ")

    assert {key: body[key] for key in ("selector", "visitors", "events", "visits", "identities", "payments_scrubbed")} \
        == {"selector": "email", "visitors": 2, "events": 4, "visits": 2, "identities": 2, "payments_scrubbed": 3}
    assert revenue_and_visitors(client, shop) == (155.0, 1)  # her money stays, she does not
    assert revenue_and_visitors(client, shop, by_name)[1] == 0
    for visitor in (A, P):
        assert client.get(f"/api/v1/visitors/{visitor}", headers=bearer(shop.key)).status_code == 404
    customers = client.get("/api/v1/customers", params={"date_range": "all"}, headers=bearer(shop.key)).json()
    assert [row["customer"] for row in customers["results"]] == ["bob@example.com"]
    exported = site_export(client, shop)
    text = str(exported)
    assert not [secret for secret in ADA_SECRETS if secret.lower() in text.lower()]
    assert sorted(row["transaction_id"] + row["kind"] for row in exported["payments.csv"]) == \
        ["ch_1new", "ch_2new", "ch_2refund", "ch_3new"]
    for selector in ({"email": "ada@example.com"}, {"user_id": "u-42"}, {"visitor_id": P}):
        person = client.get(f"/api/v1/sites/{shop.public_id}/people/export", params=selector,
                            headers=bearer(shop.token)).json()
        assert (person["visitor_ids"], person["events"], person["visits"], person["payments"]) == ([], [], [], [])
    # The audit row: who, when, how much; nothing that names her.
    engine = create_engine(settings.metadata_url)
    with session_factory(engine)() as session:
        [record] = session.scalars(select(ErasureRecord)).all()
        stored = str({column.name: getattr(record, column.name) for column in ErasureRecord.__table__.columns})
    engine.dispose()
    assert (record.site_id, record.selector, record.events, record.payments) == (shop.site_id, "email", 4, 3)
    assert record.user_id is not None
    assert not [secret for secret in ADA_SECRETS if secret.lower() in stored.lower()]
    audit = client.get(f"/api/v1/sites/{shop.public_id}/erasures", headers=bearer(shop.token))
    assert audit.status_code == 200, audit.text
    [listed] = audit.json()["erasures"]
    assert {key: listed[key] for key in ("id", "selector", "erased_by", "events", "payments_scrubbed")} == \
        {"id": body["id"], "selector": "email", "erased_by": "owner@example.com", "events": 4, "payments_scrubbed": 3}
    assert not [secret for secret in ADA_SECRETS if secret.lower() in audit.text.lower()]


def test_a_later_delivery_of_an_erased_payment_does_not_bring_her_back(client, shop):
    erase(client, shop, user_id="u-42")
    pay(client, shop, "ch_1", "49.00", status=200, email="ada@example.com", customer_id="cus_ada")
    pay(client, shop, "ch_1", "49.00", email="ada@example.com", refunded=True)
    payments = {(p["transaction_id"], p["kind"]): p for p in site_export(client, shop)["payments.csv"]}
    assert (payments[("ch_1", "new")]["email"], payments[("ch_1", "new")]["customer_id"]) == ("", "")
    assert payments[("ch_1", "refund")]["email"] == ""


def test_erasing_one_visitor_leaves_the_persons_other_devices(client, shop):
    response = client.delete(f"/api/v1/sites/{shop.public_id}/visitors/{P}", headers=bearer(shop.token))
    assert response.status_code == 200, response.text
    assert {key: response.json()[key] for key in ("selector", "visitors", "events", "payments_scrubbed")} == \
        {"selector": "visitor_id", "visitors": 1, "events": 2, "payments_scrubbed": 2}
    assert client.get(f"/api/v1/visitors/{P}", headers=bearer(shop.key)).status_code == 404
    assert client.get(f"/api/v1/visitors/{A}", headers=bearer(shop.key)).status_code == 200


def test_events_acknowledged_but_not_loaded_are_erased_too(client, shop):
    writer = client.app.state.services.writer
    response = client.post("/api/v1/events", json=[pageview(shop, "/late", visitor=B)], headers=bearer(shop.key))
    assert response.status_code == 202
    assert writer.pending == 1  # journaled, not yet in the store
    body = erase(client, shop, email="bob@example.com")
    assert body["events"] == 3
    writer.flush()
    assert client.get(f"/api/v1/visitors/{B}", headers=bearer(shop.key)).status_code == 404


def test_the_journal_on_disk_forgets_the_person_once_the_next_events_are_loaded(client, shop, settings):
    erase(client, shop, email="ada@example.com")
    send(client, shop, [pageview(shop, "/after", visitor=B)])
    journaled = b"".join(path.read_bytes() for path in settings.journal_dir.glob("*.journal"))
    assert b"/after" in journaled or not journaled
    assert b"Lovelace" not in journaled and A.encode() not in journaled


def test_an_erased_visitor_coming_back_starts_a_new_visit(client, shop):
    # Bob is on the site (his visit is cached) when he asks to be erased, and clicks on.
    session = "00000000-0000-4000-8000-000000000104"
    send(client, shop, [pageview(shop, "/cart", visitor=B, session=session)])
    erase(client, shop, visitor_id=B)
    send(client, shop, [pageview(shop, "/checkout", visitor=B, session=session)])
    store = client.app.state.services.events
    [visit] = store.fetch(f"SELECT entry_page FROM {'sessions FINAL' if store.dialect == 'clickhouse' else 'sessions'}"
                          f" WHERE site_id = {shop.site_id} AND span_visitor = '{B}'")
    assert visit["entry_page"] == "/checkout"  # not the erased visit's "/cart"


def test_every_stored_event_is_in_the_export_once(client, shop):
    stored = client.app.state.services.events.fetch(
        "SELECT count(*) AS n FROM events WHERE site_id = 1")[0]["n"]
    events = site_export(client, shop)["events.csv"]
    keys = [(row["visitor_id"], row["timestamp"], row["type"]) for row in events]
    assert len(keys) == len(set(keys)) == stored == 6
    assert {row["pathname"] for row in events} == {"/", "/pricing"}
    assert len(site_export(client, shop)["visits.csv"]) == 3


@pytest.mark.parametrize("body", [{}, {"email": "ada@example.com", "user_id": "u-42"}, {"email": 5},
                                  {"email": "not an address"}, {"visitor_id": "abc"}, {"user_id": "x" * 256}])
def test_a_bad_selector_is_400_naming_the_field(client, shop, body):
    response = client.post(f"/api/v1/sites/{shop.public_id}/erasures", json=body, headers=bearer(shop.token))
    assert response.status_code == 400
    assert response.json()["error"].split(":")[0] in ("body", "email", "user_id", "visitor_id")


def test_only_owners_and_admins_may_erase_or_export(client, shop):
    for method, path in (("POST", "erasures"), ("GET", "erasures"), ("GET", "export"), ("GET", "people/export?email=a@b.c"),
                         ("DELETE", f"visitors/{A}")):
        response = client.request(method, f"/api/v1/sites/{shop.public_id}/{path}", headers=bearer(shop.key),
                                  json={"email": "ada@example.com"} if method == "POST" else None)
        assert response.status_code == 403, (path, response.text)
    assert client.get(f"/api/v1/visitors/{A}", headers=bearer(shop.key)).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), [
    ("DELETE", "visitors/" + "9" * 5000, None),
    ("DELETE", "visitors/%00", None),
    ("POST", "erasures", b"\xff\xfe"),
    ("POST", "erasures", b"[1, 2]"),
    ("POST", "erasures", b'{"email": "a\\u0000@example.com"}'),
    ("POST", "erasures", b'{"user_id": "\\ud800"}'),
    ("GET", "people/export?email=%00%27@x.y", None),
    ("GET", "people/export?user_id=%27%3B%20DROP%20TABLE%20events", None),
    ("GET", "people/export?visitor_id=not-a-uuid", None),
])
def test_odd_input_is_never_a_500(client, shop, method, path, body):
    response = client.request(method, f"/api/v1/sites/{shop.public_id}/{path}", content=body,
                              headers=bearer(shop.token) | {"content-type": "application/json"})
    assert response.status_code < 500, response.text
    assert revenue_and_visitors(client, shop) == (155.0, 3)  # nothing erased by accident
