from django.apps import AppConfig


class ReleaseConfig(AppConfig):
    name = "recordroom.release"
    label = "release"
    verbose_name = "Release of information"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A merge moves a patient's requests, authorizations and disclosures with
        # the chart (mpi/relations.py); an unmerge puts exactly those back.
        from recordroom.mpi.relations import keep, register

        from .models import (
            AccountingRequest,
            AccountingSuspension,
            Authorization,
            Disclosure,
            Letter,
            ReleaseRequest,
        )

        # a suspension named for a patient applies to the survivor's accounting
        for model in (ReleaseRequest, Authorization, AccountingSuspension):
            register(model)
        # Never edited (R-AOD): a disclosure stays on the record it was made from;
        # the survivor's accounting includes the records merged into it.
        keep(Disclosure, "an accounting entry is never edited; the survivor's "
                         "accounting reads its retired records' entries too")  # fmt: skip
        keep(AccountingRequest, "a request for an accounting, as it was made")
        keep(Letter, "a letter as it was sent")
