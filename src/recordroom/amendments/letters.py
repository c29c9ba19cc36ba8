"""What the letters of an amendment request say, in plain words (DESIGN.md rule 11):
the extension notice (R-AMD-2), acceptance and the notice to the people the patient
named (R-AMD-4), the denial (R-AMD-5), the copy of our rebuttal (R-AMD-6), and the
summary that goes with later disclosures of disputed information (R-AMD-6 (d)(5))."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.conf import settings

from recordroom.kernel import clock
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.letterpdf import LetterDoc
from recordroom.mpi.models import Patient

from .models import AmendmentEntry, AmendmentRequest, EntryOutcome, Ground

DEPARTMENT = "Health Information Management - Amendments"
# The statement of disagreement may be limited in length (164.526(d)(2)).
DISAGREEMENT_MAX_CHARS = 4000

HHS_COMPLAINT = (
    "the Secretary of the U.S. Department of Health and Human Services, Office for "
    "Civil Rights: online at www.hhs.gov/ocr/complaints, by mail to 200 Independence "
    "Avenue SW, Washington, DC 20201, or by phone at 1-800-368-1019"
)

GROUND_WORDS = {
    Ground.NOT_CREATED_HERE: (
        "The information was not created by us, and the person or organization that "
        "created it is still able to act on a request to amend it. Please send your "
        "request to them."
    ),
    Ground.NOT_IN_RECORD_SET: (
        "The information is not part of the records we use to make decisions about "
        "you (your designated record set), so it is not something we amend."
    ),
    Ground.NOT_AVAILABLE: (
        "The information is not part of what federal law gives you the right to "
        "inspect and copy, so it is not something we amend."
    ),
    Ground.ACCURATE: (
        "We reviewed the information, with the clinician who wrote it, and found it "
        "accurate and complete as it stands."
    ),
}


def patient_name(patient: Patient) -> str:
    name = patient.legal_name()
    return (
        " ".join(p for p in (name.given, name.family) if p) if name else "the patient"
    )


def _long(d: date | None) -> str:
    return clock.long_date(d)


def entry_line(entry: AmendmentEntry) -> str:
    doc = entry.document
    when = clock.long_date(doc.service_start, doc.facility)
    return f"{doc.title or doc.doc_type.display} of {when}"


def base(req: AmendmentRequest, title: str, signer: Sequence[str],
         to: Sequence[str] | None = None) -> LetterDoc:  # fmt: skip
    patient = req.patient
    born = f", born {_long(patient.birth_date)}" if patient.birth_date else ""
    return LetterDoc(
        organization=req.facility.name, department=DEPARTMENT,
        reference=f"Amendment request {req.number}",
        to=to if to is not None else [req.requested_by, *req.address.splitlines()],
        subject=f"request {req.number} to amend the record of "
        f"{patient_name(patient)}{born}", title=title, on=clock.today(req.facility),
        signature=[*signer, "Health Information Management", req.facility.name],
    )  # fmt: skip


def _entries(req: AmendmentRequest, outcome: str | None = None) -> list[str]:
    qs = req.entries.select_related("document__doc_type", "document__facility")
    if outcome is not None:
        qs = qs.filter(outcome=outcome)
    return [entry_line(e) for e in qs.order_by("pk")]


def _asked(doc: LetterDoc, req: AmendmentRequest) -> None:
    doc.p(f"On {_long(req.received_on)} you asked us to amend "
          + "; ".join(_entries(req)) + ". You asked:")  # fmt: skip
    doc.quote(req.change)


def extension(req: AmendmentRequest, signer: Sequence[str]) -> LetterDoc:
    """R-AMD-2: the reason for the delay and the date we will act by."""
    doc = base(req, "We need more time to answer your request", signer)
    _asked(doc, req)
    doc.p(f"We need more time to answer, because {req.extension_reason.strip()}")
    doc.p(f"We will give you our decision by {_long(req.extended_to)}. Federal law "
          "gives us 60 days from receipt to act on a request to amend, and allows one "
          "extension of up to 30 days when we tell you the reason and the date in "
          "writing (45 CFR 164.526(b)(2)). We will not extend it again.")  # fmt: skip
    return doc


def acceptance(req: AmendmentRequest, signer: Sequence[str]) -> LetterDoc:
    """R-AMD-4: the patient is told what was amended and who will be sent it."""
    doc = base(req, "We have amended your record", signer)
    _asked(doc, req)
    doc.p("We agreed and have amended these entries of your record: "
          + "; ".join(_entries(req, EntryOutcome.ACCEPTED)) + ". The amendment, "
          "added to each entry and linked to it, reads:")  # fmt: skip
    doc.quote(req.amendment_text)
    _people(doc, req)
    return doc


def _people(doc: LetterDoc, req: AmendmentRequest) -> None:
    names = [p.get("name", "") for p in req.notify if p.get("name")]
    if names:
        doc.p("As you asked, we are sending the amendment to: " + "; ".join(names)
              + ". We also send it to anyone we know has this information and may "
              "have relied on it.")  # fmt: skip
    else:
        doc.p("If you want us to send the amendment to anyone (another doctor, an "
              "insurer), tell us their names and addresses and we will. We also send "
              "it to anyone we know has this information and may have relied on it.")  # fmt: skip


def denial(req: AmendmentRequest, signer: Sequence[str]) -> LetterDoc:
    """R-AMD-5: basis; the statement of disagreement and how; the request and denial
    with future disclosures if no statement; how to complain, to us and to HHS."""
    partial = bool(_entries(req, EntryOutcome.ACCEPTED))
    title = ("We have amended part of your record and denied the rest" if partial
             else "We cannot amend your record as you asked")  # fmt: skip
    doc = base(req, title, signer)
    _asked(doc, req)
    if partial:
        doc.p("We agreed to amend: " + "; ".join(_entries(req, EntryOutcome.ACCEPTED))
              + ". The amendment, added to each of those entries, reads:")  # fmt: skip
        doc.quote(req.amendment_text)
        _people(doc, req)
    doc.h("Why we denied your request")
    doc.p("We did not amend: " + "; ".join(_entries(req, EntryOutcome.DENIED)) + ".")
    doc.p(GROUND_WORDS[Ground(req.ground)])
    if req.basis.strip():
        doc.quote(req.basis)
    contact, phone = _contact()
    doc.h("You may send us a statement of disagreement")
    doc.p("You have the right to send us a written statement saying that you disagree "
          "and why. Write to " + f"{contact}, {req.facility.name}" + ", quoting "
          f"request {req.number}. Please keep it to {DISAGREEMENT_MAX_CHARS:,} "
          "characters (about two pages). We will add your statement to your record "
          "and link it to the information you disagree with. We may write a reply to "
          "it; if we do, we will send you a copy.")  # fmt: skip
    doc.p(
        "Whenever we later share the information you disagree with, we will include "
        "your request, this letter, your statement and any reply of ours, or an "
        "accurate summary of them."
    )
    doc.h("If you do not send a statement")
    doc.p("If you choose not to send a statement of disagreement, you may ask us to "
          "include your request and this letter whenever we share that information in "
          "the future. Tell us in writing or by phone at the number below.")  # fmt: skip
    doc.h("How to complain")
    doc.p(f"You may complain to us: {contact}, {req.facility.name}, telephone {phone}. "
          f"You may also complain to {HHS_COMPLAINT}. We will not retaliate against "
          "you for complaining.")  # fmt: skip
    return doc


def _contact() -> tuple[str, str]:
    contact, phone = settings.ROI_CONTACT, settings.ROI_CONTACT_PHONE
    if not phone.strip():
        raise ValidationFailed(
            "a denial letter must give the telephone number of the contact for "
            "complaints: set RECORDROOM_ROI_CONTACT_PHONE",
            field="ROI_CONTACT_PHONE")  # fmt: skip
    return contact, phone


def notice(req: AmendmentRequest, person: dict[str, str],
           signer: Sequence[str]) -> LetterDoc:  # fmt: skip
    """R-AMD-4 (c): the amendment sent to a person the patient named."""
    to = [person.get("name", ""), *person.get("address", "").splitlines()]
    doc = base(req, "An amendment to a patient's record", signer, to=to)
    doc.p(f"At the request of {patient_name(req.patient)}, we have amended these "
          "entries of their record: " + "; ".join(_entries(req, EntryOutcome.ACCEPTED))
          + ". If you hold or rely on this information, please note the amendment:")  # fmt: skip
    doc.quote(req.amendment_text)
    return doc


def rebuttal(req: AmendmentRequest, signer: Sequence[str]) -> LetterDoc:
    """R-AMD-6 (d)(3): the patient gets a copy of our rebuttal."""
    doc = base(req, "Our reply to your statement of disagreement", signer)
    doc.p(f"We received your statement of disagreement on {_long(req.disagreement_on)} "
          "and have added it to your record, linked to the information you disagree "
          "with. This is our reply, which we have added to your record too:")  # fmt: skip
    doc.quote(req.rebuttal)
    doc.p(
        "Whenever we later share that information, we will include your request, "
        "our denial, your statement and this reply, or an accurate summary of them."
    )
    return doc


def disclosure_summary(req: AmendmentRequest) -> LetterDoc:
    """R-AMD-6 (d)(5): what goes out with every later disclosure of disputed
    information: the request, the denial, the statement and the rebuttal."""
    doc = base(req, "A disputed entry: the patient's request to amend it",
               [], to=[])  # fmt: skip
    doc.on = None
    doc.p("The patient disputes the following entries of this record: "
          + "; ".join(_entries(req, EntryOutcome.DENIED)) + ".")  # fmt: skip
    doc.h(f"The patient's request, received {_long(req.received_on)}")
    doc.quote(req.change)
    doc.p("The patient's reason:")
    doc.quote(req.reason)
    doc.h(f"Our denial, {clock.long_date(req.decided_at, req.facility)}")
    doc.p(GROUND_WORDS[Ground(req.ground)])
    if req.basis.strip():
        doc.quote(req.basis)
    if req.disagreement.strip():
        doc.h(f"The patient's statement of disagreement, received "
              f"{_long(req.disagreement_on)}")  # fmt: skip
        doc.quote(req.disagreement)
    if req.rebuttal.strip():
        doc.h(f"Our rebuttal, {clock.long_date(req.rebuttal_at, req.facility)}")
        doc.quote(req.rebuttal)
    return doc


def amendment_page(req: AmendmentRequest, signer: Sequence[str]) -> LetterDoc:
    """The page appended to an amended entry (R-AMD-4 (1))."""
    how = (f"sent by {req.source_entity}" if req.source_entity
           else f"requested by the patient on {_long(req.received_on)}")  # fmt: skip
    doc = base(req, "Amendment to this entry", signer, to=[])
    doc.p(f"This entry is amended ({how}; request {req.number}). The amendment reads:")
    doc.quote(req.amendment_text)
    return doc
