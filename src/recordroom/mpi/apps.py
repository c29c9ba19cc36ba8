from django.apps import AppConfig


class MpiConfig(AppConfig):
    name = "recordroom.mpi"
    label = "mpi"
    verbose_name = "Patient index"

    def ready(self) -> None:
        from .models import (
            HeldMerge,
            OverlayFlag,
            PairDecision,
            PatientAddress,
            PatientName,
            PatientTelecom,
        )
        from .relations import keep

        # The retired record stays whole: its names are copied to the survivor as
        # aliases, its identifiers moved (merge.py); its addresses and phones stay.
        for model in (PatientName, PatientAddress, PatientTelecom):
            keep(model, "the retired record's own demographics, kept with it")
        keep(OverlayFlag, "a worklist sign about that chart, resolved there")
        keep(PairDecision, "a decision about those two records as they were")
        keep(HeldMerge, "an inbound merge of those two records, decided as asked")
