from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "recordroom.capture"
    label = "capture"
    verbose_name = "Capture (scan, OCR, classify, index)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A merge moves what is proposed or filed for a patient with the chart; a
        # move of a misfiled document is history and stays as it was written.
        from recordroom.mpi.relations import keep, register

        from .models import CaptureDocument, DocumentMove

        register(CaptureDocument, "patient")
        keep(DocumentMove, "a misfile correction, as it was made")
