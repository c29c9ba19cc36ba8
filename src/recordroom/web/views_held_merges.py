"""Held merges: inbound merges (HL7 ADT^A40) the merge rules held for review, each
with its two records and reasons; a specialist approves (the merge runs) or rejects
it. Beside the duplicate and overlay worklists, under Identity."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.kernel.errors import RecordroomError
from recordroom.mpi.held_merges import approve_held_merge, reject_held_merge
from recordroom.mpi.merge import may_override
from recordroom.mpi.merge_rules import judge
from recordroom.mpi.models import HeldMerge, HeldMergeStatus
from recordroom.web.request import actor_from_request

from .views_common import requires
from .views_identity import _audit_list, _visible


@requires("manage_identity")
def held_merges(request: HttpRequest) -> HttpResponse:
    """Pending held merges, oldest first, and the latest decided."""
    pending = _rows(HeldMerge.objects.filter(status=HeldMergeStatus.PENDING), request)
    decided = _rows(HeldMerge.objects.exclude(status=HeldMergeStatus.PENDING)
                    .order_by("-decided_at"), request, 20)  # fmt: skip
    manager = may_override(request.user)
    for held in pending:
        verdict = judge(held.survivor, held.retired)
        held.guards = [b.text for b in verdict.guards]  # type: ignore[attr-defined]
        held.needs_override = bool(held.guards) and not manager  # type: ignore[attr-defined]
        held.can_override = bool(held.guards) and manager  # type: ignore[attr-defined]
    _audit_list(request, "held merges",
                [x for h in (*pending, *decided) for x in (h.survivor_id, h.retired_id)])  # fmt: skip
    return render(request, "web/identity_held_merges.html",
                  {"pending": pending, "decided": decided})  # fmt: skip


def _rows(rows: Any, request: HttpRequest, limit: int = 200) -> list[HeldMerge]:
    rows = list(rows.select_related("survivor", "retired")
                .prefetch_related("survivor__names", "retired__names",
                                  "survivor__identifiers", "retired__identifiers")
                [: limit * 3])  # fmt: skip
    seen = _visible(request, [h.survivor_id for h in rows])
    return [h for h in rows if h.survivor_id in seen][:limit]


@requires("manage_identity")
def held_merge_decide(request: HttpRequest, held_id: UUID) -> HttpResponse:
    """POST: approve (runs the merge; a rule needs a manager's override) or reject."""
    held = HeldMerge.objects.filter(pk=held_id).first()
    if held is None or request.method != "POST":
        return redirect("web:identity_held_merges")
    actor = actor_from_request(request)
    post = request.POST
    try:
        if post.get("action") == "approve":
            approve_held_merge(actor=actor, held=held, reason=post.get("reason", ""),
                               override=post.get("override", ""))  # fmt: skip
            messages.success(request, "Approved: the records are merged; the merge "
                             "can be undone on the Merges page.")  # fmt: skip
        else:
            reject_held_merge(actor=actor, held=held, note=post.get("note", ""))
            messages.success(request, "Rejected: the two records stay apart.")
    except RecordroomError as exc:
        messages.error(request, exc.message)
    return redirect("web:identity_held_merges")
