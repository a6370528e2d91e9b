"""Rate limit on the sign-in forms (admin and pages): POSTs per client address per minute."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

SIGNIN_PATHS = ("/admin/login/", "/accounts/login/")


def _limit() -> tuple[int, int]:
    count, _, period = settings.HYPERDATASETS_SIGNIN_RATE.partition("/")
    return int(count), {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600}[period]


class SignInThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in SIGNIN_PATHS:
            allowed, period = _limit()
            key = f"signin:{request.META.get('REMOTE_ADDR', '')}"
            cache.add(key, 0, period)
            if cache.incr(key) > allowed:
                response = JsonResponse({"error": {"code": "throttled", "details": {},
                                                   "message": "Too many sign-in attempts; try again later."}},
                                        status=429)
                response["Retry-After"] = str(period)
                return response
        return self.get_response(request)
