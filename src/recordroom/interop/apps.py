from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "recordroom.interop"
    label = "interop"
    verbose_name = "Interfaces"
