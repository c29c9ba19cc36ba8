from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "recordroom.queries"
    label = "queries"
    verbose_name = "Compliant queries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recordroom.mpi.relations import register

        from .models import Query

        # a query moves with its visit in a merge or a split
        register(Query, follows=("encounter", "records.encounter"))
