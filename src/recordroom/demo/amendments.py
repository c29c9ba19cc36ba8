"""The amendments desk as a demo finds it: a request at every stage (just received,
with the author, reviewed, extended, overdue, accepted, denied and disputed with a
rebuttal, denied with the patient's wish to have it sent with disclosures, partly
accepted, and one sent by another covered entity). Deterministic: the same patients
(those with documents, after the ones the release desk's demo uses) and dates
relative to `as_of`. A denial needs the complaints phone (RECORDROOM_ROI_CONTACT_PHONE):
without it the denied stages stop at the author's review."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from recordroom.amendments import decisions, services
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import IdentifierKind, Patient
from recordroom.records.models import Document, Provider

from .roi import PLAN as ROI_PLAN

# (days before as_of, stage)
STAGES: tuple[tuple[int, str], ...] = (
    (2, "received"), (10, "author-review"), (20, "reviewed"), (50, "extended"),
    (65, "overdue"), (30, "accepted"), (40, "disputed"), (35, "include"),
    (45, "partial"), (12, "external"),
)  # fmt: skip
SKIP = len(ROI_PLAN) + 3  # the release desk's demo patients


def seed_amendments(*, actor: Actor, as_of: date) -> int:
    """Log the demo requests and take each to its stage; returns how many."""
    patients = list(Patient.objects.filter(merged_into=None, documents__isnull=False)
                    .distinct().order_by("created_at", "id")[SKIP : SKIP + len(STAGES)])  # fmt: skip
    fallback = Provider.objects.filter(active=True).order_by("family", "given").first()
    made = 0
    for (days, stage), patient in zip(STAGES, patients, strict=False):
        mrn = patient.identifiers.filter(kind=IdentifierKind.MRN).first()
        docs = list(
            Document.objects.filter(patient=patient).order_by("service_start")[:2]
        )
        if mrn is None or mrn.facility is None or not docs:
            continue
        received = as_of - timedelta(days=days)
        if stage == "external":
            decisions.apply_external_amendment(
                actor=actor, patient=patient, facility=mrn.facility,
                source_entity="Lakeview Community Hospital", received_on=received,
                document_ids=[docs[0].pk], amendment_text="The allergy to penicillin "
                "was recorded in error; the patient has no known drug allergies.")  # fmt: skip
            made += 1
            continue
        partial = stage == "partial" and len(docs) == 2
        legal = patient.legal_name()
        req = services.log_request(
            actor=actor, patient=patient, facility=mrn.facility, received_on=received,
            received_how="mail" if days % 2 else "portal",
            requested_by=f"{legal.given} {legal.family}" if legal else "the patient",
            address="100 Example Way\nSpringfield, IL 62701",
            change="The note says I smoke a pack a day. I have never smoked.",
            reason="Another patient's history was copied into my note.",
            document_ids=[d.pk for d in (docs if partial else docs[:1])],
            notify=[{"name": "Dr. Maya Lindqvist", "address": "Riverside Family "
                     "Practice, 22 River Rd, Springfield, IL 62702"}])  # fmt: skip
        _stage(actor, req, stage, docs if partial else docs[:1], fallback, as_of)
        made += 1
    return made


def _stage(actor: Actor, req, stage: str, docs: list[Document],  # type: ignore[no-untyped-def]
           fallback: Provider | None, as_of: date) -> None:  # fmt: skip
    if stage in ("received", "overdue"):
        return
    if stage == "extended":
        services.extend(actor=actor, req=req, on=as_of,
                        reason="the author of the note is on leave this month.")  # fmt: skip
        return
    author = None if docs[0].author_id else fallback
    services.route_to_author(actor=actor, req=req, author=author)
    if stage == "author-review":
        return
    agrees = stage in ("accepted", "partial")
    services.author_review(actor=actor, req=req, agrees=agrees,
                           comment="The history was mine to correct." if agrees
                           else "The smoking history was taken from the patient.")  # fmt: skip
    if stage == "reviewed":
        return
    text = "Correction: the patient has never smoked."
    ids = [d.pk for d in docs]
    if stage == "accepted":
        decisions.decide(actor=actor, req=req, accept=ids, amendment_text=text)
        return
    if not settings.ROI_CONTACT_PHONE.strip():
        return  # a denial letter must give the complaints phone
    if stage == "partial":
        decisions.decide(actor=actor, req=req, accept=ids[:1], deny=ids[1:],
                         amendment_text=text, ground="accurate",
                         basis="The other entry records the history as you gave it.")  # fmt: skip
        return
    decisions.decide(actor=actor, req=req, deny=ids, ground="accurate",
                     basis="Your doctor recorded the history you gave at the visit.")  # fmt: skip
    if stage == "disputed":
        decisions.file_disagreement(actor=actor, req=req, received_on=as_of,
                                    text="I have never smoked. The note is wrong.")  # fmt: skip
        decisions.write_rebuttal(actor=actor, req=req, text="The history was taken "
                                 "from the patient at the visit and is kept as given.")  # fmt: skip
    else:
        decisions.ask_to_include(actor=actor, req=req)
