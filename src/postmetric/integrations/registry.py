"""The integrations' providers, by kind: what Settings lists and the sync engine runs."""

from __future__ import annotations

from postmetric.integrations.sync import Provider

PROVIDERS: dict[str, Provider] = {
}
