"""`postmetric demo` and `postmetric.demo`: a demo account and site with realistic traffic up to now."""

import io
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from postmetric.accounts.users import authenticate, get_user_by_email
from postmetric.cli import main
from postmetric.demo import DEMO_DOMAIN, DemoSite, EventStoreBusy, generate, progress_bar, set_up_demo
from postmetric.sites.funnels import list_funnels
from postmetric.sites.goals import delete_goal, list_goals
from postmetric.sites.service import get_site
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.store.database import create_engine, session_factory
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.metadata import Annotation, Integration

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
LOGIN = re.compile(r"(?P<events>[\d,]+) events, (?P<visitors>[\d,]+) visitors, (?P<visits>[\d,]+) visits.*\n"
                   r"  dashboard: (?P<url>\S+)\n  email: +(?P<email>\S+)\n  password: +(?P<password>.+)\n")


def number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """The demo's data dir, with the default metadata store (SQLite) inside it."""
    for name in [name for name in os.environ if name.startswith("POSTMETRIC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def metadata(data_dir: Path):
    return create_engine(f"sqlite:///{data_dir.resolve() / 'postmetric.sqlite'}")


def headline_all_time(events_path: Path, site_id: int, now: datetime) -> tuple[int, int]:
    store = DuckDBEventStore(events_path)
    try:
        query = parse_query({"site_id": DEMO_DOMAIN, "metrics": ["visitors", "visits"], "date_range": "all"},
                            site_timezone="UTC", now=now)
        return tuple(StatsEngine(store).run(query, site_id=site_id)["results"][0]["metrics"])
    finally:
        store.close()


def event_rows(events_path: Path) -> list[tuple]:
    with duckdb.connect(str(events_path), read_only=True) as db:
        return db.execute("SELECT site_id, count(*), min(timestamp), max(timestamp), count(DISTINCT hostname) "
                          "FROM events GROUP BY site_id ORDER BY site_id").fetchall()


@contextmanager
def held_open(path: Path) -> Iterator[None]:
    """What a running `postmetric serve` does to the event store: another process keeps it open."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; db = duckdb.connect(sys.argv[1]); print('open', flush=True); "
                               "sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        yield
    finally:
        holder.communicate("", timeout=10)


def test_the_command_creates_the_demo_account_and_site_with_traffic_up_to_now(data_dir):
    started = datetime.now(UTC).replace(tzinfo=None)
    done = subprocess.run([sys.executable, "-m", "postmetric", "demo", "--events", "3000"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo: [" in done.stderr and "100%" in done.stderr
    login = LOGIN.search(done.stdout)
    assert login, done.stdout
    assert (login["url"], login["email"]) == ("http://127.0.0.1:8000", "demo@postmetric.local")
    engine = metadata(data_dir)
    with session_factory(engine)() as session:
        user = authenticate(session, email="demo@postmetric.local", password=login["password"])
        site = get_site(session, DEMO_DOMAIN)
        assert user is not None and site is not None and site.owner_id == user.id
        site_id = site.id
    engine.dispose()
    [(events_site, events, first, last, hostnames)] = event_rows(data_dir / "events.duckdb")
    assert (events_site, events, number(login["events"])) == (site_id, 3000, 3000)
    assert started - timedelta(days=90) <= first and last <= datetime.now(UTC).replace(tzinfo=None)
    assert last > started - timedelta(days=1)  # the traffic runs up to now, not to some fixed date
    assert hostnames == 3  # demo.postmetric.local, docs. and shop. under it
    assert headline_all_time(data_dir / "events.duckdb", site_id, datetime.now(UTC)) == (
        number(login["visitors"]), number(login["visits"]))


def test_a_second_run_refreshes_the_same_site_and_keeps_the_password(data_dir, capsys):
    assert main(["demo", "--events", "2000", "--password", "a demo password"]) == 0
    first = LOGIN.search(capsys.readouterr().out)
    assert first["password"] == "a demo password"

    assert main(["demo", "--events", "1500", "--password", "another password"]) == 0
    out, err = capsys.readouterr()
    second = LOGIN.search(out)
    assert second["password"] == "unchanged (the account already existed)"
    assert "100%" in err
    [(site_id, events, *_)] = event_rows(data_dir / "events.duckdb")
    assert (events, number(second["events"])) == (1500, 1500)  # replaced, not added to
    assert headline_all_time(data_dir / "events.duckdb", site_id, datetime.now(UTC)) == (
        number(second["visitors"]), number(second["visits"]))  # the sessions table was rebuilt too
    engine = metadata(data_dir)
    with session_factory(engine)() as session:
        assert authenticate(session, email="demo@postmetric.local", password="a demo password") is not None
    engine.dispose()


def test_a_running_server_makes_the_command_refuse_and_change_nothing(data_dir, capsys):
    data_dir.mkdir(parents=True)
    with held_open(data_dir / "events.duckdb"):
        code = main(["demo", "--events", "1000"])
    out, err = capsys.readouterr()

    assert (code, out) == (2, "")
    assert err.startswith("error: the event store ") and "stop the server first" in err
    engine = metadata(data_dir)
    with session_factory(engine)() as session:
        assert get_user_by_email(session, "demo@postmetric.local") is None  # no password was lost
    engine.dispose()


def test_set_up_demo_is_deterministic_for_a_seed_and_an_end_time(tmp_path, db_session):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    setups = [
        set_up_demo(db_session, events_path=tmp_path / "events.duckdb", email="Demo@Example.com", password=None,
                    events=4000, days=30, now=now, rng=random.Random(7))
        for _ in range(2)
    ]

    assert setups[0].generated == setups[1].generated
    assert setups[0].email == "demo@example.com" and len(setups[0].password) == 16
    assert setups[1].password is None
    [(_, events, first, last, _)] = event_rows(tmp_path / "events.duckdb")
    assert events == 4000
    assert now.replace(tzinfo=None) - timedelta(days=30) <= first <= last < now.replace(tzinfo=None)


def test_the_demo_site_has_goals_and_a_funnel_and_a_refresh_keeps_the_users_own(tmp_path, db_session):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    setup = lambda: set_up_demo(db_session, events_path=tmp_path / "events.duckdb",  # noqa: E731
                                email="demo@example.com", password=None, events=4000, days=30, now=now)
    setup()
    site = get_site(db_session, DEMO_DOMAIN)
    assert [goal.display_name for goal in list_goals(db_session, site)] == [
        "Sign up", "Purchase", "Visit pricing", "Read the docs"]
    [funnel] = list_funnels(db_session, site)
    assert [step["match"] for step in funnel.steps] == ["/pricing", "signup", "purchase"]

    delete_goal(db_session, site, list_goals(db_session, site)[0].id)
    setup()
    assert len(list_goals(db_session, site)) == 3 and len(list_funnels(db_session, site)) == 1


def test_the_demo_site_has_commits_posts_and_notes_on_its_chart_and_a_refresh_keeps_the_users_notes(
        tmp_path, db_session):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    setup = lambda: set_up_demo(db_session, events_path=tmp_path / "events.duckdb",  # noqa: E731
                                email="demo@example.com", password=None, events=4000, days=90, now=now)
    made = setup().annotations
    site = get_site(db_session, DEMO_DOMAIN)
    shown = db_session.scalars(select(Annotation).where(Annotation.site_id == site.id)).all()
    kinds = Counter(annotation.details["type"] if annotation.kind == "github" else annotation.kind
                    for annotation in shown)
    assert kinds["commit"] > 30 and kinds["release"] >= 3 and kinds["x"] >= 6 and kinds["note"] == 3
    assert made == len(shown) - kinds["note"]
    assert all(now - timedelta(days=90) <= annotation.time < now for annotation in shown)
    post = next(annotation for annotation in shown if annotation.kind == "x")
    snowflake_ms = (int(post.external_id) >> 22) + 1288834974657  # a post id carries its time, as on X
    assert abs(snowflake_ms / 1000 - post.time.timestamp()) < 1
    assert post.details["likes"] >= 0 and post.url.endswith(post.external_id)
    integrations = db_session.scalars(select(Integration).where(Integration.site_id == site.id)).all()
    assert sorted((row.kind, row.state, row.token, row.next_sync_at) for row in integrations) == [
        ("github", "ok", None, None), ("search_console", "ok", None, None), ("x", "ok", None, None)]

    store = DuckDBEventStore(tmp_path / "events.duckdb")
    try:  # keywords for the Keywords tab, up to two days ago as Google reports them
        assert store.search_span(site.id) == ((now - timedelta(days=90)).date(), (now - timedelta(days=2)).date())
    finally:
        store.close()

    note = Annotation(site_id=site.id, kind="note", time=now - timedelta(days=1), text="mine")
    db_session.add(note)
    db_session.flush()
    setup()
    again = db_session.scalars(select(Annotation).where(Annotation.site_id == site.id)).all()
    assert len(again) == len(shown) + 1 and note in again  # synced ones replaced, not doubled; notes kept


def test_refreshing_some_sites_leaves_the_others_alone(tmp_path):
    path, now = tmp_path / "events.duckdb", datetime(2026, 3, 1, tzinfo=UTC)
    both = generate(path, sites=[DemoSite(1, "one.example", 0.7), DemoSite(2, "two.example", 0.3, subdomains=False)],
                    events=5000, now=now)
    again = generate(path, sites=[DemoSite(2, "two.example", subdomains=False)], events=800, now=now, seed=2)

    assert both[1].events + both[2].events == 5000 and again[2].events == 800
    assert [row[:2] + row[4:] for row in event_rows(path)] == [(1, both[1].events, 3), (2, 800, 1)]
    assert headline_all_time(path, 1, now) == (both[1].visitors, both[1].visits)
    assert headline_all_time(path, 2, now) == (again[2].visitors, again[2].visits)


def test_purchases_are_paid_in_their_visit_and_renew_monthly(tmp_path):
    path, now = tmp_path / "events.duckdb", datetime(2026, 3, 1, tzinfo=UTC)
    for seed in (1, 2):  # a refresh replaces the payments, never adds to them
        generate(path, sites=[DemoSite(1, "one.example", currency="EUR")], events=60_000, now=now, seed=seed)
    store = DuckDBEventStore(path)
    try:
        purchases = store.fetch("SELECT count(*) AS n FROM events WHERE type = 'goal' AND name = 'purchase'")[0]["n"]
        payments = store.payments(1)
        query = parse_query({"site_id": "one.example", "metrics": ["revenue", "payments"],
                             "dimensions": ["visit:channel"], "date_range": "all"}, site_timezone="UTC", now=now)
        by_channel = StatsEngine(store).run(query, site_id=1, currency="EUR")["results"]
    finally:
        store.close()
    new = [p for p in payments if p.kind == "new"]
    assert len(new) == purchases > 0
    assert {(p.amount, p.currency, p.reporting_currency) for p in payments} <= {(2900, "EUR", "EUR"), (9900, "EUR", "EUR")}
    assert all(p.visitor_id and p.session_id and p.link_method == "metadata" for p in new)
    renewals = [p for p in payments if p.kind == "renewal"]
    assert 0 < len(renewals) and all(p.timestamp < now for p in payments)
    first_paid = {p.transaction_id.rsplit("_", 1)[0]: p.timestamp for p in new}
    assert all((p.timestamp - first_paid[p.transaction_id.rsplit("_", 1)[0]]).days % 30 == 0 for p in renewals)
    assert len({p.key for p in payments}) == len(payments)
    assert sum(row["metrics"][1] for row in by_channel) == len(new) + len(renewals)


def test_progress_runs_from_zero_to_one_in_order(tmp_path):
    seen = []
    generate(tmp_path / "events.duckdb", sites=[DemoSite(1, "example.com")], events=500,
             now=datetime(2026, 3, 1, tzinfo=UTC), progress=lambda step, done: seen.append((step, done)))

    shares = [done for _, done in seen]
    assert shares[0] == 0 and shares[-1] == 1 and shares == sorted(shares)
    steps = [step for i, (step, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != step]
    assert steps == ["preparing", "removing old events", "visitors", "visits", "pageviews", "visit budgets",
                     "events", "payments", "sessions", "done"]


def test_the_progress_bar_draws_one_line_per_step_off_a_terminal():
    stream = io.StringIO()
    draw = progress_bar(stream, width=10)
    for step, done in [("visits", 0.1), ("events", 0.2), ("events", 0.5), ("done", 1.0)]:
        draw(step, done)

    assert stream.getvalue().splitlines() == [
        "demo: [#---------]  10%  visits", "demo: [##--------]  20%  events", "demo: [##########] 100%  done"]


def test_a_busy_store_is_reported_as_such(tmp_path):
    path = tmp_path / "events.duckdb"
    with held_open(path), pytest.raises(EventStoreBusy, match="stop the server first"):
        generate(path, sites=[DemoSite(1, "example.com")], events=10, now=datetime.now(UTC))


def test_the_readme_documents_the_command_and_make_run_seeding_it():
    assert "`demo" in README
    assert "make run" in README and "postmetric demo" in README


@pytest.mark.parametrize("existing, commands", [(False, ["demo", "serve"]), (True, ["serve"])])
def test_make_run_seeds_the_demo_only_on_a_data_dir_without_an_event_store(tmp_path, existing, commands):
    """`make run` with `install` taken as done and a stand-in `postmetric` that notes its commands."""
    bin_dir, data_dir, log = tmp_path / "bin", tmp_path / "data", tmp_path / "commands"
    bin_dir.mkdir()
    (bin_dir / "postmetric").write_text('#!/bin/sh\necho "$1" >> "$LOG"\n')
    (bin_dir / "postmetric").chmod(0o755)
    if existing:
        data_dir.mkdir()
        (data_dir / "events.duckdb").touch()
    env = {**os.environ, "LOG": str(log), "POSTMETRIC_DATA_DIR": str(data_dir)}
    done = subprocess.run(["make", "--silent", "--old-file", "install", "run", f"BIN={bin_dir}"],
                          cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr
    assert log.read_text().split() == commands
