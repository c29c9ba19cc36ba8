"""Finding patients (adds account numbers to the MPI search) and assembling a chart."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Prefetch

from recordroom.mpi.models import Patient
from recordroom.mpi.search import PatientHit, PatientQuery, search_patients
from recordroom.mpi.services import get_patient

from .models import Document, DocumentVersion, Encounter
from .services import visible_documents


def find_patients(
    *, user: Any, query: PatientQuery, account: str = ""
) -> list[PatientHit]:
    """Search by name, birth date, identifier, SSN and/or encounter account number."""
    account = account.strip()
    if account:
        ids = tuple(
            Encounter.objects.filter(account_number=account).values_list(
                "patient_id", flat=True
            )
        )
        query = replace(query, patient_ids=ids)
    return search_patients(user=user, query=query)


@dataclass
class Chart:
    patient: Patient
    encounters: list[Encounter]
    documents: list[Document]

    def documents_by_type(self) -> list[tuple[str, list[Document]]]:
        groups: dict[str, list[Document]] = {}
        for doc in self.documents:
            groups.setdefault(doc.doc_type.display, []).append(doc)
        return sorted(groups.items())


def get_chart(*, user: Any, patient_id: Any) -> Chart:
    """The chart a user may see: demographics with history, encounters, documents."""
    patient = get_patient(user=user, patient_id=patient_id)
    scope = user.facility_ids() if user is not None else None
    encounters = Encounter.objects.filter(patient=patient).select_related(
        "facility", "attending"
    )
    if scope is not None:
        encounters = encounters.filter(facility_id__in=scope)
    documents = (
        visible_documents(user)
        .filter(patient=patient)
        .select_related("doc_type", "author", "encounter", "facility")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DocumentVersion.objects.prefetch_related("signatures__signer"),
            )
        )
        .order_by("-service_start")
    )
    return Chart(patient, list(encounters.order_by("-admit_at")), list(documents))
