from django.apps import AppConfig


class HyperdatasetsConfig(AppConfig):
    name = "hyperdatasets"
    verbose_name = "Hyper-datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared tasks to the project's Celery app in every Django process.
        from django.db.models.signals import post_migrate

        from hyperdatasets.celery import app  # noqa: F401
        from hyperdatasets.db_guards import post_migrate_install

        post_migrate.connect(post_migrate_install, sender=self, dispatch_uid="hyperdatasets-db-guards")
