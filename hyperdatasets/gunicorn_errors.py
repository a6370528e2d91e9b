"""The answers gunicorn gives itself, before Django sees a request (a request line past 8,190 bytes: 414,
header fields too large: 431, a malformed request: 400), in the API's one error shape instead of gunicorn's
HTML page. gunicorn has no setting for these bodies: its workers call ``gunicorn.util.write_error``, which
``install()`` (run by gunicorn_conf.py in the master, before the workers fork) replaces."""

from __future__ import annotations

import orjson

CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed",
         431: "header_fields_too_large", 500: "server_error", 501: "not_implemented"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    from gunicorn.util import write_nonblock

    # The message can quote the request (a header's value): JSON-escaped, and never sniffed as markup.
    body = orjson.dumps({"error": {"code": CODES.get(status_int, "bad_request"), "message": mesg or reason,
                                   "details": {}}})
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin1") + body)


def install() -> None:
    import gunicorn.util

    gunicorn.util.write_error = write_json_error
