from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "recordroom.records"
    label = "records"
    verbose_name = "Health record"
