#!/usr/bin/env bash
# One command on a fresh machine: install, migrate, create the first admin, load the example datasets,
# start a Celery worker on the embedded broker, and serve on http://127.0.0.1:8000 with gunicorn (threaded
# workers, one a core; hyperdatasets/gunicorn_conf.py). HYPERDATASETS_DEV_SERVER=1 serves with Django's
# runserver instead (auto-reload, for development only).
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
VAR="${HYPERDATASETS_VAR_DIR:-var}"
mkdir -p "$VAR"
.venv/bin/celery -A hyperdatasets worker -B --loglevel=INFO --concurrency=2 > "$VAR/celery-worker.log" 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "Celery worker started (log: $VAR/celery-worker.log). Serving on http://${HYPERDATASETS_ADDR:-127.0.0.1:8000}"
if [ "${HYPERDATASETS_DEV_SERVER:-}" = "1" ]; then
  $PY manage.py runserver "${HYPERDATASETS_ADDR:-127.0.0.1:8000}"
else
  # Not exec: the trap stops the worker when the server ends. SIGHUP to gunicorn's master restarts its
  # workers gracefully.
  .venv/bin/gunicorn -c hyperdatasets/gunicorn_conf.py &
  SERVER=$!
  trap 'kill -TERM $SERVER 2>/dev/null; kill $WORKER 2>/dev/null || true' EXIT INT TERM
  wait $SERVER
fi
