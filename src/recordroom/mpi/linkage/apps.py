from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "recordroom.mpi.linkage"
    label = "linkage"
    verbose_name = "Patient linkage"
    default_auto_field = "django.db.models.BigAutoField"
