"""The release desk's fees on a request's page: the quote, the invoice, payments,
waiving or voiding, the invoice letter. Thin adapters over release.fees (and
release.letters for the invoice letter)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse

from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.release import fees, letters
from recordroom.release.models import Invoice, ReleaseRequest

from .views_common import requires
from .views_release import act, whole


def _cents(value: str) -> int:
    """Dollars as typed ("12.50", "$12") in cents."""
    text = str(value).strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"an amount in dollars, such as 12.50, not {value[:20]!r}",
                               field="amount") from None  # fmt: skip
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValidationFailed(f"{value} has fractions of a cent", field="amount")
    return int(cents)


def _invoice(req: ReleaseRequest, invoice_id: UUID) -> Invoice:
    inv = req.invoices.filter(pk=invoice_id).first()
    if inv is None:
        raise NotFound(f"request {req.number} has no invoice {invoice_id}")
    return inv


@requires("release_records")
def invoice_new(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Invoice the request from its quote."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        inv = fees.invoice(actor=actor, req=req, pages=whole(post.get("pages", "0"), "pages"),
                           media=post.get("media") or None)  # fmt: skip
        return f"Invoice {inv.number} for ${inv.total_cents / 100:,.2f}."

    return act(request, request_id, "invoice", run)


@requires("release_records")
def invoice_step(
    request: HttpRequest, request_id: UUID, invoice_id: UUID
) -> HttpResponse:
    """step=payment (amount, method, reference), waive or void (reason), or
    letter (write the invoice letter)."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        inv = _invoice(req, invoice_id)
        step = post.get("step", "")
        if step == "payment":
            pay = fees.record_payment(
                actor=actor, invoice=inv, amount_cents=_cents(post.get("amount", "")),
                method=post.get("method", ""), reference=post.get("reference", ""),
            )  # fmt: skip
            return (f"Payment of ${pay.amount_cents / 100:,.2f} recorded on {inv.number}"
                    f"{': paid in full' if inv.status == 'paid' else ''}.")  # fmt: skip
        if step in ("waive", "void"):
            close = fees.waive if step == "waive" else fees.void
            close(actor=actor, invoice=inv, reason=post.get("reason", ""))
            return f"{inv.number} {'waived' if step == 'waive' else 'voided'}."
        if step == "letter":
            letters.render_letter(actor=actor, req=req, kind="invoice",
                                  detail={"invoice": str(inv.pk)})  # fmt: skip
            return f"Invoice letter for {inv.number} written."
        raise ValidationFailed(f"unknown step {step[:20]!r}", field="step")

    return act(request, request_id, "fee", run, target=invoice_id)
