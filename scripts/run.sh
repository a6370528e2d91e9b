#!/usr/bin/env bash
# One command on a fresh machine: install, migrate, create the first admin, load the example datasets,
# start a Celery worker on the embedded broker, and serve on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0
$PY manage.py ensure_admin
if $PY manage.py help load_examples >/dev/null 2>&1; then
  $PY manage.py load_examples
fi
.venv/bin/celery -A hyperdatasets worker -B --loglevel=INFO --concurrency=2 > var/celery-worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "Celery worker started (log: var/celery-worker.log). Serving on http://${HYPERDATASETS_ADDR:-127.0.0.1:8000}"
$PY manage.py runserver "${HYPERDATASETS_ADDR:-127.0.0.1:8000}" --noreload
