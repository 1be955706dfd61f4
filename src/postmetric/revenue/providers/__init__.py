"""Payment provider webhooks (SPEC §6): one module per provider, each `verify` then `parse`.

`PROVIDERS` maps the name used in URLs, settings and the ledger to its module, in the order the
Revenue settings list them. See `common.py` for the contract every module follows.
"""

from __future__ import annotations

from types import ModuleType

from postmetric.revenue.providers import lemonsqueezy, paddle, polar, stripe

PROVIDERS: dict[str, ModuleType] = {module.NAME: module for module in (stripe, lemonsqueezy, polar, paddle)}
