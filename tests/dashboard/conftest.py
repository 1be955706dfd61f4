"""The dashboard's browser tests: the app served on its own data dir, and headless Chromium, both
once per module (sync Playwright keeps an event loop running in this thread until it stops).

A module whose pages run the tracking script overrides `as_a_person` to return True.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from postmetric.app import create_app
from postmetric.config import Settings

from live_app import chromium, serving

# How long an expectation waits for the page (Playwright's default is 5 s): under `make test` the
# workers share the cores with Chromium, and a panel's query can take longer than that to draw.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory, derived_data_dir):
    """(base URL, app): the app under uvicorn in a thread."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("dashboard-e2e"), cache_dir=derived_data_dir,
                        ingest_rate_limit="")
    app = create_app(settings)
    if "/api/v1/auth/signup" not in {getattr(route, "path", None) for route in app.app.routes}:
        pytest.skip("the accounts API (POST /api/v1/auth/signup) is not part of the app yet")
    with serving(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def as_a_person() -> bool:
    """Whether Chromium passes for a person's browser (see `live_app.chromium`)."""
    return False


@pytest.fixture(scope="module")
def browser(as_a_person):
    with chromium(as_a_person=as_a_person) as browser:
        yield browser
