"""ClearML's response envelope: every answer, errors included, is ``{"meta": {...}, "data": {...}}`` with the
HTTP status equal to ``meta.result_code``. The client decides on ``result_code``, formats errors from the
whole ``meta`` (an incomplete one makes it retry for ever) and retries any code above 500 for ever, so errors
are complete and at most 500."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.http import HttpResponse

# Result subcodes the client may branch on (ClearML server's own numbers).
INVALID_ID = 101
MISSING_FIELD = 111
INVALID_FIELD = 112
ALREADY_EXISTS = 701
NOT_ALLOWED = 403
UNAUTHORIZED_TOKEN = 20
EXPIRED_TOKEN = 22
BAD_CREDENTIALS = 21


def envelope(endpoint: str, version: str, data: dict[str, Any] | None = None, *, code: int = 200, subcode: int = 0,
             message: str = "OK", error_data: dict[str, Any] | None = None) -> HttpResponse:
    request_id = uuid.uuid4().hex
    body = {"meta": {"id": request_id, "trx": request_id,
                     "endpoint": {"name": endpoint, "requested_version": version, "actual_version": version},
                     "result_code": code, "result_subcode": subcode, "result_msg": message, "error_stack": "",
                     "error_data": error_data or {}},
            "data": data if data is not None else {}}
    response = HttpResponse(orjson.dumps(body), status=code, content_type="application/json")
    if code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="clearml"'
    return response


class ApiError(Exception):
    """An answer other than OK: the HTTP status (at most 500), ClearML's subcode and the message."""

    def __init__(self, code: int, message: str, subcode: int = 0, error_data: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.error_data = code, message, subcode, error_data or {}
