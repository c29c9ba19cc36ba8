from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "recordroom.kernel"
    label = "kernel"
