from django.apps import AppConfig


class HyperdatasetsConfig(AppConfig):
    name = "hyperdatasets"
    verbose_name = "Hyper-datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared tasks to the project's Celery app in every Django process.
        from hyperdatasets.celery import app  # noqa: F401
