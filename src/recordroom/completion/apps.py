from django.apps import AppConfig


class CompletionConfig(AppConfig):
    name = "recordroom.completion"
    label = "completion"
    verbose_name = "Chart completion"

    def ready(self) -> None:
        from recordroom.mpi.relations import register
        from recordroom.records.hooks import register_chart_listener

        from .engine import on_chart_changed
        from .models import Deficiency

        # A deficiency moves with its visit in a merge or a split.
        register(Deficiency, follows=("encounter", "records.encounter"))
        # Records tells us when a chart changed (DESIGN.md rule 6): a discharge, a
        # document filed, signed, versioned or entered in error.
        register_chart_listener(on_chart_changed)
