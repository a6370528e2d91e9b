from django.apps import AppConfig


class DataviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dataviews"
    verbose_name = "Dataviews"
