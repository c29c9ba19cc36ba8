from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "recordroom.interop"
    label = "interop"
    verbose_name = "Interfaces"

    def ready(self) -> None:
        from recordroom.mpi.relations import keep

        from .models import InterfaceMessage

        keep(InterfaceMessage, "the log of what was received about that record")
