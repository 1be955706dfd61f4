"""The `postmetric` command: JSON on stdout, `error: …` and exit status 2 for user mistakes."""

import json
import os
import shlex
import subprocess
import sys
import types
from datetime import UTC, datetime

import pytest

from postmetric.accounts.keys import authenticate_account_token, authenticate_site_key
from postmetric.cli import main
from postmetric.store.database import create_engine, session_factory

from live_app import free_port

PASSWORD = "long enough"


@pytest.fixture
def data_dir(tmp_path, monkeypatch, metadata_url):
    """Every command reads POSTMETRIC_* from here: a private data dir and metadata database."""
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POSTMETRIC_DATABASE_URL", metadata_url)
    return tmp_path / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    return json.loads(out)


def credential_is_live(metadata_url, check, raw):
    engine = create_engine(metadata_url)
    try:
        with session_factory(engine)() as session:
            return check(session, raw, now=datetime.now(UTC)) is not None
    finally:
        engine.dispose()


def test_users_create_prints_the_new_account(capsys, data_dir):
    user = run_json(capsys, "users", "create", "--email", "Ada@Example.com", "--password", PASSWORD)
    assert user == {"id": user["id"], "email": "ada@example.com"}
    assert isinstance(user["id"], int)
    assert data_dir.is_dir()


def test_sites_create_prints_the_site_with_its_public_id(capsys, data_dir):
    run_json(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    site = run_json(
        capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "https://www.Shop.example/",
        "--name", "Shop", "--timezone", "Europe/Berlin", "--currency", "eur",
    )  # fmt: skip
    assert site == {
        "id": site["id"],
        "public_id": site["public_id"],
        "domain": "shop.example",
        "name": "Shop",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
    }
    assert site["public_id"].startswith("pm_")


@pytest.mark.parametrize("site_ref", ["id", "public_id", "domain"])
def test_keys_create_prints_a_working_key_once(capsys, data_dir, metadata_url, site_ref):
    run_json(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    site = run_json(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "shop.example")
    key = run_json(capsys, "keys", "create", "--site", str(site[site_ref]), "--name", "backend")
    assert key == {"key": key["key"], "site": site["public_id"], "name": "backend"}
    assert credential_is_live(metadata_url, authenticate_site_key, key["key"])


def test_tokens_create_prints_a_working_token_once(capsys, data_dir, metadata_url):
    run_json(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    token = run_json(capsys, "tokens", "create", "--user", "ADA@example.com")
    assert token == {"token": token["token"], "user": "ada@example.com", "name": "default"}
    assert credential_is_live(metadata_url, authenticate_account_token, token["token"])


def test_tokens_are_listed_without_their_values_and_revoked(capsys, data_dir, metadata_url):
    for email in ("ada@example.com", "bob@example.com"):
        run_json(capsys, "users", "create", "--email", email, "--password", PASSWORD)
    ci = run_json(capsys, "tokens", "create", "--user", "ada@example.com", "--name", "ci")["token"]
    laptop = run_json(capsys, "tokens", "create", "--user", "ada@example.com", "--name", "laptop")["token"]
    listed = run_json(capsys, "tokens", "list", "--user", "ada@example.com")
    assert [(t["name"], t["revoked_at"]) for t in listed] == [("ci", None), ("laptop", None)]
    assert ci not in json.dumps(listed) and ci.startswith(listed[0]["prefix"])
    assert run_json(capsys, "tokens", "list", "--user", "bob@example.com") == []
    code, _, err = run(capsys, "tokens", "revoke", "--user", "bob@example.com", "--id", str(listed[0]["id"]))
    assert code == 2 and "not found" in err  # another account's token
    revoked = run_json(capsys, "tokens", "revoke", "--user", "ada@example.com", "--id", str(listed[0]["id"]))
    assert revoked["name"] == "ci" and revoked["revoked_at"] is not None
    assert not credential_is_live(metadata_url, authenticate_account_token, ci)
    assert credential_is_live(metadata_url, authenticate_account_token, laptop)


def test_site_keys_are_listed_without_their_values_and_revoked(capsys, data_dir, metadata_url):
    run_json(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    for domain in ("a.example", "b.example"):
        run_json(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", domain)
    key = run_json(capsys, "keys", "create", "--site", "a.example", "--name", "backend")["key"]
    [listed] = run_json(capsys, "keys", "list", "--site", "a.example")
    assert listed["name"] == "backend" and key not in json.dumps(listed)
    code, _, err = run(capsys, "keys", "revoke", "--site", "b.example", "--id", str(listed["id"]))
    assert code == 2 and "not found" in err  # another site's key
    assert run_json(capsys, "keys", "revoke", "--site", "a.example", "--id", str(listed["id"]))["revoked_at"]
    assert not credential_is_live(metadata_url, authenticate_site_key, key)


def test_migrate_names_the_database_without_its_password(capsys, data_dir, monkeypatch):
    monkeypatch.delenv("POSTMETRIC_DATABASE_URL")  # the default: SQLite inside the data dir
    default_database = data_dir.resolve() / "postmetric.sqlite"
    assert run_json(capsys, "migrate") == {"database": f"sqlite:///{default_database}"}
    assert (data_dir / "postmetric.sqlite").is_file()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("users create --email nope --password 'long enough'", "email: 'nope' is not an email address"),
        ("users create --email bob@example.com --password short", "password: must be at least 10"),
        ("users create --email ada@example.com --password 'long enough'", "a user with email"),
        ("sites create --owner bob@example.com --domain x.example", "user 'bob@example.com' not found"),
        ("sites create --owner ada@example.com --domain x.example --timezone Moon/Base",
         "timezone: 'Moon/Base' is not an IANA time zone"),
        ("sites create --owner ada@example.com --domain 'not a domain'", "domain: 'not a domain'"),
        ("sites create --owner ada@example.com --domain www.a.example", "a site with domain 'a.example'"),
        ("keys create --site nope.example", "site 'nope.example' not found"),
        ("keys create --site a.example --name ' '", "name: must be 1 to 255 characters"),
        ("tokens create --user bob@example.com", "user 'bob@example.com' not found"),
    ],
)  # fmt: skip
def test_user_errors_exit_2_with_a_message(capsys, data_dir, command, message):
    run_json(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    run_json(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "a.example")
    code, out, err = run(capsys, *shlex.split(command))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {message}")
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys, data_dir):
    code, _, err = run(capsys, "users", "create", "--email", "ada@example.com")
    assert code == 2 and "--password" in err


def test_invalid_configuration_exits_2(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("POSTMETRIC_PORT", "eighty")
    code, _, err = run(capsys, "migrate")
    assert code == 2 and err.startswith("error: invalid POSTMETRIC_* configuration")


def test_serve_migrates_and_hands_settings_to_the_web_server(capsys, data_dir, tmp_path, monkeypatch):
    calls = []
    fake_server = types.ModuleType("postmetric.web.server")
    fake_server.serve = lambda settings, *, host, port: calls.append((settings, host, port))
    monkeypatch.setitem(sys.modules, "postmetric.web.server", fake_server)

    assert run(capsys, "serve", "--port", "9001", "--data-dir", str(tmp_path / "elsewhere"))[0] == 0
    [(settings, host, port)] = calls
    assert (host, port) == ("127.0.0.1", 9001)
    assert settings.data_dir == tmp_path / "elsewhere" and settings.data_dir.is_dir()

    calls.clear()
    monkeypatch.setenv("POSTMETRIC_HOST", "0.0.0.0")
    assert run(capsys, "serve", "--host", "::1")[0] == 0
    [(settings, host, port)] = calls
    assert (host, port, settings.data_dir) == ("::1", 8000, data_dir)


def test_python_dash_m_postmetric_is_the_cli(tmp_path, metadata_url):
    data_dir = tmp_path / "data"
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_DATABASE_URL": metadata_url}

    def postmetric(*argv):
        return subprocess.run(
            [sys.executable, "-m", "postmetric", *argv], env=env, capture_output=True, text=True, timeout=120
        )

    created = postmetric("users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["email"] == "ada@example.com"

    again = postmetric("users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    assert again.returncode == 2
    assert again.stderr == "error: a user with email 'ada@example.com' already exists\n"
    assert data_dir.is_dir()


def test_serve_says_when_clickhouse_does_not_answer(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POSTMETRIC_CLICKHOUSE_URL", f"http://user:secret@127.0.0.1:{free_port()}/analytics")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: POSTMETRIC_CLICKHOUSE_URL: ClickHouse at http://127.0.0.1:")
    assert "did not answer" in error and "secret" not in error
