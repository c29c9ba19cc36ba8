"""Releasing a request: the last gate before anything leaves (a passing quality
review of the current packet, a valid legal basis, payment when required, every
sensitive document still covered), then the disclosure entered in the accounting
(R-AOD-4). A refusal is audited and nothing is released."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from . import authorizations, disclosures, fees
from .legal import PART2_LABELS
from .models import Disclosure, Packet, ReleaseRequest, Status
from .packets import basis_text, current_packet, recipient_line
from .requests import is_access_request, refuse
from .review import passing_review
from .scope import gate_changes


def release_problems(req: ReleaseRequest) -> list[str]:
    """Everything that stops the request from being released now (empty: go)."""
    if req.status not in (Status.QUALITY_REVIEW, Status.READY):
        return [f"request {req.number} is {req.get_status_display().lower()}; only a "
                "built and reviewed packet can be released"]  # fmt: skip
    packet = current_packet(req)
    if packet is None:
        return ["no packet has been built"]
    problems = []
    if passing_review(req, packet) is None:
        who = "" if settings.ROI_SAME_PERSON_QA else " by a second person"
        problems.append(f"packet {packet.release_number} has not passed its quality "
                        f"review{who}; a release cannot skip it")  # fmt: skip
    problems += gate_changes(req)
    basis = authorizations.check_basis(req)
    if not basis.ok:
        problems.append("no valid basis to release: " + "; ".join(
            f"{d.message} ({d.rule})" for d in basis.defects))  # fmt: skip
    paid, why = fees.payment_clear(req)
    if not paid:
        problems.append(why)
    return problems


def _legal_basis(req: ReleaseRequest) -> str:
    """The accounting's basis code: the request's, or "authorization" when it went
    under one; else the requester type implies it (disclosures.DEFAULT_BASIS)."""
    if req.legal_basis:
        return req.legal_basis
    if (
        not is_access_request(req)
        and req.authorizations.filter(revoked_at__isnull=True).exists()
    ):
        return "authorization"
    return ""


def _description(packet: Packet) -> str:
    docs = [c for c in packet.contents if c.get("part") == "document"]
    listed = "; ".join(f"{c['title']} {c['service_date']}" for c in docs[:20])
    more = f"; and {len(docs) - 20} more" if len(docs) > 20 else ""
    return (f"{len(docs)} document(s), {packet.pages} page(s) in packet "
            f"{packet.release_number}: {listed}{more}")  # fmt: skip


def release(*, actor: Actor, req: ReleaseRequest) -> list[Disclosure]:
    """Release the request's current packet and enter the disclosure.

    Raises:
        ValidationFailed: naming every problem (no passing review of the current
            packet, a defective basis, unpaid invoice, a sensitive document no
            longer covered, not ready); the attempt is audited, nothing released.
    """
    problems = release_problems(req)
    if problems:
        reason = "; ".join(problems)
        refuse(actor, req, "release", reason, detail={"problems": problems})
        raise ValidationFailed(f"not released: {reason}", field="status")
    packet = current_packet(req)
    assert packet is not None
    docs = [c for c in packet.contents if c.get("part") == "document"]
    now = timezone.now()
    with transaction.atomic():
        entry = disclosures.record_disclosure(
            actor=actor, patient=req.patient, request=req, disclosed_at=now,
            recipient_name=recipient_line(req), recipient_address=req.requester_address,
            description=_description(packet),
            purpose=req.purpose or ("at the request of the individual"
                                    if is_access_request(req) else basis_text(req)),
            legal_basis=_legal_basis(req), requester_type=req.requester_type,
            part2=any(set(c.get("labels", [])) & PART2_LABELS for c in docs),
            documents=[c["document"] for c in docs], pages=packet.pages,
        )  # fmt: skip
        req.status, req.release_number, req.closed_at = (
            Status.RELEASED,
            packet.release_number,
            now,
        )
        req.save(update_fields=["status", "release_number", "closed_at", "updated_at"])
        record(actor=actor, action=actions.RELEASE_RELEASE.name, patient=req.patient,
               obj=packet, detail={"request": req.number, "number": packet.release_number,
                                   "pages": packet.pages, "documents": len(docs),
                                   "recipient": entry.recipient_name,
                                   "disclosure": str(entry.pk)})  # fmt: skip
    return [entry]
