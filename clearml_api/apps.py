from django.apps import AppConfig


class ClearmlApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clearml_api"
    verbose_name = "ClearML API"
