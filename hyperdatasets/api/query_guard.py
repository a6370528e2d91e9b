"""Query strings of the API hold no NUL character: no name, id or text the services keep can contain one
(``validation``), PostgreSQL cannot compare with one, and SQLite would. Refusing it here gives the same 400
on both databases, naming the parameter, before any view runs."""

from __future__ import annotations

from django.http import JsonResponse

from hyperdatasets.api.errors import error_body


class QueryStringGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and "%00" in request.META.get("QUERY_STRING", ""):
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    field = name.replace("\x00", "\\x00")
                    rule = "must not contain NUL characters"
                    return JsonResponse(error_body("invalid_input", f"{field}: {rule}", {field: [rule]}), status=400)
        return self.get_response(request)
