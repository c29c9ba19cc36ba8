from django.apps import AppConfig


class MpiConfig(AppConfig):
    name = "recordroom.mpi"
    label = "mpi"
    verbose_name = "Patient index"
