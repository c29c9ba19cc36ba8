from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "recordroom.records"
    label = "records"
    verbose_name = "Health record"

    def ready(self) -> None:
        from .bombs import configure_pillow

        configure_pillow()
        # A merge moves these rows with their patient (mpi/relations.py).
        from recordroom.mpi.relations import register

        from .models import Condition, Document, Encounter, Procedure, ResultReport

        register(Encounter)
        for model in (Document, Condition, Procedure, ResultReport):
            register(model, follows=("encounter", "records.encounter"))
        from recordroom.mpi.overlay import register_detector

        from .overlays import (
            CareAfterDeath,
            CareBeforeBirth,
            SexConflictingCare,
            TwoBirths,
        )

        for detector in (CareAfterDeath(), CareBeforeBirth(), TwoBirths(),
                         SexConflictingCare()):  # fmt: skip
            register_detector(detector)
