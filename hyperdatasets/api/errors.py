"""One error shape for the whole API: ``{"error": {"code", "message", "details"}}``; one status per error."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from hyperdatasets.access import AccessDenied
from hyperdatasets.exceptions import (
    AlreadyExists,
    AmbiguousName,
    InvalidCursor,
    InvalidInput,
    NotFound,
    ServiceError,
    StaleWrite,
    StateConflict,
)

SERVICE_STATUS = {
    InvalidInput: 400,
    AmbiguousName: 409,
    InvalidCursor: 404,
    AccessDenied: 403,
    NotFound: 404,
    AlreadyExists: 409,
    StateConflict: 409,
    StaleWrite: 412,
}


class PayloadTooLarge(drf.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "The request body is too large."


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _service_status(exc: ServiceError) -> int:
    for kind in type(exc).__mro__:
        if kind in SERVICE_STATUS:
            return SERVICE_STATUS[kind]
    return 400


def _validation_message(detail) -> str:
    if isinstance(detail, dict):
        field, errors = next(iter(detail.items()))
        first = errors[0] if isinstance(errors, list) and errors else errors
        return f"{field}: {_validation_message(first) if isinstance(first, dict | list) else first}"
    if isinstance(detail, list) and detail:
        return _validation_message(detail[0]) if isinstance(detail[0], dict | list) else str(detail[0])
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message, exc.details), status=_service_status(exc))
    if isinstance(exc, DataError):
        # Last line of defence: a value the database cannot hold (e.g. a NUL character in a lookup).
        return Response(error_body("invalid_input", "a value in the request cannot be stored or searched: "
                                   + str(exc).splitlines()[0]), status=400)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc))
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(error_body("invalid_input", _validation_message(details), details), status=400)
    if isinstance(exc, drf.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
    return None


def _api_path(request) -> bool:
    return request.path.startswith("/api/")


def _json_or_page(request, status: int, code: str, message: str, page_handler, *args):
    """Errors Django answers itself (no URL matched, a bad request, a crash): JSON under /api/, the usual
    page elsewhere."""
    if _api_path(request):
        from django.http import JsonResponse

        return JsonResponse(error_body(code, message), status=status)
    return page_handler(request, *args)


def not_found(request, exception=None):
    from django.views import defaults

    return _json_or_page(request, 404, "not_found", f"nothing at {request.path!r}", defaults.page_not_found,
                         exception)


def bad_request(request, exception=None):
    from django.views import defaults

    return _json_or_page(request, 400, "bad_request", "the request is malformed", defaults.bad_request, exception)


def permission_denied(request, exception=None):
    from django.views import defaults

    return _json_or_page(request, 403, "permission_denied", "forbidden", defaults.permission_denied, exception)


def server_error(request):
    from django.views import defaults

    return _json_or_page(request, 500, "server_error", "the server failed; the error is logged",
                         defaults.server_error)
