"""The Celery app: `celery -A hyperdatasets worker` starts a worker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")

app = Celery("hyperdatasets")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
