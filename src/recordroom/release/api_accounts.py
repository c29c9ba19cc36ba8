"""Fees, disclosures and the accounting of disclosures over the JSON API: a
request's quote, invoices, payments, waivers and voids; a patient's disclosure log,
a disclosure outside a request and corrections; the accounting as it stands and the
patient's requests for one, produced as a PDF; the desk's measures.

Thin adapters over release.fees, disclosures, accounting, accounting_requests and
dashboard. Reads of PHI are audited here; writes by the services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.errors import NotFound
from recordroom.mpi.api import open_patient
from recordroom.mpi.models import Patient
from recordroom.mpi.zones import patient_facility

from . import accounting_requests as acc
from . import disclosures as dis
from . import fees
from .accounting import accounting, record_ids, suspend_accounting
from .api_common import RELEASE, actor_of, open_request, pdf_response, request_for_write
from .dashboard import measures
from .models import (
    AccountingRequest,
    AccountingSuspension,
    Disclosure,
    Invoice,
    ReleaseRequest,
)

router = Router(tags=["release"])
R = "/release-requests/{request_id}"
ACCOUNT = {"x-capability": "account_disclosures"}


# --- fees ------------------------------------------------------------------------------------


class FeeLineOut(Schema):
    description: str
    cents: int
    rule: str = ""


class QuoteOut(Schema):
    schedule: str | None
    pages: int
    media: str
    lines: list[FeeLineOut]
    total_cents: int


class PaymentOut(Schema):
    amount_cents: int
    method: str
    reference: str
    received_at: datetime
    received_by: str


class InvoiceOut(Schema):
    id: UUID
    number: str
    status: str
    lines: list[FeeLineOut]
    total_cents: int
    balance_cents: int
    waiver_reason: str
    void_reason: str
    created_at: datetime
    created_by: str
    payments: list[PaymentOut]


class InvoiceIn(Schema):
    pages: int = Field(ge=0)
    media: str | None = Field(None, description="paper, pdf, electronic, portable "
                              "(default: the request's format)")  # fmt: skip


class PaymentIn(Schema):
    amount_cents: int
    method: str = Field(description="cash, check, card, eft, other")
    reference: str = ""


class ReasonIn(Schema):
    reason: str


def invoice_out(inv: Invoice) -> dict[str, Any]:
    fields = {f: getattr(inv, f) for f in InvoiceOut.model_fields
              if f not in ("balance_cents", "payments")}  # fmt: skip
    return {**fields, "balance_cents": fees.balance(inv),
            "payments": list(inv.payments.order_by("received_at"))}  # fmt: skip


def _invoice(req: ReleaseRequest, invoice_id: UUID) -> Invoice:
    inv = req.invoices.filter(pk=invoice_id).first()
    if inv is None:
        raise NotFound(f"request {req.number} has no invoice {invoice_id}")
    return inv


@router.get(R + "/quote", response=QuoteOut, openapi_extra=RELEASE)
def quote(
    request: HttpRequest, request_id: UUID, pages: int = 0, media: str = ""
) -> dict[str, Any]:
    """What the release will cost, line by line, from the fee schedule (R-ACC-6)."""
    req = open_request(actor_of(request), request_id, part="quote")
    lines = fees.quote(req, pages, media or None)
    sched = fees.schedule_for(req)
    return {"schedule": sched.code if sched else None, "pages": pages,
            "media": media or req.format, "lines": lines,
            "total_cents": sum(x.cents for x in lines)}  # fmt: skip


@router.get(R + "/invoices", response=list[InvoiceOut], openapi_extra=RELEASE)
def list_invoices(request: HttpRequest, request_id: UUID) -> list[dict[str, Any]]:
    """The request's invoices, newest first, with payments and balance."""
    req = open_request(actor_of(request), request_id, part="invoices")
    return [invoice_out(i) for i in req.invoices.order_by("-created_at")]


@router.post(R + "/invoices", response={201: InvoiceOut}, openapi_extra=RELEASE)
def create_invoice(
    request: HttpRequest, request_id: UUID, data: InvoiceIn
) -> Status[dict[str, Any]]:
    """Invoice the request from its quote (one open invoice at a time)."""
    req = request_for_write(request, request_id)
    inv = fees.invoice(
        actor=actor_of(request), req=req, pages=data.pages, media=data.media
    )
    return Status(201, invoice_out(inv))


@router.post(
    R + "/invoices/{invoice_id}/payments", response=InvoiceOut, openapi_extra=RELEASE
)
def pay(
    request: HttpRequest, request_id: UUID, invoice_id: UUID, data: PaymentIn
) -> dict[str, Any]:
    """Record a payment; the invoice is paid when nothing is left."""
    inv = _invoice(request_for_write(request, request_id), invoice_id)
    fees.record_payment(actor=actor_of(request), invoice=inv, **data.model_dump())
    inv.refresh_from_db()
    return invoice_out(inv)


@router.post(
    R + "/invoices/{invoice_id}/waive", response=InvoiceOut, openapi_extra=RELEASE
)
def waive(
    request: HttpRequest, request_id: UUID, invoice_id: UUID, data: ReasonIn
) -> dict[str, Any]:
    """Waive what is left of an open invoice, with the reason."""
    inv = _invoice(request_for_write(request, request_id), invoice_id)
    return invoice_out(
        fees.waive(actor=actor_of(request), invoice=inv, reason=data.reason)
    )


@router.post(
    R + "/invoices/{invoice_id}/void", response=InvoiceOut, openapi_extra=RELEASE
)
def void(
    request: HttpRequest, request_id: UUID, invoice_id: UUID, data: ReasonIn
) -> dict[str, Any]:
    """Void an invoice issued in error (none with a payment)."""
    inv = _invoice(request_for_write(request, request_id), invoice_id)
    return invoice_out(
        fees.void(actor=actor_of(request), invoice=inv, reason=data.reason)
    )


# --- disclosures and the accounting ----------------------------------------------------------


class DisclosureOut(Schema):
    id: UUID
    request_id: UUID | None
    disclosed_at: datetime
    recipient_name: str
    recipient_address: str
    description: str
    purpose: str
    legal_basis: str
    requester_type: str
    accountable: bool
    part2: bool
    pages: int
    corrects_id: UUID | None
    correction_note: str
    retracted: bool
    recorded_at: datetime
    recorded_by: str


class DisclosureIn(Schema):
    disclosed_at: datetime
    recipient_name: str
    recipient_address: str = ""
    description: str
    purpose: str
    legal_basis: str = Field(description="a code of release.disclosures.LEGAL_BASES")
    requester_type: str = ""
    part2: bool = False
    pages: int = Field(0, ge=0)


class CorrectionIn(Schema):
    note: str = Field(description="what the correction puts right")
    disclosed_at: datetime | None = None
    recipient_name: str | None = None
    recipient_address: str | None = None
    description: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    requester_type: str | None = None
    part2: bool | None = None
    pages: int | None = None
    retracted: bool | None = Field(None, description="true: recorded in error")


class EntryOut(Schema):
    disclosure_id: str
    disclosed_on: date
    recipient_name: str
    recipient_address: str
    description: str
    purpose: str
    legal_basis: str
    basis: str
    part2: bool
    corrected: bool
    count: int
    last_on: date | None


class AccountingOut(Schema):
    patient_id: UUID
    as_of: date
    entries: list[EntryOut]


class AccountingRequestIn(Schema):
    received_on: date
    requested_by: str
    period_start: date | None = None
    summarise: bool = False


class AccountingRequestOut(Schema):
    id: UUID
    patient_id: UUID
    received_on: date
    due_on: date
    period_start: date
    period_end: date
    fee_cents: int
    fee_agreed_at: datetime | None
    extended_to: date | None
    withdrawn_at: datetime | None
    produced_at: datetime | None
    entries: int
    letter_id: UUID | None


class NoteIn(Schema):
    note: str


class SuspensionIn(Schema):
    agency: str = Field(max_length=200, description="as named on its disclosures")
    written: bool = Field(description="a written statement suspends for the time it "
                          "states; an oral one for at most 30 days (R-AOD-3)")  # fmt: skip
    statement: str = Field(description="that an accounting would impede its "
                           "activities; who made it, when and how")  # fmt: skip
    starts_on: date
    ends_on: date | None = Field(None, description="needed for a written statement")
    every_patient: bool = Field(False, description="every patient's accounting, not "
                                "only this patient's")  # fmt: skip


class SuspensionOut(Schema):
    id: UUID
    patient_id: UUID | None
    agency: str
    written: bool
    statement: str
    starts_on: date
    ends_on: date
    recorded_at: datetime
    recorded_by: str


def _patient(request: HttpRequest, patient_id: UUID, part: str) -> Patient:
    """The patient (a refusal audited); the read of `part` audited."""
    actor = actor_of(request)
    patient = open_patient(actor, patient_id, detail={"part": part})
    record(actor=actor, action=actions.CHART_OPEN.name, patient=patient, obj=patient,
           detail={"part": part})  # fmt: skip
    return patient


def _accounting_request(request: HttpRequest, accounting_id: UUID) -> AccountingRequest:
    req = AccountingRequest.objects.filter(pk=accounting_id).first()
    if req is None:
        raise NotFound(f"no accounting request {accounting_id}")
    open_patient(actor_of(request), req.patient_id)
    return req


@router.get(
    "/patients/{patient_id}/accounting-of-disclosures", response=AccountingOut,
    openapi_extra=ACCOUNT,
)  # fmt: skip
def accounting_today(
    request: HttpRequest, patient_id: UUID, as_of: date | None = None,
    period_start: date | None = None, summarise: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The accounting as of a date (today): accountable disclosures of six years or
    the shorter period (R-AOD-1/2), Part 2 consent disclosures of three (R-P2-8).
    The PDF for the patient: POST .../accounting-requests, then .../produce."""
    patient = _patient(request, patient_id, "accounting of disclosures")
    day = as_of or clock.today(patient_facility(patient, actor_of(request).user))
    entries = accounting(patient=patient, as_of=day, period_start=period_start,
                         summarise=summarise)  # fmt: skip
    rows = [{**e.__dict__, "basis": e.basis} for e in entries]
    return {"patient_id": patient.pk, "as_of": day, "entries": rows}


@router.get(
    "/patients/{patient_id}/disclosures", response=list[DisclosureOut],
    openapi_extra=ACCOUNT,
)  # fmt: skip
def disclosure_log(request: HttpRequest, patient_id: UUID) -> list[Disclosure]:
    """Every disclosure of the patient (and records merged into it), newest first."""
    patient = _patient(request, patient_id, "disclosures")
    ids = record_ids(patient)
    return list(Disclosure.objects.filter(patient_id__in=ids).order_by("-disclosed_at"))


@router.post(
    "/patients/{patient_id}/disclosures", response={201: DisclosureOut},
    openapi_extra=ACCOUNT,
)  # fmt: skip
def enter_disclosure(
    request: HttpRequest, patient_id: UUID, data: DisclosureIn
) -> Status[Disclosure]:
    """Enter a disclosure made outside a request (R-AOD-4)."""
    actor = actor_of(request)
    patient = open_patient(actor, patient_id)
    return Status(201, dis.record_disclosure(actor=actor, patient=patient,
                                             **data.model_dump()))  # fmt: skip


@router.post(
    "/disclosures/{entry_id}/corrections", response={201: DisclosureOut},
    openapi_extra=ACCOUNT,
)  # fmt: skip
def correct_disclosure(
    request: HttpRequest, entry_id: UUID, data: CorrectionIn
) -> Status[Disclosure]:
    """Correct an entry by a new one (only the fields sent change)."""
    actor = actor_of(request)
    entry = Disclosure.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"no disclosure entry {entry_id}")
    open_patient(actor, entry.patient_id)
    changes = data.model_dump(exclude_unset=True, exclude={"note"})
    return Status(201, dis.correct(actor=actor, entry=entry, note=data.note, **changes))


@router.post(
    "/patients/{patient_id}/accounting-requests", response={201: AccountingRequestOut},
    openapi_extra=ACCOUNT,
)  # fmt: skip
def log_accounting(
    request: HttpRequest, patient_id: UUID, data: AccountingRequestIn
) -> Status[AccountingRequest]:
    """Log a request for an accounting: due in 60 days (R-AOD-5), its fee set
    (the first in twelve months free, R-AOD-6)."""
    actor = actor_of(request)
    patient = open_patient(actor, patient_id)
    return Status(201, acc.log_accounting_request(actor=actor, patient=patient,
                                                  **data.model_dump()))  # fmt: skip


@router.post(
    "/patients/{patient_id}/accounting-suspensions", response={201: SuspensionOut},
    openapi_extra=ACCOUNT,
)  # fmt: skip
def suspend(
    request: HttpRequest, patient_id: UUID, data: SuspensionIn
) -> Status[AccountingSuspension]:
    """Record an agency's statement that an accounting would impede its activities
    (R-AOD-3): its disclosures are left out of this patient's accounting (or every
    patient's) while the suspension runs."""
    actor = actor_of(request)
    patient = open_patient(actor, patient_id)
    fields = data.model_dump(exclude={"every_patient"})
    return Status(201, suspend_accounting(
        actor=actor, patient=None if data.every_patient else patient, **fields))  # fmt: skip


@router.post(
    "/accounting-requests/{accounting_id}/fee-agreed", response=AccountingRequestOut,
    openapi_extra=ACCOUNT,
)  # fmt: skip
def fee_agreed(request: HttpRequest, accounting_id: UUID) -> AccountingRequest:
    """The individual was told the fee and chose to go ahead (R-AOD-6)."""
    req = _accounting_request(request, accounting_id)
    return acc.agree_fee(actor=actor_of(request), accounting_request=req)


@router.post(
    "/accounting-requests/{accounting_id}/extension", response=AccountingRequestOut,
    openapi_extra=ACCOUNT,
)  # fmt: skip
def extend_accounting(
    request: HttpRequest, accounting_id: UUID, data: ReasonIn
) -> AccountingRequest:
    """The one 30-day extension, within the 60 days, with the reason (R-AOD-5)."""
    req = _accounting_request(request, accounting_id)
    return acc.extend_accounting(actor=actor_of(request), accounting_request=req,
                                 reason=data.reason)  # fmt: skip


@router.post(
    "/accounting-requests/{accounting_id}/withdrawal", response=AccountingRequestOut,
    openapi_extra=ACCOUNT,
)  # fmt: skip
def withdraw(
    request: HttpRequest, accounting_id: UUID, data: NoteIn
) -> AccountingRequest:
    """The individual withdrew the request."""
    req = _accounting_request(request, accounting_id)
    return acc.withdraw_accounting(actor=actor_of(request), accounting_request=req,
                                   note=data.note)  # fmt: skip


@router.post(
    "/accounting-requests/{accounting_id}/produce", response=AccountingRequestOut,
    openapi_extra=ACCOUNT,
)  # fmt: skip
def produce(request: HttpRequest, accounting_id: UUID) -> AccountingRequest:
    """Produce the accounting as a PDF letter, kept (release.accounting)."""
    req = _accounting_request(request, accounting_id)
    acc.produce_accounting(actor=actor_of(request), accounting_request=req)
    return req


@router.get("/accounting-requests/{accounting_id}/pdf", openapi_extra=ACCOUNT)
def accounting_pdf(request: HttpRequest, accounting_id: UUID) -> HttpResponse:
    """The produced accounting's PDF (a read of the patient's record, audited)."""
    req = _accounting_request(request, accounting_id)
    if req.letter is None:
        raise NotFound(f"accounting request {accounting_id} has not been produced")
    data = acc.accounting_letter_bytes(req.letter)
    record(actor=actor_of(request), action=actions.CHART_OPEN.name,
           patient=req.patient_id, obj=req.letter,
           detail={"part": "accounting of disclosures", "accounting_request": str(req.pk)})  # fmt: skip
    name = f"accounting-of-disclosures-{req.letter.created_at:%Y%m%d}.pdf"
    return pdf_response(data, name, attachment=True)


# --- the desk's measures ---------------------------------------------------------------------


class MeasuresOut(Schema):
    today: date
    open_total: int
    overdue: int
    open_by_status: dict[str, dict[str, int]]
    released: int
    median_days: float | None
    p90_days: float | None
    releases_by_requester_type: dict[str, int]
    revenue_month_cents: int
    revenue_12_months_cents: int


@router.get("/release-dashboard", response=MeasuresOut, openapi_extra=RELEASE)
def dashboard(request: HttpRequest, today: date | None = None) -> Any:
    """The desk's measures at your facilities: open by status and age, overdue,
    turnaround (median, 90th percentile), releases by requester type, revenue.
    Counts only: no patient is named."""
    return measures(actor_of(request).user, today=today)
