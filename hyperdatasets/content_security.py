"""A Content-Security-Policy on every response that sets none of its own (file responses set a stricter one).

Scripts run only from this origin's static files: no inline script, no eval, no plugins, no framing.
Images and videos may come from the stores' presigned URLs (other origins, https or an emulator's http);
styles may be inline (the pages size bars and colour swatches with style attributes), which runs no code.
"""

from __future__ import annotations

PAGE_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https: http:",
    "media-src 'self' blob: https: http:",
    "connect-src 'self'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
