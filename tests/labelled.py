"""A chart with sensitive documents and a VIP chart, and the users who read them, for
the tests of sensitivity labels (accounts.labels, records.access) on every path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recordroom.records import services as records
from recordroom.records.models import Document, DocumentType
from tests import factories


@dataclass
class Labelled:
    patient: Any
    vip: Any
    part2: Document  # SUD treatment note: ETH, SUD (R-P2-1)
    therapy: Document  # psychotherapy note: PSYTHPN, PSY (R-PN-1)
    hiv: Document
    plain: Document
    vip_plain: Document
    him: Any  # HIM specialist, no label grants
    therapist: Any  # provider user, author of the psychotherapy note
    doctor: Any  # another provider user
    privacy: Any  # privacy officer


def _doc(patient, facility, code, text, *, author=None, sensitivity=None, title=""):
    return records.file_document(
        actor=factories.SYSTEM, patient=patient,
        doc_type=DocumentType.objects.get(code=code),
        data=factories.pdf_bytes(text), filename="note.pdf", facility=facility,
        author=author, sensitivity=sensitivity, title=title,
    )  # fmt: skip


def labelled_chart(facility) -> Labelled:
    patient = factories.patient(facility=facility, family="Quill", given="Ada",
                                mrn="L-100")  # fmt: skip
    vip = factories.patient(facility=facility, family="Starr", given="Vera",
                            mrn="L-200")  # fmt: skip
    vip.is_vip = True
    vip.save(update_fields=["is_vip"])
    therapist = factories.user("therapist", "provider", facilities=[facility])
    author = factories.provider(family="Freud", given="Anna")
    author.user = therapist
    author.save(update_fields=["user"])
    return Labelled(
        patient=patient,
        vip=vip,
        part2=_doc(patient, facility, "SUDTX", "Methadone dose 80 mg",
                   title="Opioid treatment program visit"),
        therapy=_doc(patient, facility, "PSYTHPN", "Session: talked about her father",
                     author=author, title="Session notes"),
        hiv=_doc(patient, facility, "18842-5", "HIV-1 viral load undetectable",
                 sensitivity=["HIV"], title="Infectious disease summary"),
        plain=_doc(patient, facility, "18842-5", "Appendectomy, uneventful",
                   title="Discharge summary"),
        vip_plain=_doc(vip, facility, "18842-5", "Knee arthroscopy",
                       title="VIP discharge summary"),
        him=factories.user("him-nogrants", "him_specialist", facilities=[facility]),
        therapist=therapist,
        doctor=factories.user("doctor", "provider", facilities=[facility]),
        privacy=factories.user("privacy", "privacy_officer", facilities=[facility]),
    )  # fmt: skip
