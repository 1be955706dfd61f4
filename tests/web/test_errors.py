"""The one error model: every domain error family has a status, and a subclass answers as its family."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

import postmetric
from postmetric import errors
from postmetric.config import DataDirUnwritable
from postmetric.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized, ValidationError
from postmetric.ingest.request import IngestError
from postmetric.revenue.providers.common import Forged, MalformedPayload, Rejected, Stale, Unsigned
from postmetric.stats.query import QueryError
from postmetric.web.errors import STATUSES, HttpError, error_response, handle_error, status_of

# Domain errors a request never meets, each with the reason it needs no status.
WITHOUT_STATUS = {
    DataDirUnwritable: "raised while the app starts, before it serves a request",
    Rejected: "a base: the provider modules raise its subclasses, which have families",
}


def _import_every_module() -> None:
    """Every domain error is defined by then, whichever tests ran before (not the CLI's entry
    point, which runs on import, nor the Alembic revisions)."""
    for module in pkgutil.walk_packages(postmetric.__path__, "postmetric."):
        if not module.name.endswith("__main__") and ".migrations" not in module.name:
            importlib.import_module(module.name)


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


@pytest.mark.parametrize(
    "error_type",
    [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, DomainError) and c is not DomainError],
    ids=lambda c: c.__name__,
)
def test_every_error_of_postmetric_errors_has_a_status(error_type):
    assert status_of(error_type) is not None


def test_every_domain_error_a_route_can_meet_has_a_status():
    """A new domain error in any package must join a family, or this fails (it would be a 500)."""
    _import_every_module()
    missing = sorted(c.__qualname__ for c in _all_subclasses(DomainError)
                     if c.__module__.startswith("postmetric.")  # not the ones these tests make
                     and status_of(c) is None and c not in WITHOUT_STATUS)
    assert missing == []


def test_the_base_itself_has_no_status():
    """DomainError alone is no family: a new error must say which family it belongs to."""
    assert status_of(DomainError) is None


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        (ValidationError, 400),
        (QueryError, 400),
        (IngestError, 400),
        (MalformedPayload, 400),
        (Stale, 400),  # a Rejected delivery, but an Invalid one: its own family wins
        (Unsigned, 401),
        (Forged, 401),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_the_status_is_the_nearest_familys(error_type, status):
    assert status_of(error_type) == status


def test_a_subclass_answers_as_its_family_in_a_route():
    class GoalNotFound(NotFound):
        pass

    class NotAnOwner(Forbidden):
        pass

    class OddInput(Invalid):
        pass

    raised = {"goal": GoalNotFound("goal", 7), "owner": NotAnOwner("role: only owners may do this"),
              "odd": OddInput("body: is odd"), "http": HttpError(429, "slow down", {"Retry-After": "3"})}

    async def route(request):
        raise raised[request.path_params["what"]]

    app = Starlette(routes=[Route("/{what}", route)],
                    exception_handlers={HttpError: handle_error, DomainError: handle_error})
    with TestClient(app) as client:
        answers = {what: client.get(f"/{what}") for what in raised}
    assert {what: (r.status_code, r.json()) for what, r in answers.items()} == {
        "goal": (404, {"error": "goal 7 not found"}),
        "owner": (403, {"error": "role: only owners may do this"}),
        "odd": (400, {"error": "body: is odd"}),
        "http": (429, {"error": "slow down"}),
    }
    assert all(r.headers["content-type"] == "application/json" for r in answers.values())
    assert answers["http"].headers["retry-after"] == "3"


def test_the_errors_own_headers_win_over_the_routes():
    response = error_response(HttpError(429, "slow down", {"Retry-After": "3"}),
                              {"Retry-After": "60", "X-RateLimit-Limit": "10"})
    assert (response.status_code, response.headers["retry-after"], response.headers["x-ratelimit-limit"]) == (
        429, "3", "10")


def test_a_domain_error_without_a_family_is_a_logged_500(caplog):
    class Homeless(DomainError):
        pass

    with caplog.at_level(logging.ERROR, logger="postmetric.web.errors"):
        response = error_response(Homeless("what now"))
    assert (response.status_code, response.body) == (
        500, b'{"error":"internal error; the server log has the details"}')
    assert "Homeless has no HTTP status" in caplog.text


def test_every_family_is_a_domain_error():
    assert all(issubclass(family, DomainError) and family is not DomainError for family in STATUSES)
    assert issubclass(Unsigned, Unauthorized) and issubclass(Stale, Invalid)
