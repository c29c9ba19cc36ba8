"""Charts for the completion tests: a visit with its attending, documents filed at a
given time through the records services, signatures, procedures."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from recordroom.completion.models import Deficiency, ProviderStanding
from recordroom.records import services as records
from recordroom.records.encounters import update_encounter
from recordroom.records.models import DocumentType, Procedure
from tests import factories

SYSTEM = factories.SYSTEM
_seq = itertools.count(1)
ADMIT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DISCHARGE = ADMIT + timedelta(days=3)


def visit(*, patient, facility, attending, cls="IMP", admit=ADMIT, discharge=DISCHARGE,
          account=None):  # fmt: skip
    return records.record_encounter(
        actor=SYSTEM, patient=patient, facility=facility,
        account_number=account or f"C{next(_seq):07d}",
        encounter_class=cls, admit_at=admit, discharge_at=discharge,
        status="finished" if discharge else "in-progress", attending=attending,
    )  # fmt: skip


def discharge(encounter, at=DISCHARGE):
    update_encounter(actor=SYSTEM, encounter=encounter,
                     changes={"status": "finished", "discharge_at": at})  # fmt: skip


def file(encounter, code, at, *, author=None, text="", status="final"):
    return records.file_document(
        actor=SYSTEM, patient=encounter.patient, doc_type=DocumentType.objects.get(
            code=code), data=factories.pdf_bytes(text or f"note {code}"),
        filename="note.pdf", encounter=encounter, service_start=at, author=author,
        status=status,
    )  # fmt: skip


def sign(document, signer, meaning="author"):
    return records.sign_version(actor=SYSTEM, version=records.current_version(document),
                                signer=signer, meaning=meaning)  # fmt: skip


def procedure(encounter, start, end, *, performer, code="80146002"):
    return Procedure.objects.create(
        patient=encounter.patient, encounter=encounter, code=code,
        code_system="http://snomed.info/sct", display="Appendectomy",
        performed_start=start, performed_end=end, performer=performer,
    )  # fmt: skip


def standing(provider, value):
    return ProviderStanding.objects.create(provider=provider, standing=value)


def of(encounter, rule):
    """The deficiencies of one rule on the visit, as (anchor, status) pairs."""
    return sorted(
        (d.anchor.split(":")[0] if d.anchor.startswith("doc:") else d.anchor, d.status)
        for d in Deficiency.objects.filter(encounter=encounter, rule__code=rule)
    )


def one(encounter, rule, anchor=""):
    return Deficiency.objects.get(encounter=encounter, rule__code=rule, anchor=anchor)
