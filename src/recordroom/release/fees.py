"""Fees for a release: quotes from the fee schedules (R-ACC-6 for the patient's own
access; state page tiers and search/retrieval fees for third parties), invoices
numbered INV-YYYY-NNNNNN, payments, waivers, voids, and whether a release may go
before payment (RECORDROOM_ROI_WAIT_FOR_PAYMENT)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from .models import (
    Delivery,
    FeeSchedule,
    Invoice,
    InvoiceStatus,
    Payment,
    ReleaseRequest,
    RequesterType,
)

# The individual's own access, held to R-ACC-6. A third party the patient directs
# to receive a copy is not (Ciox v. Azar, R-ACC-5): it takes its own schedule.
LIMITED = (RequesterType.PATIENT, RequesterType.REPRESENTATIVE)
FLAT_MAX_CENTS = 650  # R-ACC-6: all-inclusive flat fee for electronic copies
MEDIA = ("paper", "pdf", "electronic", "portable")  # portable: CD or USB drive
PAYMENT_METHODS = ("cash", "check", "card", "eft", "other")


@dataclass(frozen=True)
class FeeLine:
    description: str
    cents: int
    rule: str = ""


def schedule_for(req: ReleaseRequest) -> FeeSchedule | None:
    """The active schedule naming the request's requester type, the one for its
    state before a national one."""
    rows = [
        s
        for s in FeeSchedule.objects.filter(active=True)
        if req.requester_type in (s.requester_types or [])
    ]
    rows.sort(key=lambda s: (s.state != req.state, s.state != "", s.code))
    return rows[0] if rows else None


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _page_lines(tiers: list[dict[str, Any]], pages: int) -> list[FeeLine]:
    lines, done = [], 0
    for tier in tiers:
        top = tier.get("up_to")
        upto = pages if top is None else min(pages, int(top))
        n = upto - done
        if n > 0:
            cents = int(tier["cents"])
            lines.append(
                FeeLine(f"Pages {done + 1}-{upto} at {_money(cents)} a page", n * cents)
            )
            done = upto
    return lines


def quote(req: ReleaseRequest, pages: int, media: str | None = None) -> list[FeeLine]:
    """What the release will cost, line by line, before anything is invoiced (the
    individual is told the approximate fee in advance, R-ACC-6).

    For the patient's own access: the flat fee (at most $6.50, all-inclusive) for
    an electronic copy, else labor and supplies per paper page, portable media and
    postage; never a search or retrieval fee, never a per-page fee for an
    electronic copy, whatever the schedule says.

    Raises:
        ValidationFailed: unknown media or a negative page count."""
    media = media or req.format
    if media not in MEDIA:
        raise ValidationFailed(
            f"unknown media {media!r}; use one of {', '.join(MEDIA)}", field="media"
        )
    if not isinstance(pages, int) or pages < 0:
        raise ValidationFailed(
            f"pages must be a whole number, not {pages!r}", field="pages"
        )
    sched = schedule_for(req)
    if sched is None:
        return []
    limited = req.requester_type in LIMITED
    electronic = media != "paper"
    lines: list[FeeLine] = []
    flat = sched.electronic_flat_cents
    if electronic and flat is not None:
        if limited and flat > FLAT_MAX_CENTS:
            flat = FLAT_MAX_CENTS
        lines.append(
            FeeLine(
                "Electronic copy, flat fee" + (" (all-inclusive)" if limited else ""),
                flat,
                sched.rule,
            )
        )
        if limited:
            return _capped(sched, lines)
    elif not (electronic and limited):  # no per-page fee on an electronic copy
        lines += _page_lines(sched.page_tiers or [], pages)
    if media == "portable" and sched.media_cents:
        lines.append(FeeLine("Portable media (CD or USB drive)", sched.media_cents))
    if not limited:  # R-ACC-6: never search or retrieval for the patient's access
        if sched.search_fee_cents:
            lines.append(FeeLine("Search fee", sched.search_fee_cents, sched.rule))
        if sched.retrieval_fee_cents:
            lines.append(
                FeeLine("Retrieval fee", sched.retrieval_fee_cents, sched.rule)
            )
    if req.delivery == Delivery.MAIL and media in ("paper", "portable"):
        if sched.postage_cents:
            lines.append(FeeLine("Postage", sched.postage_cents))
    return _capped(sched, lines)


def _capped(sched: FeeSchedule, lines: list[FeeLine]) -> list[FeeLine]:
    total = sum(line.cents for line in lines)
    if sched.max_cents is not None and total > sched.max_cents:
        lines.append(
            FeeLine(
                f"Capped at the schedule's maximum of {_money(sched.max_cents)}",
                sched.max_cents - total,
                sched.rule,
            )
        )
    return lines


def _next_number(year: int) -> str:
    prefix = f"INV-{year}-"
    last = (
        Invoice.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    n = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{n:06d}"


def invoice(
    *, actor: Actor, req: ReleaseRequest, pages: int, media: str | None = None
) -> Invoice:
    """Invoice a request from its quote (audited release.invoice).

    Raises:
        ValidationFailed: the request already has an open invoice (void it first),
            or the quote's input is wrong."""
    open_one = req.invoices.filter(status=InvoiceStatus.OPEN).first()
    if open_one:
        raise ValidationFailed(
            f"request {req.number} already has open invoice "
            f"{open_one.number}; void it first",
            field="request",
        )
    lines = quote(req, pages, media)
    sched = schedule_for(req)
    now = timezone.now()
    for _ in range(5):  # two desks invoicing at once: take the next number
        try:
            with transaction.atomic():
                total = sum(line.cents for line in lines)
                inv = Invoice.objects.create(
                    request=req,
                    number=_next_number(now.year),
                    schedule=sched,
                    lines=[asdict(line) for line in lines],
                    total_cents=total,
                    # nothing to pay: closed at once, so no release waits on it
                    status=InvoiceStatus.OPEN if total else InvoiceStatus.WAIVED,
                    waiver_reason="" if total else "no charge under the fee schedule",
                    created_at=now,
                    created_by=actor.username,
                )
                _audit(actor, inv, "invoiced", pages=pages, media=media or req.format)
            return inv
        except IntegrityError:
            continue
    raise ValidationFailed("could not number the invoice; try again", field="number")


def balance(inv: Invoice) -> int:
    paid = inv.payments.aggregate(s=Sum("amount_cents"))["s"] or 0
    return int(inv.total_cents) - int(paid)


def record_payment(
    *,
    actor: Actor,
    invoice: Invoice,
    amount_cents: int,
    method: str,
    reference: str = "",
    received_at: datetime | None = None,
) -> Payment:
    """Record a payment; the invoice is paid when nothing is left.

    Raises:
        ValidationFailed: the invoice is not open, the amount is not positive or
            more than the balance, or the method is unknown."""
    if method not in PAYMENT_METHODS:
        raise ValidationFailed(
            f"unknown payment method {method!r}; use one of "
            f"{', '.join(PAYMENT_METHODS)}",
            field="method",
        )
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _must_be_open(inv, "paid")
        due = balance(inv)
        if not isinstance(amount_cents, int) or amount_cents <= 0:
            raise ValidationFailed(
                f"a payment must be a positive amount in cents, not {amount_cents!r}",
                field="amount_cents",
            )
        if amount_cents > due:
            raise ValidationFailed(
                f"{_money(amount_cents)} is more than the "
                f"{_money(due)} due on {inv.number}",
                field="amount_cents",
            )
        pay = Payment.objects.create(
            invoice=inv,
            amount_cents=amount_cents,
            method=method,
            reference=reference.strip()[:100],
            received_at=received_at or timezone.now(),
            received_by=actor.username,
        )
        if amount_cents == due:
            inv.status = InvoiceStatus.PAID
            inv.save(update_fields=["status"])
        _audit(
            actor,
            inv,
            "payment",
            amount_cents=amount_cents,
            method=method,
            balance_cents=due - amount_cents,
        )
    invoice.status = inv.status
    return pay


def waive(*, actor: Actor, invoice: Invoice, reason: str) -> Invoice:
    """Waive what is left of an open invoice, with the reason (hardship, policy)."""
    return _close(actor, invoice, InvoiceStatus.WAIVED, reason)


def void(*, actor: Actor, invoice: Invoice, reason: str) -> Invoice:
    """Void an open invoice issued in error (none with a payment recorded)."""
    if invoice.payments.exists():
        raise ValidationFailed(
            f"{invoice.number} has payments recorded; waive the "
            "rest instead of voiding it",
            field="invoice",
        )
    return _close(actor, invoice, InvoiceStatus.VOID, reason)


def _close(actor: Actor, invoice: Invoice, status: str, reason: str) -> Invoice:
    verb = "waived" if status == InvoiceStatus.WAIVED else "voided"
    if not reason.strip():
        raise ValidationFailed(f"say why the invoice is {verb}", field="reason")
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _must_be_open(inv, verb)
        inv.status = status
        field = "waiver_reason" if status == InvoiceStatus.WAIVED else "void_reason"
        setattr(inv, field, reason.strip()[:300])
        inv.save(update_fields=["status", field])
        _audit(
            actor, inv, verb, reason=reason.strip()[:300], balance_cents=balance(inv)
        )
    return inv


def _must_be_open(inv: Invoice, verb: str) -> None:
    if inv.status != InvoiceStatus.OPEN:
        raise ValidationFailed(
            f"{inv.number} is {inv.get_status_display().lower()}: "
            f"only an open invoice can be {verb}",
            field="invoice",
        )


def payment_clear(req: ReleaseRequest) -> tuple[bool, str]:
    """Whether the release may go as far as fees are concerned, and why: with
    RECORDROOM_ROI_WAIT_FOR_PAYMENT on, not while an open invoice has a balance."""
    if not settings.ROI_WAIT_FOR_PAYMENT:
        return (
            True,
            "release does not wait for payment (set by the administrator)",
        )
    for inv in req.invoices.filter(status=InvoiceStatus.OPEN).order_by("number"):
        due = balance(inv)
        if due > 0:
            return False, (
                f"invoice {inv.number} has {_money(due)} unpaid; record the "
                "payment or waive the fee before release"
            )
    return True, "no fee is outstanding"


def _audit(actor: Actor, inv: Invoice, event: str, **detail: Any) -> None:
    record(
        actor=actor,
        action=actions.RELEASE_INVOICE.name,
        patient=inv.request.patient,
        obj=inv,
        detail={
            "event": event,
            "number": inv.number,
            "total_cents": inv.total_cents,
            "status": inv.status,
            **detail,
        },
    )
