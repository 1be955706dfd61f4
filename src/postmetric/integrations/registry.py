"""The integrations' providers, by kind: what Settings lists and the sync engine runs."""

from __future__ import annotations

from postmetric.integrations.github import PROVIDER as GITHUB
from postmetric.integrations.search_console import SearchConsoleProvider
from postmetric.integrations.sync import Provider

PROVIDERS: dict[str, Provider] = {
    GITHUB.kind: GITHUB,
    "search_console": SearchConsoleProvider(),
}
