"""One error model for HTTP: every refusal is `{"error": message}` with its status.

Two kinds of error reach a response:
1. `HttpError(status, message, headers)`: raised by web code for what only HTTP knows (a missing
   credential, a body too large or of the wrong type, a rate limit, a queue that is full).
2. Domain errors (`postmetric.errors`), raised below a route: `STATUSES` gives each family its
   status, looked up along the error's class hierarchy, so a subclass of NotFound is a 404 and a
   provider's `Forged` (an Unauthorized) a 401.

`error_response` is the one place that turns either into a response; the app installs it as its
exception handler (`app.create_app`), and the routes that answer differently call it with their
extra headers (the API's rate limit headers, the tracking pixel's CORS header).

Secondary responsibility: a domain error without a status is a bug, not the user's fault: it is
logged and answered 500 like any unexpected error (a test checks that every family has one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from postmetric.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    StoreUnreachable,
    Unauthorized,
)
from postmetric.web.responses import json_error

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal error; the server log has the details"

STATUSES: Mapping[type[DomainError], int] = {
    Invalid: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    AlreadyExists: 409,
    Conflict: 409,
    StoreUnreachable: 503,
}


class HttpError(Exception):
    """The request gets `status` with `{"error": message}` and `headers`; raised anywhere below a route."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


def status_of(error_type: type[DomainError]) -> int | None:
    """The status of `error_type`'s nearest family in `STATUSES`, None if it has none."""
    for family in error_type.__mro__:
        status = STATUSES.get(family)
        if status is not None:
            return status
    return None


def http_error(error: HttpError | DomainError) -> HttpError:
    """`error` as the HttpError it is answered with."""
    if isinstance(error, HttpError):
        return error
    status = status_of(type(error))
    if status is None:
        log.error("%s has no HTTP status in web.errors.STATUSES", type(error).__name__, exc_info=error)
        return HttpError(500, INTERNAL_ERROR)
    return HttpError(status, str(error))


def error_response(error: HttpError | DomainError, headers: Mapping[str, str] | None = None) -> Response:
    """The JSON answer to `error`; `headers` go with it, under the error's own."""
    answer = http_error(error)
    return json_error(answer.message, answer.status, {**(headers or {}), **answer.headers})


async def handle_error(request: Request, error: HttpError | DomainError) -> Response:
    """The app's exception handler for HttpError and DomainError raised by a route."""
    return error_response(error)
