from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "recordroom.mpi.linkage"
    label = "linkage"
    verbose_name = "Patient linkage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recordroom.mpi.relations import keep

        from .models import CandidatePair, MatchDecision, PairAssignment

        # A scan's finding about two records, as they were; the next scan sees
        # the merged chart afresh.
        keep(CandidatePair, "a linkage run's finding about the records as they were")
        keep(
            MatchDecision, "what search before create decided for a registration, then"
        )
        keep(PairAssignment, "who worked those two records on the worklist")
