"""A patient's request for an accounting of disclosures: logged with its 60-day due
date and one 30-day extension (R-AOD-5), its fee (the first in twelve months free,
R-AOD-6), and produced as a PDF letter kept encrypted in the blob store (R-AOD-7)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.mpi.models import Patient, PatientIdentifier
from recordroom.mpi.services import in_scope
from recordroom.mpi.zones import patient_facility

from . import accounting_pdf
from .accounting import accounting, period, record_ids, years_before
from .models import AccountingRequest, FeeSchedule, Letter, LetterKind

DUE_DAYS = 60  # R-AOD-5
EXTENSION_DAYS = 30
FEE_SCHEDULE = "accounting"  # FeeSchedule code; its flat fee (R-AOD-6)


def accounting_fee(patient: Patient, received_on: date) -> int:
    """Cents due for an accounting asked for on `received_on`: nothing for the
    first in the twelve months up to it, the configured fee for a later one."""
    earlier = AccountingRequest.objects.filter(
        patient_id__in=record_ids(patient),
        withdrawn_at__isnull=True,
        received_on__gt=years_before(received_on, 1),
        received_on__lte=received_on,
    ).exists()
    if not earlier:
        return 0
    fee = (
        FeeSchedule.objects.filter(code=FEE_SCHEDULE, active=True)
        .values_list("electronic_flat_cents", flat=True)
        .first()
    )
    return fee or 0


def log_accounting_request(
    *,
    actor: Actor,
    patient: Patient,
    received_on: date,
    requested_by: str,
    period_start: date | None = None,
    summarise: bool = False,
) -> AccountingRequest:
    """Log a request for an accounting: due in 60 days; the period is the six years
    before it or the shorter one asked for; the fee set (R-AOD-6), to be told to
    the individual before it is produced.

    Raises:
        PermissionDenied: the patient is outside the actor's facilities.
        ValidationFailed: a merged record, a future date, no requester, or a
            period the rule does not allow."""
    if patient.merged_into_id:
        raise ValidationFailed(
            f"patient {patient.pk} was merged into "
            f"{patient.merged_into_id}; log it on that record",
            field="patient",
        )
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    today = clock.today(patient_facility(patient, actor.user))
    if received_on > today:
        raise ValidationFailed(
            f"received date {received_on} is in the future (today is {today})",
            field="received_on",
        )
    if not requested_by.strip():
        raise ValidationFailed(
            "name who asked (the patient or their personal representative)",
            field="requested_by",
        )
    start, end = period(received_on, period_start)
    with transaction.atomic():
        req = AccountingRequest.objects.create(
            patient=patient,
            received_on=received_on,
            due_on=clock.add_days(received_on, DUE_DAYS),
            period_start=start,
            period_end=end,
            fee_cents=accounting_fee(patient, received_on),
            requested_by=requested_by.strip()[:200],
            summarise=summarise,
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )
        _audit(
            actor,
            req,
            event="logged",
            due_on=str(req.due_on),
            period=[str(start), str(end)],
            fee_cents=req.fee_cents,
        )
    return req


def extend_accounting(
    *, actor: Actor, accounting_request: AccountingRequest, reason: str
) -> AccountingRequest:
    """The one extension of at most 30 days, given within the 60 with the reason
    and the new date (R-AOD-5).

    Raises:
        ValidationFailed: one already taken, the 60 days have passed, no reason."""
    req = accounting_request
    _open(req)
    if req.extended_to:
        raise ValidationFailed(
            f"the one extension was already taken (to {req.extended_to})",
            field="extension_reason",
        )
    if clock.today(patient_facility(req.patient)) > req.due_on:
        raise ValidationFailed(
            f"the 60 days ended on {req.due_on}: an extension must "
            "be given within them (R-AOD-5)",
            field="extension_reason",
        )
    if not reason.strip():
        raise ValidationFailed(
            "the extension must state the reason for the delay",
            field="extension_reason",
        )
    with transaction.atomic():
        req.extended_to = clock.add_days(req.due_on, EXTENSION_DAYS)
        req.extension_reason = reason.strip()[:500]
        req.save(update_fields=["extended_to", "extension_reason"])
        _audit(
            actor,
            req,
            event="extended",
            extended_to=str(req.extended_to),
            reason=req.extension_reason,
        )
    return req


def agree_fee(
    *, actor: Actor, accounting_request: AccountingRequest
) -> AccountingRequest:
    """Record that the individual was told the fee and chose to go ahead (R-AOD-6)."""
    req = accounting_request
    _open(req)
    with transaction.atomic():
        req.fee_agreed_at = timezone.now()
        req.save(update_fields=["fee_agreed_at"])
        _audit(actor, req, event="fee agreed", fee_cents=req.fee_cents)
    return req


def withdraw_accounting(
    *, actor: Actor, accounting_request: AccountingRequest, note: str
) -> AccountingRequest:
    """The individual withdrew the request (R-AOD-6: told of a fee, they may)."""
    req = accounting_request
    _open(req)
    if not note.strip():
        raise ValidationFailed("say why the request was withdrawn", field="note")
    with transaction.atomic():
        req.withdrawn_at = timezone.now()
        req.save(update_fields=["withdrawn_at"])
        _audit(actor, req, event="withdrawn", note=note.strip()[:300])
    return req


def produce_accounting(
    *, actor: Actor, accounting_request: AccountingRequest
) -> Letter:
    """Produce the accounting as a PDF letter, kept encrypted in the blob store,
    and audit it (release.accounting). Suspensions in force today apply.

    Raises:
        PermissionDenied: the patient is outside the actor's facilities.
        ValidationFailed: withdrawn, already produced, or a fee not yet agreed."""
    req = accounting_request
    _open(req)
    patient = req.patient
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    if req.fee_cents and not req.fee_agreed_at:
        raise ValidationFailed(
            f"tell the individual the fee (${req.fee_cents / 100:.2f}: not the first "
            "accounting in twelve months) and record their agreement first, or let "
            "them withdraw or change the request (R-AOD-6)",
            field="fee_agreed_at",
        )
    zone = patient_facility(patient, actor.user)
    today = clock.today(zone)
    entries = accounting(
        zone=zone,
        patient=patient,
        as_of=req.period_end,
        period_start=req.period_start,
        summarise=req.summarise,
        on=today,
    )
    name = patient.legal_name()
    head = accounting_pdf.AccountingLetter(
        patient_name=f"{name.given} {name.family}".strip() if name else str(patient.pk),
        birth_date=patient.birth_date,
        period_start=req.period_start,
        period_end=req.period_end,
        produced_on=today,
        facility=_facility_name(actor, patient),
        summarised=req.summarise,
        part2_note=any(e.part2 for e in entries),
    )
    pdf = accounting_pdf.render(head, entries)
    stored = default_store().put(pdf)
    with transaction.atomic():
        letter = Letter.objects.create(
            request=None,
            patient=patient,
            kind=LetterKind.ACCOUNTING,
            sha256=stored.sha256,
            size=stored.size,
            created_at=timezone.now(),
            created_by=actor.username,
            detail={
                "accounting_request": str(req.pk),
                "entries": len(entries),
                "period": [str(req.period_start), str(req.period_end)],
            },
        )
        req.produced_at, req.produced_by = letter.created_at, actor.username
        req.entries, req.letter = len(entries), letter
        req.save(update_fields=["produced_at", "produced_by", "entries", "letter"])
        record(
            actor=actor,
            action=actions.RELEASE_ACCOUNTING.name,
            patient=patient,
            obj=req,
            detail={
                "entries": len(entries),
                "letter": str(letter.pk),
                "sha256": letter.sha256,
                "fee_cents": req.fee_cents,
            },
        )
    return letter


def accounting_letter_bytes(letter: Letter) -> bytes:
    """The produced letter's PDF, integrity-checked by the blob store."""
    return default_store().get(letter.sha256)


def _open(req: AccountingRequest) -> None:
    if req.withdrawn_at:
        raise ValidationFailed(
            "the request was withdrawn on "
            f"{clock.short_date(req.withdrawn_at, patient_facility(req.patient))}",
            field="withdrawn_at",
        )
    if req.produced_at:
        raise ValidationFailed(
            "the accounting was produced on "
            f"{clock.short_date(req.produced_at, patient_facility(req.patient))} (letter "
            f"{req.letter_id}); log a new request for a new one",
            field="produced_at",
        )


def _facility_name(actor: Actor, patient: Patient) -> str:
    scope = actor.user.facility_ids() if actor.user is not None else None
    qs = PatientIdentifier.objects.filter(patient_id=patient.pk, facility__isnull=False)
    if scope is not None:
        qs = qs.filter(facility_id__in=scope)
    name = (
        qs.order_by("facility__code").values_list("facility__name", flat=True).first()
    )
    return name or "Health Information Management"


def _audit(actor: Actor, req: AccountingRequest, **detail: object) -> None:
    record(
        actor=actor,
        action=actions.RELEASE_ACCOUNTING_REQUEST.name,
        patient=req.patient,
        obj=req,
        detail=detail,
    )
