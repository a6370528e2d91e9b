#!/usr/bin/env bash
# Installs the project and runs the whole suite: lint, migration check, then every test on SQLite and on
# PostgreSQL. Fails loudly when PostgreSQL or Redis is unreachable; it never skips a leg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
PY=.venv/bin/python
PG_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/hyperdatasets}"
REDIS_URL_FOR_TESTS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export HYPERDATASETS_VAR_DIR="${HYPERDATASETS_VAR_DIR:-$PWD/var/test}"

$PY - "$PG_URL" "$REDIS_URL_FOR_TESTS" <<'PYCHECK'
import socket, sys
from urllib.parse import urlparse
problems = []
for url, start in [
    (sys.argv[1], "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    (sys.argv[2], "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no"),
]:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=3).close()
    except OSError as exc:
        problems.append(f"  {parsed.scheme} at {parsed.hostname}:{parsed.port} is unreachable ({exc}).\n"
                        f"    Start it with: {start}")
if problems:
    print("ERROR: the test suite needs these services:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(2)
PYCHECK

echo "== ruff"
.venv/bin/ruff check .
echo "== migrations complete"
$PY manage.py makemigrations --check --dry-run
# Celery runs on Redis in the tests (the deletion tests start real workers), one queue per leg.
echo "== tests on SQLite"
env -u DATABASE_URL TEST_REDIS_URL="$REDIS_URL_FOR_TESTS" CELERY_BROKER_URL="$REDIS_URL_FOR_TESTS" \
  HYPERDATASETS_CELERY_QUEUE=hyperdatasets-test-sqlite .venv/bin/pytest "$@"
echo "== tests on PostgreSQL"
DATABASE_URL="$PG_URL" TEST_REDIS_URL="$REDIS_URL_FOR_TESTS" CELERY_BROKER_URL="$REDIS_URL_FOR_TESTS" \
  HYPERDATASETS_CELERY_QUEUE=hyperdatasets-test-postgres .venv/bin/pytest "$@"
