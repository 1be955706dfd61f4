"""Ids are never handed out twice, on SQLite and PostgreSQL: a deleted site's id (the key of its rows in
the event store) must not go to the next site, nor a deleted key's, goal's or user's to the next one."""

from __future__ import annotations

from alembic import command
from sqlalchemy import JSON, Integer, delete, func, insert, inspect, select, text

from postmetric.store.database import alembic_config, create_engine, migrate
from postmetric.store.metadata import Base, Site, SiteDeletion, UTCDateTime

from postmetric.accounts.users import create_user
from postmetric.sites.service import create_site, delete_site

# Tables keyed by something else than an issued integer id.
NOT_ISSUED = {"cookieless_salts", "site_members", "site_shares", "revenue_providers", "job_leases", "site_deletions"}


def issued_id_tables() -> list:
    return [table for table in Base.metadata.sorted_tables
            if "id" in table.c and table.c.id.primary_key and isinstance(table.c.id.type, Integer)]


def test_every_table_with_an_issued_id_is_known():
    names = {table.name for table in issued_id_tables()}
    assert names | NOT_ISSUED == set(Base.metadata.tables)
    assert {"users", "sites", "api_keys", "account_tokens", "goals", "funnels"} <= names


def test_the_last_rows_id_is_not_issued_again_in_any_table(metadata_engine):
    """Insert two rows, delete the newest, insert again: the new id is past both, in every table with one."""
    fresh = {table.name: [] for table in issued_id_tables()}
    with metadata_engine.begin() as connection:
        user_id = connection.execute(insert(Base.metadata.tables["users"]).values(
            email="parent@example.com", password_hash="x", created_at=func.now())).inserted_primary_key[0]
        site_id = create_site_row(connection, "parent.example", user_id)
        parents = {"users": user_id, "sites": site_id}
        for table in issued_id_tables():
            ids = []
            for n in range(3):
                row = minimal_row(table, parents, n)
                ids.append(connection.execute(insert(table).values(row)).inserted_primary_key[0])
                if n == 1:
                    connection.execute(delete(table).where(table.c.id == ids[-1]))
            fresh[table.name] = ids
    assert {name: ids[2] > ids[1] > ids[0] for name, ids in fresh.items()} == {name: True for name in fresh}


def create_site_row(connection, domain: str, owner_id: int) -> int:
    return connection.execute(insert(Site.__table__).values(
        public_id="pm_" + domain.replace(".", "")[:12].ljust(12, "x"), domain=domain, name=domain, timezone="UTC",
        currency="USD", owner_id=owner_id, allowed_hostnames=[], excluded_ips=[], excluded_countries=[],
        excluded_hostnames=[], excluded_paths=[], cookieless=False, created_at=func.now(), updated_at=func.now(),
    )).inserted_primary_key[0]


def minimal_row(table, parents: dict[str, int], n: int) -> dict:
    """Values for every required column of `table`: parents' ids (by table), unique text, now, empty JSON."""
    row = {}
    for column in table.c:
        if column.primary_key or column.nullable or column.server_default is not None:
            continue
        if column.foreign_keys:
            row[column.name] = parents[next(iter(column.foreign_keys)).column.table.name]
        elif column.name.endswith("_at") or isinstance(column.type, UTCDateTime):  # also an annotation's time
            row[column.name] = func.now()
        elif isinstance(column.type, JSON):
            row[column.name] = []
        elif column.type.python_type is bool:
            row[column.name] = False
        elif column.type.python_type is int:  # a plain number (an audit row's site, its counts)
            row[column.name] = n
        elif column.type.python_type is str:
            length = getattr(column.type, "length", None) or 64
            row[column.name] = f"{table.name[:4]}{n}{column.name}"[:length]
        else:
            raise AssertionError(f"no value for {table.name}.{column.name}")
    return row


def test_a_new_site_in_another_account_never_gets_a_deleted_sites_id(db_session):
    ada = create_user(db_session, email="ada@example.com", password="long enough")
    first = create_site(db_session, owner=ada, domain="first.example")
    deleted = create_site(db_session, owner=ada, domain="deleted.example")
    delete_site(db_session, deleted)
    db_session.commit()
    mallory = create_user(db_session, email="mallory@example.com", password="long enough")
    new = create_site(db_session, owner=mallory, domain="new.example")
    db_session.commit()
    assert new.id not in (first.id, deleted.id) and new.id > deleted.id
    assert db_session.scalars(select(SiteDeletion.site_id)).all() == [deleted.id]


def test_upgrading_keeps_every_row_and_reference_and_then_never_reuses_an_id(metadata_url):
    """A database at 0005 with sites, keys, members and goals: after 0006 nothing is lost, foreign keys
    still hold, and the largest id at the upgrade is never issued again (on SQLite, AUTOINCREMENT)."""
    engine = create_engine(metadata_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")
        connection.execute(text("INSERT INTO users (id, email, password_hash, created_at) VALUES"
                                " (1, 'ada@example.com', 'x', CURRENT_TIMESTAMP),"
                                " (2, 'bob@example.com', 'x', CURRENT_TIMESTAMP)"))
        for site_id in (1, 2, 3):
            connection.execute(text(
                "INSERT INTO sites (id, public_id, domain, name, timezone, currency, owner_id, allowed_hostnames,"
                " excluded_ips, excluded_countries, excluded_hostnames, excluded_paths, cookieless, retention_days,"
                " created_at, updated_at) VALUES (:id, :public_id, :domain, 'x', 'UTC', 'USD', 1, '[]', '[]', '[]',"
                " '[]', '[]', false, :retention, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"id": site_id, "public_id": f"pm_AAAAAAAAAAA{site_id}", "domain": f"s{site_id}.example",
                 "retention": {1: 90, 2: None, 3: 100_000}[site_id]})
            connection.execute(text("INSERT INTO site_members (site_id, user_id, role, created_at)"
                                    " VALUES (:site, 1, 'owner', CURRENT_TIMESTAMP)"), {"site": site_id})
            connection.execute(text("INSERT INTO api_keys (id, site_id, name, prefix, key_hash, created_at)"
                                    " VALUES (:id, :site, 'k', 'pm_', :hash, CURRENT_TIMESTAMP)"),
                               {"id": 10 + site_id, "site": site_id, "hash": f"hash{site_id}"})
            connection.execute(text("INSERT INTO goals (id, site_id, kind, event_name, display_name, created_at)"
                                    " VALUES (:id, :site, 'event', 'signup', 'Signup', CURRENT_TIMESTAMP)"),
                               {"id": 20 + site_id, "site": site_id})
        if connection.dialect.name == "postgresql":  # as if the rows had taken their ids from the sequences
            for table in ("users", "sites", "api_keys", "goals"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
    before = table_rows(engine)

    migrate(engine)

    after = table_rows(engine)
    with engine.connect() as connection:
        retention = dict(connection.execute(text("SELECT id, retention_days FROM sites")).all())
    assert retention == {1: 90, 2: None, 3: None}  # past the new bound of ten years: kept forever, as it nearly was
    assert {name: rows for name, rows in after.items() if name != "sites"} == {
        name: rows for name, rows in before.items() if name != "sites"} | {
        "site_deletions": [], "erasures": [], "annotations": [], "integrations": []}
    assert [row for row in after["sites"] if row[0] != 3] == [row for row in before["sites"] if row[0] != 3]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM sites WHERE id = 3"))  # the last site: its children go with it
        assert connection.execute(text("SELECT count(*) FROM api_keys WHERE site_id = 3")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM goals")).scalar() == 2
        new_id = create_site_row(connection, "new.example", 2)
        new_key = connection.execute(text("INSERT INTO api_keys (site_id, name, prefix, key_hash, created_at)"
                                          " VALUES (1, 'k', 'pm_', 'new', CURRENT_TIMESTAMP) RETURNING id")).scalar()
    assert new_id == 4 and new_key == 14
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            sql = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        assert {table.name: "AUTOINCREMENT" in sql[table.name] for table in issued_id_tables()} == {
            table.name: True for table in issued_id_tables()}
    engine.dispose()


def table_rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
        return {name: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}")))
                for name in names}
