from django.apps import AppConfig


class CodingConfig(AppConfig):
    name = "recordroom.coding"
    label = "coding"
    verbose_name = "Coding"
    default_auto_field = "django.db.models.BigAutoField"
