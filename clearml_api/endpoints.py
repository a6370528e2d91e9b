"""The registry of ClearML endpoints this server answers: ``"service.action" -> handler(call) -> data``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clearml_api.envelope import INVALID_FIELD, MISSING_FIELD, ApiError


@dataclass
class Call:
    """One request: its endpoint, the caller, and the body (query parameters merged in; unknown fields are
    ignored, as ClearML's client sends several, ``"method": "get"`` among them)."""

    endpoint: str
    version: str
    user: Any
    body: dict[str, Any]
    request: Any = None
    credential_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.body.get(name, default)
        return default if value is None else value

    def required(self, name: str) -> Any:
        if self.body.get(name) is None:
            raise ApiError(400, f"{name}: is required", MISSING_FIELD)
        return self.body[name]

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.body.get(name, default)
        if value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if type(value) is not bool:
            raise ApiError(400, f"{name}: must be true or false", INVALID_FIELD)
        return value

    def integer(self, name: str, default: int | None = None, low: int = 0, high: int = 2**31) -> int | None:
        value = self.body.get(name, default)
        if value is None:
            return default
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if type(value) is not int or not low <= value <= high:
            raise ApiError(400, f"{name}: must be an integer from {low} to {high}", INVALID_FIELD)
        return value

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(400, f"{name}: must be a string", INVALID_FIELD)
        return value

    def object(self, name: str) -> dict | None:
        value = self.get(name)
        if value is not None and not isinstance(value, dict):
            raise ApiError(400, f"{name}: must be an object", INVALID_FIELD)
        return value

    def strings(self, name: str) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(400, f"{name}: must be a list of strings", INVALID_FIELD)
        return value


Handler = Callable[[Call], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
PUBLIC: set[str] = set()  # endpoints that authenticate themselves (auth.login)


def endpoint(name: str, public: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        if public:
            PUBLIC.add(name)
        return handler
    return register
