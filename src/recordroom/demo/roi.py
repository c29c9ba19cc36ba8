"""The release-of-information desk as a demo finds it: a dozen requests of every kind
at different ages (one overdue, one pended on a defective authorization, one
extended), and a few public-health disclosures in the accounting. Deterministic:
the same patients (the first with documents) and dates relative to `as_of`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import IdentifierKind, Patient
from recordroom.release import authorizations, letters
from recordroom.release import requests as rq
from recordroom.release.disclosures import record_disclosure

ALL_HIPAA = ("description", "discloser", "recipient", "purpose", "expiration",
             "signature", "revocation_statement", "conditioning_statement",
             "redisclosure_statement")  # fmt: skip

# (days before as_of, requester type, requester, what happens next)
PLAN: tuple[tuple[int, str, str, str], ...] = (
    (2, "patient", "", "received"),
    (26, "patient", "", "in-progress"),
    (38, "patient", "", "received"),  # overdue: the first period ended
    (10, "attorney", "Harbor & Vale LLP", "defective"),
    (5, "payer", "Lakeshore Health Plan", "authorized"),
    (12, "subpoena", "Crane County Circuit Court clerk", "received"),
    (1, "provider", "Riverside Cardiology", "received"),
    (20, "representative", "", "extended"),
    (8, "court-order", "Crane County Circuit Court", "received"),
    (15, "authorized", "Northwind Life Insurance", "authorized"),
)


def seed_release_desk(*, actor: Actor, as_of: date) -> int:
    """Log the demo requests; returns how many. Runs once, on a fresh demo load."""
    patients = list(
        Patient.objects.filter(merged_into=None, documents__isnull=False)
        .distinct().order_by("created_at", "id")[: len(PLAN) + 3]
    )  # fmt: skip
    made = 0
    for (days, kind, who, then), patient in zip(PLAN, patients, strict=False):
        mrn = patient.identifiers.filter(kind=IdentifierKind.MRN).first()
        if mrn is None or mrn.facility is None:
            continue
        req = rq.log_request(actor=actor, data=_request(patient, mrn.facility.code,
                                                        as_of - timedelta(days=days),
                                                        kind, who))  # fmt: skip
        _then(actor, req, then, as_of)
        made += 1
    for patient in patients[len(PLAN) :]:
        when = timezone.make_aware(
            datetime.combine(as_of - timedelta(days=40), time(10))
        )
        record_disclosure(
            actor=actor, patient=patient, disclosed_at=when,
            recipient_name="State Department of Health",
            recipient_address="Communicable Disease Reporting, 1 Capitol Sq",
            description="Laboratory result and demographics (reportable condition)",
            purpose="Mandatory communicable disease report",
            legal_basis="public-health",
        )  # fmt: skip
    return made


def _request(patient: Patient, facility: str, received: date, kind: str,
             who: str) -> rq.RequestIn:  # fmt: skip
    legal = patient.legal_name()
    own = f"{legal.given} {legal.family}" if legal else "the patient"
    data: dict[str, Any] = dict(
        patient_id=patient.pk, facility_code=facility, requester_type=kind,
        requester_name=who or own, received_on=received, channel="mail", format="pdf",
        delivery="download", requester_email="requests@example.org",
        requester_address="100 Example Way, Springfield, IL 62701",
    )  # fmt: skip
    if kind in ("patient", "representative"):
        data.update(identity_verified=True, entire_record=True,
                    verification_method="driver's licence checked at the desk")  # fmt: skip
    else:
        data.update(date_from=received - timedelta(days=730), date_to=received,
                    purpose="evaluation of a claim" if kind != "provider"
                    else "continuing care")  # fmt: skip
    if kind == "representative":
        data.update(requester_name=f"Guardian of {own}",
                    representative_authority="court-appointed guardian (letters on file)")  # fmt: skip
    if kind == "court-order":
        data.update(
            legal_basis="court-order", legal_detail={"order_signed_by_judge": True}
        )
    return rq.RequestIn(**data)


def _then(actor: Actor, req: Any, then: str, as_of: date) -> None:
    if then == "in-progress":
        rq.set_status(actor=actor, req=req, status="in-progress")
    elif then == "extended" and clock.today(req.facility) <= req.due_on:
        rq.extend(actor=actor, req=req, reason="older records are in off-site storage")
    elif then in ("defective", "authorized"):
        elements = {code: True for code in ALL_HIPAA}
        if then == "defective":  # the classic defect: no expiration date or event
            elements["expiration"] = False
        authorizations.record_authorization(
            actor=actor, patient=req.patient, request=req, kind="hipaa",
            elements=elements, recipient=req.requester_name, purpose=req.purpose,
            description="records of the last two years", signed_on=req.received_on,
            signed_by="the patient",
            expires_on=None if then == "defective" else as_of + timedelta(days=180),
        )  # fmt: skip
        if then == "defective":
            letters.pend_with_defects(actor=actor, req=req, on=as_of)
        else:
            rq.set_status(actor=actor, req=req, status="in-progress")
