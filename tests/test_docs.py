"""The README documents what users configure and see: a test fails when it falls behind the code."""

import argparse
from pathlib import Path

import pytest

from postmetric import cli
from postmetric.config import Settings
from postmetric.ingest.event import DropReason, EventType
from postmetric.ingest.request import TYPE_ALIASES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field):
    assert f"`POSTMETRIC_{field.upper()}`" in README


@pytest.mark.parametrize("reason", [r.value for r in DropReason])
def test_every_drop_reason_is_documented(reason):
    assert f"`{reason}`" in README


@pytest.mark.parametrize("name", sorted({t.value for t in EventType} | set(TYPE_ALIASES)))
def test_every_event_type_is_documented(name):
    assert f"`{name}`" in README


def cli_commands() -> list[str]:
    """Every command of `postmetric`, as typed: "serve", "users create", ..."""
    def subcommands(parser: argparse.ArgumentParser) -> dict:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return actions[0].choices if actions else {}

    return [f"{name} {action}".strip() for name, command in subcommands(cli._parser()).items()
            for action in (subcommands(command) or [""])]


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_documented(command):
    assert f"`{command}" in README


def test_the_two_commands_are_there():
    assert "make run" in README and "make test" in README


@pytest.mark.parametrize(
    "attribute",
    ["data-website-id", "data-domain", "data-api-url", "data-allowed-hostnames", "data-allow-localhost",
     "data-allow-file-protocol", "data-debug", "data-disable-console", "data-disable-payments",
     "data-cookieless", "data-consent", "data-hash-routing", "data-exclude", "data-postmetric-goal",
     "data-postmetric-scroll"],
)
def test_every_script_attribute_is_documented(attribute):
    assert f"`{attribute}" in README


def test_the_script_snippet_and_install_notes_are_there():
    for needle in ("getVisitorId()", "Next.js", "React", "Vue", "WordPress", "Stripe Checkout", "postmetric.q"):
        assert needle in README
