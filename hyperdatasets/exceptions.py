"""The one error hierarchy of the services.

Every refusal names the object and the rule. The API maps these to HTTP once; the SDK maps HTTP back once.
This module imports nothing from Django so the SDK can share the codes.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(ServiceError):
    code = "not_found"


class AlreadyExists(ServiceError):
    code = "already_exists"


class StateConflict(ServiceError):
    """The object's state (Published, Draft parent, not the simple structure, ...) forbids the change."""

    code = "state_conflict"


class StaleWrite(StateConflict):
    """The object changed since the caller read it: a conditional write (If-Match) is refused."""

    code = "stale_write"


class InvalidInput(ServiceError):
    """Bad input; ``details`` maps each field to the rules it broke."""

    code = "invalid_input"

    @classmethod
    def for_field(cls, field: str, rule: str) -> InvalidInput:
        return cls(f"{field}: {rule}", details={field: [rule]})


class AmbiguousName(InvalidInput):
    """A name that several objects the caller can see carry: the request conflicts with their state (409)."""

    code = "ambiguous_name"


class InvalidCursor(InvalidInput):
    """A page cursor that no page returned: the page it names does not exist (404, as DRF's cursor
    pagination answers)."""

    code = "invalid_cursor"
