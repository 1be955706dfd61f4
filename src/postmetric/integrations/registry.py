"""The integrations' providers, by kind: what Settings lists and the sync engine runs."""

from __future__ import annotations

from postmetric.integrations.github import PROVIDER as GITHUB
from postmetric.integrations.search_console import SearchConsoleProvider
from postmetric.integrations.sync import Provider
from postmetric.integrations.x import PROVIDER as X

SEARCH_CONSOLE = SearchConsoleProvider()

# In the order Settings shows them.
PROVIDERS: dict[str, Provider] = {provider.kind: provider for provider in (GITHUB, X, SEARCH_CONSOLE)}
