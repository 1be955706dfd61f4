"""Domain errors: what went wrong, in words a user can act on.

Raised by the domain packages (`accounts/`, `sites/`, `ingest/`, `stats/`, `revenue/`); they know
nothing of HTTP. The CLI prints them and `web/errors.py` maps each family to one HTTP status
(Invalid → 400, Unauthorized → 401, Forbidden → 403, NotFound → 404, AlreadyExists and Conflict →
409, StoreUnreachable → 503), so a subclass answers as its family does. A new error derives from
one of these families, never from DomainError alone: a test fails for an error without a status.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a user caused and can fix; `str(error)` is the message to show."""


class Invalid(DomainError):
    """Input that cannot be taken as it is; `str(error)` says what is wrong with it."""


class ValidationError(Invalid):
    """Invalid input, to blame on one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Unauthorized(DomainError):
    """Who sent this is not proven: no signature or credential, or one that does not match."""


class AlreadyExists(DomainError):
    def __init__(self, kind: str, field: str, value: str) -> None:
        super().__init__(f"a {kind} with {field} {value!r} already exists")
        self.kind = kind
        self.field = field
        self.value = value


class NotFound(DomainError):
    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"{kind} {ref!r} not found")
        self.kind = kind
        self.ref = ref


class Forbidden(DomainError):
    """The user may see the thing but not do this to it; `str(error)` names the rule, e.g. "role: …"."""


class Conflict(DomainError):
    """The thing is in a state that forbids this now: in use by another process, or holding data this
    would clash with; `str(error)` says what to do first."""


class StoreUnreachable(DomainError):
    """A configured store did not answer (or refused the credentials): the setting names which."""

    def __init__(self, setting: str, where: str, reason: str) -> None:
        super().__init__(f"{setting}: {where} did not answer: {reason}")
