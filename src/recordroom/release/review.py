"""Quality review of a built packet before it leaves: a second person (or, by
setting, the same person in a separate step) confirms that every page belongs to
this patient and to the request's scope. The review is tied to the packet's hash,
so a rebuilt packet needs a new one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, RecordroomError, ValidationFailed

from .models import Packet, QualityReview, ReleaseRequest, Status
from .packets import current_packet
from .requests import refuse

# What the reviewer confirms, page by page (all must hold for a pass).
REQUIRED_CHECKS: dict[str, str] = {
    "patient": "every page belongs to this patient (name, birth date, MRN)",
    "scope": "every page is within what the request asks for and its basis allows",
}


def reviewer_allowed(reviewer: str, packet: Packet) -> str:
    """Why `reviewer` may not review `packet` (blank: may)."""
    if reviewer == packet.built_by and not settings.ROI_SAME_PERSON_QA:
        return (f"{reviewer} built packet {packet.release_number}: a second person "
                "must review it (the administrator requires a second reviewer)")  # fmt: skip
    return ""


def system_checks(req: ReleaseRequest, packet: Packet) -> dict[str, Any]:
    """What the system can confirm itself: every document in the packet is this
    patient's and is an included item of the request, as selected."""
    items = {str(i.document_id): i for i in req.items.filter(included=True)
             .select_related("document")}  # fmt: skip
    docs = [c for c in packet.contents if c.get("part") == "document"]
    wrong_patient = [c["document"] for c in docs if c["document"] in items
                     and items[c["document"]].document.patient_id != req.patient_id]  # fmt: skip
    not_selected = [c["document"] for c in docs if c["document"] not in items
                    or str(items[c["document"]].version_id) != c["version"]]  # fmt: skip
    return {"documents": len(docs), "pages": packet.pages,
            "other_patient": wrong_patient, "not_selected": not_selected,
            "ok": not wrong_patient and not not_selected}  # fmt: skip


def quality_review(
    *,
    actor: Actor,
    req: ReleaseRequest,
    passed: bool,
    checks: dict[str, bool],
    note: str = "",
) -> QualityReview:
    """Record the review of the request's current packet; a pass makes the request
    ready to release, a fail sends it back to work.

    Raises:
        ValidationFailed: no packet to review, the request not in review, a pass
            with a check not confirmed (or one the system finds false), or a fail
            without a note.
        PermissionDenied: the reviewer built the packet and the setting does not
            allow it.
    All refusals are audited (release.refused)."""
    packet = current_packet(req)
    problem = ""
    exc: type[RecordroomError] = ValidationFailed
    sys_checks: dict[str, Any] = {}
    if req.status not in (Status.QUALITY_REVIEW, Status.READY) or packet is None:
        problem = (f"request {req.number} is {req.get_status_display().lower()}: "
                   "build its packet first; the review is of a built packet")  # fmt: skip
    elif reason := reviewer_allowed(actor.username, packet):
        problem, exc = reason, PermissionDenied
    elif passed:
        missing = [
            f"{k} ({v})"
            for k, v in REQUIRED_CHECKS.items()
            if checks.get(k) is not True
        ]
        sys_checks = system_checks(req, packet)
        if missing:
            problem = "a pass needs every check confirmed; not confirmed: " + "; ".join(
                missing
            )
        elif not sys_checks["ok"]:
            problem = ("the packet holds documents that are not this request's "
                       f"selection: {sys_checks['other_patient'] + sys_checks['not_selected']}"
                       "; rebuild it")  # fmt: skip
    elif not note.strip():
        problem = "say what is wrong with the packet"
    if problem:
        refuse(actor, req, "quality review", problem)
        raise exc(problem, field="checks")
    assert packet is not None
    with transaction.atomic():
        review = QualityReview.objects.create(
            request=req, reviewed_at=timezone.now(), reviewed_by=actor.username,
            passed=passed, note=note.strip()[:500], packet_sha256=packet.sha256,
            checks={**{k: bool(v) for k, v in checks.items()}, "system": sys_checks})  # fmt: skip
        req.status = Status.READY if passed else Status.IN_PROGRESS
        req.save(update_fields=["status", "updated_at"])
        record(actor=actor, action=actions.RELEASE_REVIEW.name, patient=req.patient,
               obj=req, detail={"packet": packet.release_number, "passed": passed,
                                "checks": review.checks, "note": review.note})  # fmt: skip
    return review


def passing_review(req: ReleaseRequest, packet: Packet) -> QualityReview | None:
    """The latest passing review of exactly this packet by an allowed reviewer."""
    review = (
        req.reviews.filter(packet_sha256=packet.sha256).order_by("-reviewed_at").first()
    )
    if (
        review is None
        or not review.passed
        or reviewer_allowed(review.reviewed_by, packet)
    ):
        return None
    return review
