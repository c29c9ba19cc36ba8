from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "recordroom.records"
    label = "records"
    verbose_name = "Health record"

    def ready(self) -> None:
        # A merge moves these rows with their patient (mpi/relations.py).
        from recordroom.mpi.relations import register

        from .models import Condition, Document, Encounter, Procedure

        for model in (Encounter, Document, Condition, Procedure):
            register(model)
