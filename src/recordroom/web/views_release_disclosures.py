"""A patient's disclosures: the accounting as it stands, the disclosure log (with
corrections), a disclosure made outside a request, and the patient's requests for
an accounting (logged, fee agreed, extended, withdrawn, produced as a PDF).

Thin adapters over release.accounting, accounting_requests and disclosures; the
page is a read of the patient's record, audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient
from recordroom.mpi.zones import patient_facility
from recordroom.release import accounting_requests as acc
from recordroom.release import disclosures as dis
from recordroom.release.accounting import (
    ORAL_SUSPENSION_DAYS,
    accounting,
    record_ids,
    suspend_accounting,
)
from recordroom.release.api_common import pdf_response
from recordroom.release.models import (
    AccountingRequest,
    AccountingSuspension,
    Disclosure,
    RequesterType,
)
from recordroom.web.request import actor_from_request

from .views_common import denial_audited, requires
from .views_release import whole

Errors = dict[str, str]


def _patient(request: HttpRequest, patient_id: Any) -> Patient:
    with denial_audited(request, action=actions.CHART_OPEN.name, patient=patient_id):
        return get_patient(user=request.user, patient_id=patient_id)


def _date(value: str, field: str, *, default: date | None = None) -> date:
    text = str(value or "").strip()
    if not text and default is not None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"give the date as YYYY-MM-DD, not {text[:20]!r}",
                               field=field) from None  # fmt: skip


def _page(
    request: HttpRequest,
    patient: Patient,
    *,
    errors: dict[str, Errors] | None = None,
    posted: dict[str, Any] | None = None,
    target: Any = "",
) -> HttpResponse:
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=patient, obj=patient, detail={"part": "disclosures"})  # fmt: skip
    zone = patient_facility(patient, request.user)
    today = clock.today(zone)
    ids = record_ids(patient)
    log = list(Disclosure.objects.filter(patient_id__in=ids).order_by("-disclosed_at"))
    corrected = {d.corrects_id for d in log if d.corrects_id}
    context = {
        "patient": patient,
        "legal_name": patient.legal_name(),
        "mrns": [i for i in patient.identifiers.all() if i.kind == "MR"],
        "zone": clock.zone_of(zone),
        "entries": accounting(patient=patient, as_of=today, zone=zone),
        "log": [(d, d.pk in corrected) for d in log],
        "requests": list(
            AccountingRequest.objects.filter(patient_id__in=ids).order_by(
                "-received_on", "-recorded_at"
            )
        ),  # fmt: skip
        "suspensions": [
            (row, row.starts_on <= today <= row.ends_on)
            for row in AccountingSuspension.objects.filter(
                Q(patient_id__in=ids) | Q(patient__isnull=True, ends_on__gte=today)
            ).order_by("-starts_on", "-recorded_at")
        ],
        "oral_days": ORAL_SUSPENSION_DAYS,
        "bases": dis.LEGAL_BASES.values(),
        "requester_types": RequesterType.choices,
        "today": today,
        "errors": errors or {},
        "posted": posted or {},
        "target": str(target),
    }
    return render(request, "web/release_disclosures.html", context,
                  status=422 if errors else 200)  # fmt: skip


@requires("account_disclosures")
def disclosures(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    return _page(request, _patient(request, patient_id))


def _act(
    request: HttpRequest, patient: Patient, action: str, run: Any, target: Any = ""
) -> HttpResponse:
    """POST: run one service; back to the page with the outcome, or the page again
    with the refusal at its field. GET: the page."""
    if request.method != "POST":
        return redirect("web:release_disclosures", patient_id=patient.pk)
    try:
        done = run(actor_from_request(request), request.POST)
    except ValidationFailed as exc:
        return _page(request, patient, errors={action: {exc.field or "": exc.message}},
                     posted={action: request.POST}, target=target)  # fmt: skip
    messages.success(request, done)
    return redirect("web:release_disclosures", patient_id=patient.pk)


def _when(value: str, zone: Any) -> datetime:
    """A date given for a disclosure: now if it is today at the facility, else
    that day's local noon."""
    day = _date(value, "disclosed_at", default=clock.today(zone))
    return clock.at_local(day, zone)


@requires("account_disclosures")
def disclosure_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Enter a disclosure made outside a request (a public health report ...)."""
    patient = _patient(request, patient_id)

    def run(actor: Any, post: Any) -> str:
        entry = dis.record_disclosure(
            actor=actor, patient=patient, disclosed_at=_when(post.get("disclosed_at", ""), patient_facility(patient)),
            recipient_name=post.get("recipient_name", ""),
            recipient_address=post.get("recipient_address", ""),
            description=post.get("description", ""), purpose=post.get("purpose", ""),
            legal_basis=post.get("legal_basis", ""),
            requester_type=post.get("requester_type", ""),
            pages=whole(post.get("pages") or "0", "pages"),
        )  # fmt: skip
        listed = "listed in" if entry.accountable else "not listed in"
        return (
            f"Disclosure to {entry.recipient_name} entered ({listed} the accounting)."
        )

    return _act(request, patient, "new", run)


@requires("account_disclosures")
def suspension_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Record an agency's statement suspending the accounting of disclosures made
    to it (R-AOD-3): this patient's, or every patient's."""
    patient = _patient(request, patient_id)

    def run(actor: Any, post: Any) -> str:
        kind = post.get("kind", "")
        if kind not in ("written", "oral"):
            raise ValidationFailed("say whether the statement was written or oral",
                                   field="kind")  # fmt: skip
        end = post.get("ends_on", "").strip()
        row = suspend_accounting(
            actor=actor, agency=post.get("agency", ""), written=kind == "written",
            statement=post.get("statement", ""),
            starts_on=_date(post.get("starts_on", ""), "starts_on",
                            default=clock.today(patient_facility(patient))),
            ends_on=_date(end, "ends_on") if end else None,
            patient=None if post.get("every_patient") == "on" else patient,
        )  # fmt: skip
        whose = "this patient's" if row.patient_id else "every patient's"
        return (f"Disclosures to {row.agency} are left out of {whose} accounting "
                f"from {row.starts_on:%Y-%m-%d} to {row.ends_on:%Y-%m-%d}.")  # fmt: skip

    return _act(request, patient, "suspend", run)


# What a correction may change from the page (release.disclosures.correct).
_CORRECTABLE = ("recipient_name", "recipient_address", "description", "purpose",
                "legal_basis")  # fmt: skip


@requires("account_disclosures")
def disclosure_correct(request: HttpRequest, entry_id: UUID) -> HttpResponse:
    """Correct an entry by a new one (only the fields changed), or retract it."""
    entry = Disclosure.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"no disclosure entry {entry_id}")
    patient = _patient(request, entry.patient_id)

    def run(actor: Any, post: Any) -> str:
        changes: dict[str, Any] = {
            f: post[f].strip() for f in _CORRECTABLE
            if f in post and post[f].strip() != str(getattr(entry, f))
        }  # fmt: skip
        if post.get("disclosed_at") and post["disclosed_at"] != clock.short_date(
            entry.disclosed_at, patient_facility(patient)
        ):
            changes["disclosed_at"] = _when(
                post["disclosed_at"], patient_facility(patient)
            )
        if post.get("retracted") == "on":
            changes["retracted"] = True
        new = dis.correct(
            actor=actor, entry=entry, note=post.get("note", ""), **changes
        )
        return ("Entry retracted." if new.retracted else
                f"Entry corrected ({', '.join(sorted(changes))}).")  # fmt: skip

    return _act(request, patient, "correct", run, target=entry_id)


@requires("account_disclosures")
def accounting_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Log the patient's request for an accounting (due in 60 days, R-AOD-5)."""
    patient = _patient(request, patient_id)

    def run(actor: Any, post: Any) -> str:
        start = post.get("period_start", "").strip()
        req = acc.log_accounting_request(
            actor=actor, patient=patient,
            received_on=_date(post.get("received_on", ""), "received_on",
                              default=clock.today(patient_facility(patient))),
            requested_by=post.get("requested_by", ""),
            period_start=_date(start, "period_start") if start else None,
            summarise=post.get("summarise") == "on",
        )  # fmt: skip
        fee = (
            f"; fee ${req.fee_cents / 100:.2f}: tell the patient"
            if req.fee_cents
            else ""
        )
        return f"Accounting request logged, due {req.due_on:%Y-%m-%d}{fee}."

    return _act(request, patient, "request", run)


@requires("account_disclosures")
def accounting_step(request: HttpRequest, accounting_id: UUID) -> HttpResponse:
    """step=agree (fee told and agreed), extend (reason), withdraw (note) or
    produce (the PDF)."""
    req = AccountingRequest.objects.filter(pk=accounting_id).first()
    if req is None:
        raise NotFound(f"no accounting request {accounting_id}")
    patient = _patient(request, req.patient_id)

    def run(actor: Any, post: Any) -> str:
        step = post.get("step", "")
        if step == "agree":
            acc.agree_fee(actor=actor, accounting_request=req)
            return "The patient's agreement to the fee is recorded."
        if step == "extend":
            acc.extend_accounting(actor=actor, accounting_request=req,
                                  reason=post.get("reason", ""))  # fmt: skip
            return f"Extended to {req.extended_to:%Y-%m-%d}."
        if step == "withdraw":
            acc.withdraw_accounting(actor=actor, accounting_request=req,
                                    note=post.get("note", ""))  # fmt: skip
            return "The request is withdrawn."
        if step == "produce":
            acc.produce_accounting(actor=actor, accounting_request=req)
            return f"Accounting produced: {req.entries} entr{'y' if req.entries == 1 else 'ies'}."
        raise ValidationFailed(f"unknown step {step[:20]!r}", field="step")

    return _act(request, patient, "step", run, target=accounting_id)


@requires("account_disclosures")
def accounting_letter(request: HttpRequest, accounting_id: UUID) -> HttpResponse:
    """The produced accounting's PDF (a read of the patient's record, audited)."""
    req = (
        AccountingRequest.objects.select_related("letter")
        .filter(pk=accounting_id)
        .first()
    )
    if req is None or req.letter is None:
        raise NotFound(f"no produced accounting {accounting_id}")
    patient = _patient(request, req.patient_id)
    data = acc.accounting_letter_bytes(req.letter)
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=patient, obj=req.letter,
           detail={"part": "accounting of disclosures", "accounting_request": str(req.pk)})  # fmt: skip
    name = f"accounting-of-disclosures-{req.letter.created_at:%Y%m%d}.pdf"
    return pdf_response(data, name, attachment=False)
