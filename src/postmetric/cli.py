"""The `postmetric` command line: parse arguments, build Settings once, call one domain function.

Secondary responsibilities:
1. Apply metadata migrations before every command.
2. Print results as JSON on stdout (`demo`: a login for a person to read), and user errors as
   `error: …` on stderr with exit status 2.

The web stack, the event stores and ClickHouse's driver are imported inside the commands that use
them, for start-up time only: tests/test_layers.py counts those imports too, so none hides a cycle.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pydantic
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from postmetric.accounts.keys import (
    create_account_token,
    create_site_key,
    list_account_tokens,
    list_site_keys,
    revoke_account_token,
    revoke_site_key,
)
from postmetric.accounts.users import create_user, get_user_by_email
from postmetric.config import Settings
from postmetric.errors import DomainError, NotFound
from postmetric.sites.service import create_site, get_site
from postmetric.store.database import create_engine, migrate, session_factory
from postmetric.store.metadata import AccountToken, ApiKey, Site, User
from postmetric.web.responses import iso_time

USER_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postmetric", description="Self-hostable, revenue-first web analytics."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server (ingest, API, dashboard, webhooks, jobs)")
    serve.add_argument("--host", help="address to bind (default: POSTMETRIC_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: POSTMETRIC_PORT or 8000)")
    serve.add_argument(
        "--data-dir", type=Path, help="where data lives (default: POSTMETRIC_DATA_DIR or ./data)"
    )
    serve.set_defaults(run=_serve)

    users = _actions(commands, "users", "manage accounts")
    create = users.add_parser("create", help="create an account; prints {id, email}")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True, help="at least 10 characters")
    create.set_defaults(run=_create_user)

    sites = _actions(commands, "sites", "manage sites")
    create = sites.add_parser("create", help="create a site; prints it, with its public id")
    create.add_argument("--owner", required=True, help="email of the owning account")
    create.add_argument("--domain", required=True, help="e.g. example.com")
    create.add_argument("--name", help="display name (default: the domain)")
    create.add_argument("--timezone", default="UTC", help="IANA time zone for reports (default: UTC)")
    create.add_argument("--currency", default="USD", help="ISO 4217 code for revenue (default: USD)")
    create.set_defaults(run=_create_site)

    keys = _actions(commands, "keys", "manage site API keys")
    create = keys.add_parser("create", help="create a site key; prints it once")
    create.add_argument("--site", required=True, help="site id, public id or domain")
    create.add_argument("--name", default="default", help="label to tell keys apart (default: default)")
    create.set_defaults(run=_create_site_key)
    listing = keys.add_parser("list", help="list a site's keys (never their values), revoked ones included")
    listing.add_argument("--site", required=True, help="site id, public id or domain")
    listing.set_defaults(run=_list_site_keys)
    revoke = keys.add_parser("revoke", help="revoke a site key; it stops working at once")
    revoke.add_argument("--site", required=True, help="site id, public id or domain")
    revoke.add_argument("--id", required=True, type=int, help="the key's id, from `keys list`")
    revoke.set_defaults(run=_revoke_site_key)

    tokens = _actions(commands, "tokens", "manage account tokens")
    create = tokens.add_parser("create", help="create an account token; prints it once")
    create.add_argument("--user", required=True, help="email of the account")
    create.add_argument("--name", default="default", help="label to tell tokens apart (default: default)")
    create.set_defaults(run=_create_account_token)
    listing = tokens.add_parser("list", help="list an account's tokens (never their values), revoked ones included")
    listing.add_argument("--user", required=True, help="email of the account")
    listing.set_defaults(run=_list_account_tokens)
    revoke = tokens.add_parser("revoke", help="revoke an account token; it stops working at once")
    revoke.add_argument("--user", required=True, help="email of the account")
    revoke.add_argument("--id", required=True, type=int, help="the token's id, from `tokens list`")
    revoke.set_defaults(run=_revoke_account_token)

    demo = commands.add_parser(
        "demo", help="create or refresh the demo site: realistic traffic up to now; prints the login"
    )
    demo.add_argument("--events", type=int, default=300_000, help="how many (default: 300,000)")
    demo.add_argument("--days", type=int, default=90, help="over how many days ending now (default: 90)")
    demo.add_argument("--email", default="demo@postmetric.local", help="the demo account (default: %(default)s)")
    demo.add_argument("--password", help="for a new demo account (default: a random one, printed)")
    demo.add_argument(
        "--data-dir", type=Path, help="where data lives (default: POSTMETRIC_DATA_DIR or ./data)"
    )
    demo.set_defaults(run=_demo)

    erase = commands.add_parser("erase", help="erase a visitor or person from a site's data; prints what went")
    erase.add_argument("--site", required=True, help="site id, public id or domain")
    whom = erase.add_mutually_exclusive_group(required=True)
    whom.add_argument("--visitor-id", help="one device, as the Visitor API shows it")
    whom.add_argument("--user-id", help="a person, by the user id their identify events gave (every device)")
    whom.add_argument("--email", help="a person, by email (every device)")
    erase.add_argument("--data-dir", type=Path, help="where data lives (default: POSTMETRIC_DATA_DIR or ./data)")
    erase.set_defaults(run=_erase)

    migrate_ = commands.add_parser("migrate", help="apply metadata migrations (also done at every start)")
    migrate_.set_defaults(run=_migrated)

    secrets_ = _actions(commands, "secrets", "manage secrets stored sealed (webhook signing secrets)")
    rotate = secrets_.add_parser("rotate", help="re-seal every stored secret under POSTMETRIC_SECRET_KEY (after "
                                 "moving the old key to POSTMETRIC_SECRET_KEY_PREVIOUS); prints the counts")
    rotate.add_argument("--data-dir", type=Path, help="where data lives (default: POSTMETRIC_DATA_DIR or ./data)")
    rotate.set_defaults(run=_rotate_secrets)

    store = _actions(commands, "store", "manage the event store")
    init = store.add_parser("init", help="create the event store's tables (app nodes also do at start, but on a cluster)")
    init.add_argument("--cluster", help="ClickHouse cluster: replicated tables on every shard, Distributed in front")
    init.add_argument("--data-dir", type=Path, help="where data lives (default: POSTMETRIC_DATA_DIR or ./data)")
    init.set_defaults(run=_store_init)
    copy = store.add_parser("migrate", help="copy the embedded event store into POSTMETRIC_CLICKHOUSE_URL's database"
                            " (--to clickhouse), or the embedded metadata into POSTMETRIC_DATABASE_URL's (--to postgresql)")
    copy.add_argument("--to", required=True, choices=["clickhouse", "postgresql"], help="the store to copy into")
    copy.add_argument("--data-dir", type=Path, help="the embedded install's (default: POSTMETRIC_DATA_DIR or ./data)")
    copy.set_defaults(run=_store_migrate)
    return parser


def _actions(commands: argparse._SubParsersAction, name: str, help_text: str) -> argparse._SubParsersAction:
    """`postmetric NAME ACTION`: a command group whose actions are added to what this returns."""
    return commands.add_parser(name, help=help_text).add_subparsers(required=True, metavar="ACTION")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already explained
        return int(exit_.code or 0)
    try:
        data_dir = getattr(args, "data_dir", None)
        settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
        settings.ensure_data_dir()
        migrate(settings.metadata_url)
        return args.run(settings, args)
    except pydantic.ValidationError as error:
        return _fail(f"invalid POSTMETRIC_* configuration: {error}")
    except DomainError as error:
        return _fail(str(error))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USER_ERROR


def _print_json(value: object) -> int:
    print(json.dumps(value))
    return 0


def _in_session(settings: Settings, work: Callable[[Session], object]) -> int:
    """Run `work` in one transaction and print what it returns."""
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine).begin() as session:
            result = work(session)
    finally:
        engine.dispose()
    return _print_json(result)


def _user(session: Session, email: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound("user", email)
    return user


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: the web stack is heavy, and the other commands do not need it.
    from postmetric.web.server import serve

    if settings.clickhouse_url:  # a store that does not answer is said in one line, before the server starts
        from postmetric.store.clickhouse_events import connect

        connect(settings.clickhouse_url).close()

    serve(
        settings,
        host=settings.host if args.host is None else args.host,
        port=settings.port if args.port is None else args.port,
    )
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        user = create_user(session, email=args.email, password=args.password)
        return {"id": user.id, "email": user.email}

    return _in_session(settings, work)


def _create_site(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        site = create_site(
            session,
            owner=_user(session, args.owner),
            domain=args.domain,
            name=args.name,
            timezone=args.timezone,
            currency=args.currency,
        )
        return {
            "id": site.id,
            "public_id": site.public_id,
            "domain": site.domain,
            "name": site.name,
            "timezone": site.timezone,
            "currency": site.currency,
        }

    return _in_session(settings, work)


def _create_site_key(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        site = _site(session, args.site)
        key, raw = create_site_key(session, site=site, name=args.name)
        return {"key": raw, "site": site.public_id, "name": key.name}

    return _in_session(settings, work)


def _site(session: Session, ref: str) -> Site:
    site = get_site(session, ref)
    if site is None:
        raise NotFound("site", ref)
    return site


def _credential_json(credential: ApiKey | AccountToken) -> dict[str, object]:
    """A key or token as listings show it: never its value (only its hash is stored anyway)."""
    return {"id": credential.id, "name": credential.name, "prefix": credential.prefix,
            **{field: iso_time(getattr(credential, field)) for field in ("created_at", "last_used_at", "revoked_at")}}


def _list_site_keys(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> list[dict[str, object]]:
        site = _site(session, args.site)
        return [_credential_json(key) for key in list_site_keys(session, site=site)]

    return _in_session(settings, work)


def _revoke_site_key(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        key = revoke_site_key(session, site=_site(session, args.site), key_id=args.id, now=datetime.now(UTC))
        return _credential_json(key)

    return _in_session(settings, work)


def _list_account_tokens(settings: Settings, args: argparse.Namespace) -> int:
    return _in_session(settings, lambda session: [
        _credential_json(token) for token in list_account_tokens(session, user=_user(session, args.user))])


def _revoke_account_token(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        token = revoke_account_token(session, user=_user(session, args.user), token_id=args.id,
                                     now=datetime.now(UTC))
        return _credential_json(token)

    return _in_session(settings, work)


def _create_account_token(settings: Settings, args: argparse.Namespace) -> int:
    def work(session: Session) -> dict[str, object]:
        user = _user(session, args.user)
        token, raw = create_account_token(session, user=user, name=args.name)
        return {"token": raw, "user": user.email, "name": token.name}

    return _in_session(settings, work)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: the generator pulls in DuckDB and ingestion's tables, which the other commands do not need.
    from postmetric.demo import progress_bar, set_up_demo

    if settings.clickhouse_url:
        return _fail("the demo fills the embedded event store; unset POSTMETRIC_CLICKHOUSE_URL")
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine).begin() as session:
            demo = set_up_demo(
                session,
                events_path=settings.events_path,
                email=args.email,
                password=args.password,
                events=args.events,
                days=args.days,
                now=datetime.now(UTC),
                progress=progress_bar(sys.stderr),
            )
    finally:
        engine.dispose()
    # For a person (`make run` shows it before the server starts), not JSON like the others.
    made = demo.generated
    print(f"Demo site {demo.domain} ({demo.site_public_id}): {made.events:,} events, {made.visitors:,} visitors, "
          f"{made.visits:,} visits over the last {args.days} days; {demo.annotations} commits and posts on the chart")
    print(f"  dashboard: {settings.base_url}")
    print(f"  email:     {demo.email}")
    print(f"  password:  {demo.password}" if demo.password
          else "  password:  unchanged (the account already existed)")
    return 0


def _erase(settings: Settings, args: argparse.Namespace) -> int:
    """As `POST /api/v1/sites/{id}/erasures`, from the server's shell. The embedded DuckDB file is the
    server's while it runs (stop it, or use the API); events this node journaled but did not load
    (a crash) are loaded first, so that none comes back after."""
    import duckdb
    import redis

    from postmetric.ingest.redis_sessions import RedisSessionTracker
    from postmetric.ingest.writer import EventWriter
    from postmetric.privacy.erasure import erase, find_person, record_erasure, selector
    from postmetric.store.engines import open_event_store
    from postmetric.store.journal import EventJournal

    kind, value = next((kind, value) for kind, value in
                       (("visitor_id", args.visitor_id), ("user_id", args.user_id), ("email", args.email)) if value)
    chosen = selector(kind, value)
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine)() as session:
            site = get_site(session, args.site)
            if site is None:
                raise NotFound("site", args.site)
            site_id = site.id
        journal = EventJournal(settings.journal_dir)
        try:
            store = open_event_store(settings, journal_id=journal.journal_id)
        except duckdb.IOException as error:
            return _fail(f"the event store is in use ({str(error).splitlines()[0]}): stop the server, or erase"
                         " through the API (POST /api/v1/sites/{id}/erasures)")
        try:
            if not settings.clickhouse_url:  # the server is stopped: what it journaled is loaded
                EventWriter(store, journal, max_pending=0).recover()
            person = find_person(store, site_id, chosen)
            erasure = erase(store, site_id, person)
        finally:
            store.close()
            journal.close()
        if settings.redis_url:
            client = redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
            RedisSessionTracker(client, salts=lambda day: (b"", None), clock=lambda: 0.0).forget_visitors(
                site_id, person.visitor_ids, person.session_ids)
            client.close()
        with session_factory(engine).begin() as session:
            record = record_erasure(session, site_id=site_id, user_id=None, selector=chosen, erasure=erasure,
                                    secret_key=settings.resolved_secret_key(), now=datetime.now(UTC))
            record_id = record.id
    finally:
        engine.dispose()
    return _print_json({"id": record_id, "selector": kind, **erasure.to_json()})


def _migrated(settings: Settings, args: argparse.Namespace) -> int:
    # main() has just migrated; say which database, so the operator knows it was the intended one.
    return _print_json({"database": make_url(settings.metadata_url).render_as_string(hide_password=True)})


def _rotate_secrets(settings: Settings, args: argparse.Namespace) -> int:
    from postmetric.integrations.connections import reseal_tokens
    from postmetric.revenue.providers.settings import seal_stored_secrets

    secret_box = settings.secret_box()
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine).begin() as session:
            report = seal_stored_secrets(session, secret_box, rotate=True)
            tokens = reseal_tokens(session, secret_box)
    finally:
        engine.dispose()
    resealed, current, unreadable = (report.sealed + tokens[0], report.current + tokens[1],
                                     report.unreadable + tokens[2])
    _print_json({"resealed": resealed, "already_current": current, "unreadable": unreadable})
    if unreadable:
        return _fail(f"{unreadable} secrets open under none of POSTMETRIC_SECRET_KEY and "
                     "POSTMETRIC_SECRET_KEY_PREVIOUS: add the key they were sealed with, or set them again in "
                     "Revenue and Integrations settings; keep the previous keys until this succeeds")
    return 0


def _store_init(settings: Settings, args: argparse.Namespace) -> int:
    from postmetric.store.clickhouse_events import create_cluster_schema
    from postmetric.store.engines import open_event_store

    if args.cluster and not settings.clickhouse_url:
        return _fail("--cluster is for ClickHouse: set POSTMETRIC_CLICKHOUSE_URL")
    if args.cluster:
        statements = create_cluster_schema(settings.clickhouse_url, args.cluster)
        return _print_json({"store": "clickhouse", "cluster": args.cluster, "statements": len(statements)})
    open_event_store(settings).close()
    return _print_json({"store": "clickhouse" if settings.clickhouse_url else "duckdb"})


def _store_migrate(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: only this command needs both stores.
    from postmetric.demo import progress_bar
    from postmetric.store.clickhouse_events import connect
    from postmetric.store.duckdb_events import DuckDBEventStore
    from postmetric.store.journal import EventJournal
    from postmetric.store.transfer import copy_to_clickhouse

    if args.to == "postgresql":
        return _copy_metadata(settings)
    if not settings.clickhouse_url:
        return _fail("set POSTMETRIC_CLICKHOUSE_URL to the ClickHouse database to copy into")
    if not settings.events_path.exists():
        return _fail(f"no embedded event store at {settings.events_path}")
    source = DuckDBEventStore(settings.events_path)
    target = connect(settings.clickhouse_url, journal_id=EventJournal(settings.journal_dir).journal_id)
    try:
        copied = copy_to_clickhouse(source, target, progress=progress_bar(sys.stderr, label="store migrate"))
    finally:
        target.close()
        source.close()
    return _print_json({"events": copied.events, "payments": copied.payments, "search_rows": copied.search_rows})


def _copy_metadata(settings: Settings) -> int:
    from postmetric.demo import progress_bar
    from postmetric.store.transfer import copy_metadata

    if not settings.database_url or make_url(settings.database_url).get_backend_name() != "postgresql":
        return _fail("set POSTMETRIC_DATABASE_URL to the PostgreSQL database to copy into")
    if not settings.embedded_metadata_path.exists():
        return _fail(f"no embedded metadata database at {settings.embedded_metadata_path}")
    migrate(settings.embedded_metadata_url)  # main() has migrated the target: both at the same revision
    source, target = create_engine(settings.embedded_metadata_url), create_engine(settings.database_url)
    try:
        copied = copy_metadata(source, target, progress=progress_bar(sys.stderr, label="store migrate"))
    finally:
        source.dispose()
        target.dispose()
    return _print_json({"rows": copied})
