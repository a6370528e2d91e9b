"""The ClearML wire face: ``/clearml/v<version>/<service>.<action>`` and ``/clearml/<service>.<action>``, GET or
POST with a JSON body, answered in ClearML's envelope (``clearml_api.envelope``). ``auth.login`` takes HTTP
Basic (an access key and secret, ``clearml_api.credentials``); every other call a Bearer token it issued.
Handlers (``clearml_api.handlers``) map each call onto this project's services and selectors, under the
caller's project rights."""

from __future__ import annotations

import logging
import re

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from clearml_api import dataset_writes, datasets, dataviews, handlers  # noqa: F401 - registers the endpoints
from clearml_api.credentials import TokenRefused, token_user
from clearml_api.endpoints import HANDLERS, PUBLIC, Call
from clearml_api.envelope import (
    ALREADY_EXISTS,
    EXPIRED_TOKEN,
    INVALID_FIELD,
    INVALID_ID,
    NOT_ALLOWED,
    UNAUTHORIZED_TOKEN,
    ApiError,
    envelope,
)
from hyperdatasets.access import AccessDenied
from hyperdatasets.exceptions import AlreadyExists, InvalidInput, NotFound, ServiceError, StateConflict

log = logging.getLogger(__name__)
ENDPOINT_NAME = re.compile(r"^[a-z_]+\.[a-z_0-9]+$")
MAX_BODY = 100 * 2**20  # the client splits save_frames batches at 100 MB


def _body(request: HttpRequest) -> dict:
    body: dict = {}
    for key in request.GET:
        values = request.GET.getlist(key)
        body[key] = values if len(values) > 1 else values[0]
    if request.body:
        try:
            parsed = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, f"the body is not JSON ({exc})", INVALID_FIELD) from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "the body must be a JSON object", INVALID_FIELD)
        body.update(parsed)
    return body


def _service_error(exc: ServiceError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(400, exc.message, INVALID_ID)
    if isinstance(exc, AlreadyExists):
        return ApiError(400, exc.message, ALREADY_EXISTS)
    if isinstance(exc, AccessDenied):
        return ApiError(403, exc.message, NOT_ALLOWED)
    if isinstance(exc, StateConflict):
        return ApiError(400, exc.message, 0)
    if isinstance(exc, InvalidInput):
        return ApiError(400, exc.message, INVALID_FIELD, {"details": exc.details})
    return ApiError(400, exc.message)


def _caller(request: HttpRequest):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Unauthorized (missing Bearer token: call auth.login first)", UNAUTHORIZED_TOKEN)
    try:
        return token_user(token.strip())
    except TokenRefused as exc:
        subcode = EXPIRED_TOKEN if "expired" in exc.reason else UNAUTHORIZED_TOKEN
        raise ApiError(401, f"Unauthorized ({exc.reason})", subcode) from None


@csrf_exempt
def call(request: HttpRequest, endpoint: str, version: str = "2.23") -> HttpResponse:
    if not ENDPOINT_NAME.match(endpoint) or len(endpoint) > 100:
        return envelope(endpoint[:100], version, code=400, message=f"Invalid endpoint name {endpoint[:100]!r}")
    if len(version) > 10 or not re.match(r"^\d+\.\d+$", version):
        return envelope(endpoint, version[:10], code=400, message=f"Invalid API version {version[:10]!r}")
    try:
        if request.method not in ("GET", "POST"):
            raise ApiError(405, f"{request.method} is not served: send GET or POST with a JSON body")
        try:
            raw = request.body
        except RequestDataTooBig:
            raise ApiError(413, "the body is larger than this server takes") from None
        if len(raw) > MAX_BODY:
            raise ApiError(413, f"the body is larger than {MAX_BODY} bytes")
        handler = HANDLERS.get(endpoint)
        if handler is None:
            raise ApiError(400, f"Unable to find endpoint for name {endpoint} and version {version}")
        body = _body(request)
        if endpoint in PUBLIC:
            result = handler(Call(endpoint, version, None, body, request))
        else:
            caller = _caller(request)
            result = handler(Call(endpoint, version, caller.user, body, request, caller.credential_id))
    except ApiError as exc:
        return envelope(endpoint, version, code=exc.code, subcode=exc.subcode, message=exc.message,
                        error_data=exc.error_data)
    except ServiceError as exc:
        error = _service_error(exc)
        return envelope(endpoint, version, code=error.code, subcode=error.subcode, message=error.message,
                        error_data=error.error_data)
    except Exception:
        log.exception("clearml endpoint %s failed", endpoint)
        # 500 at most: the client retries anything above for ever.
        return envelope(endpoint, version, code=500, message="Internal server error")
    return envelope(endpoint, version, result)
