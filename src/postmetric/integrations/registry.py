"""The integrations' providers, by kind: what Settings lists and the sync engine runs."""

from __future__ import annotations

from postmetric.integrations.sync import Provider
from postmetric.integrations.x import PROVIDER as X

PROVIDERS: dict[str, Provider] = {
    "x": X,
}
