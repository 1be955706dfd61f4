"""Domain errors: what went wrong, in words a user can act on.

Raised by `accounts/` and `sites/`; the CLI prints them and `web/` maps them to HTTP responses
(ValidationError → 400 or 422, AlreadyExists → 409, NotFound → 404, Forbidden → 403).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a user caused and can fix; `str(error)` is the message to show."""


class ValidationError(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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


class StoreUnreachable(DomainError):
    """A configured store did not answer (or refused the credentials): the setting names which."""

    def __init__(self, setting: str, where: str, reason: str) -> None:
        super().__init__(f"{setting}: {where} did not answer: {reason}")
