import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")
application = get_asgi_application()

from hyperdatasets.gc_tuning import tune_collector  # noqa: E402 - after Django is set up

tune_collector()
