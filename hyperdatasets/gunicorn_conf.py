"""gunicorn's settings for the run command (``gunicorn -c hyperdatasets/gunicorn_conf.py``).

Threaded workers (gthread): requests mostly wait on the database, so a few threads a process serve many
clients while one process a core keeps Python's work parallel. Every value can be set from the environment.
"""

import os

from hyperdatasets.gunicorn_errors import install as _json_errors

_json_errors()

bind = os.environ.get("HYPERDATASETS_ADDR", "127.0.0.1:8000")
wsgi_app = "hyperdatasets.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("HYPERDATASETS_WORKERS", os.cpu_count() or 1))
threads = int(os.environ.get("HYPERDATASETS_THREADS", 8))
# Idle keep-alive connections are kept longer than clients keep them (urllib3 and browsers reuse them for
# seconds, not minutes), so the server never closes one as a client sends on it: a POST on a reused
# connection does not fail. A worker being replaced answers "Connection: close" before it goes.
keepalive = int(os.environ.get("HYPERDATASETS_KEEPALIVE_SECONDS", 75))
timeout = int(os.environ.get("HYPERDATASETS_REQUEST_TIMEOUT_SECONDS", 300))  # a 16 MB frame batch fits
graceful_timeout = 30  # SIGHUP or SIGTERM: requests in flight finish first
# Request lines and headers past these answer 414 / 431 before Django sees them, in the API's JSON error
# shape (gunicorn_errors).
limit_request_line = 8190
limit_request_field_size = 8190
accesslog = os.environ.get("HYPERDATASETS_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("HYPERDATASETS_LOG_LEVEL", "info")
