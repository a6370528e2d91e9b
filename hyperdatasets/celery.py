"""The Celery app: `celery -A hyperdatasets worker` starts a worker."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")

app = Celery("hyperdatasets")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
def _tune_collector(**_kwargs) -> None:
    from hyperdatasets.gc_tuning import tune_collector

    tune_collector()
