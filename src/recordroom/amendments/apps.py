from django.apps import AppConfig


class AmendmentsConfig(AppConfig):
    name = "recordroom.amendments"
    label = "amendments"
    verbose_name = "Amendments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recordroom.mpi.relations import keep, register
        from recordroom.records import disclosure_materials

        from .materials import DisputeMaterials
        from .models import AmendmentLetter, AmendmentRequest

        # a merge moves a patient's requests with the chart; letters stay as sent
        register(AmendmentRequest)
        keep(AmendmentLetter, "a letter as it was sent")
        # R-AMD-6: the release desk reads this registry when it builds a packet
        disclosure_materials.register(DisputeMaterials())
