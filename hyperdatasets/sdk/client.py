"""The SDK's HTTP client: configuration, retries, and HTTP errors mapped to Python exceptions once.

Configuration, first found wins: ``configure(url=..., token=...)``; the environment variables
``HYPERDATASETS_API_URL`` and ``HYPERDATASETS_API_TOKEN``; the file ``~/.hyperdatasets.json``
(``{"url": ..., "token": ...}``, or the path in ``HYPERDATASETS_CONFIG``).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import requests

IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class HyperDatasetsError(Exception):
    """Base of the SDK's errors; carries the server's error code, message and details."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.details = status, code, details or {}


class InvalidRequestError(HyperDatasetsError, ValueError):
    """Invalid input, an existing name with raise_if_exists, or a conflict with a version's state."""


class NotFoundError(HyperDatasetsError, LookupError):
    """The object does not exist or is not visible to you."""


class AccessDeniedError(HyperDatasetsError, PermissionError):
    """Not signed in (401) or the role does not allow it (403)."""


class ServerError(HyperDatasetsError, RuntimeError):
    """The server failed (5xx) or could not be reached after retries."""


_config: dict[str, str | None] = {"url": None, "token": None}


def configure(url: str | None = None, token: str | None = None) -> None:
    """Set the server's base URL (e.g. ``http://127.0.0.1:8000``) and the API token for this process."""
    _config["url"], _config["token"] = url, token
    _Client.current = None


def _file_config() -> dict:
    path = Path(os.environ.get("HYPERDATASETS_CONFIG", Path.home() / ".hyperdatasets.json"))
    if path.is_file():
        return json.loads(path.read_text())
    return {}


def _settings() -> tuple[str, str | None]:
    from_file = _file_config()
    url = _config["url"] or os.environ.get("HYPERDATASETS_API_URL") or from_file.get("url")
    token = _config["token"] or os.environ.get("HYPERDATASETS_API_TOKEN") or from_file.get("token")
    if not url:
        raise HyperDatasetsError("no server configured: call configure(url=..., token=...) or set "
                                 "HYPERDATASETS_API_URL and HYPERDATASETS_API_TOKEN")
    return url.rstrip("/"), token


def _raise_for(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        message, code, details = error["message"], error["code"], error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        message, code, details = response.text[:500] or response.reason, None, {}
    kind = {400: InvalidRequestError, 409: InvalidRequestError, 413: InvalidRequestError,
            404: NotFoundError, 401: AccessDeniedError, 403: AccessDeniedError}.get(response.status_code)
    if kind is None:
        kind = ServerError if response.status_code >= 500 else HyperDatasetsError
    raise kind(message, status=response.status_code, code=code, details=details)


class _Client:
    current: _Client | None = None

    def __init__(self) -> None:
        self.url, token = _settings()
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"
        self.retries, self.backoff = 5, 0.5
        self.pid = os.getpid()

    @classmethod
    def get(cls) -> _Client:
        # A forked process (a DataLoader worker) gets a session of its own: connections are not shared.
        if cls.current is None or cls.current.pid != os.getpid():
            cls.current = cls()
        return cls.current

    def request(self, method: str, path: str, *, json_body: Any = None, json_bytes: bytes | None = None,
                params: dict | None = None, files: dict | None = None, data: dict | None = None,
                stream: bool = False, gzip_body: bool = False, retry: bool | None = None,
                attempts: int | None = None, headers: dict | None = None) -> requests.Response:
        """``json_body`` is encoded here; ``json_bytes`` is a body the caller encoded already."""
        retry = method in IDEMPOTENT if retry is None else retry
        headers = dict(headers or {})
        body = json_bytes
        if json_body is not None:
            body = orjson.dumps(json_body)
        if body is not None:
            headers["Content-Type"] = "application/json"
            if gzip_body:
                body = gzip.compress(body, compresslevel=1)
                headers["Content-Encoding"] = "gzip"
        url = path if path.startswith(("http://", "https://")) else self.url + path
        attempt = 0
        while True:
            attempt += 1
            delay = 0.0
            try:
                response = self.session.request(method, url, data=body if body is not None else data, params=params,
                                                files=files, headers=headers, stream=stream, timeout=(10, 600))
            except requests.ConnectionError as exc:
                if not retry or attempt >= (attempts or self.retries):
                    raise ServerError(f"cannot reach {self.url}: {exc}") from None
            else:
                if not (retry and response.status_code in RETRY_STATUSES and attempt < (attempts or self.retries)):
                    _raise_for(response)
                    return response
                delay = float(response.headers.get("Retry-After") or 0)
            time.sleep(max(delay, self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())))

    def get_json(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def send_json(self, method: str, path: str, body: Any = None, **kwargs) -> Any:
        if "json_bytes" not in kwargs:
            kwargs["json_body"] = body if body is not None else {}
        response = self.request(method, path, **kwargs)
        return orjson.loads(response.content) if response.content else None

    def pages(self, path: str, **params) -> Iterator[dict]:
        """Every item of a cursor-paginated list."""
        response = self.get_json(path, **params)
        while True:
            yield from response["results"]
            if not response.get("next"):
                return
            response = self.request("GET", response["next"]).json()

    def lines(self, path: str, **params) -> Iterator[dict]:
        response = self.request("GET", path, params=params, stream=True)
        for line in response.iter_lines():
            if line:
                yield orjson.loads(line)
