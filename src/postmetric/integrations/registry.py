"""The integrations' providers, by kind: what Settings lists and the sync engine runs."""

from __future__ import annotations

from postmetric.integrations.search_console import SearchConsoleProvider
from postmetric.integrations.sync import Provider

PROVIDERS: dict[str, Provider] = {
    "search_console": SearchConsoleProvider(),
}
