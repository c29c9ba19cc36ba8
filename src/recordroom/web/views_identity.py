"""Identity work for HIM specialists: two charts side by side to merge (or not),
undoing a merge, and the overlay worklist with its split (the duplicate worklist's
pages are in web/worklist/)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.errors import RecordroomError, ValidationFailed
from recordroom.mpi.decisions import decide_pair, standing
from recordroom.mpi.held_merges import HELD_MERGE
from recordroom.mpi.linkage.models import CandidatePair, MatchDecision
from recordroom.mpi.merge import CHOOSABLE, may_override, merge_patients, unmerge
from recordroom.mpi.merge_rules import judge
from recordroom.mpi.models import (
    OverlayFlag,
    OverlayStatus,
    PairDecisionKind,
    Patient,
    PatientMerge,
)
from recordroom.mpi.overlay import dismiss_flag, scan_overlays, split_patient
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, visible_patients
from recordroom.records.chart import get_chart
from recordroom.web.request import actor_from_request

from .views_common import requires

FIELD_LABELS = {"birth_date": "Date of birth", "sex": "Sex",
                "gender_identity": "Gender identity", "deceased_date": "Deceased"}  # fmt: skip


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError):
        raise ValidationFailed(f"{what} must be a patient id, got {value!r:.40}",
                               field=what) from None  # fmt: skip


def _side(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    chart = get_chart(user=request.user, patient_id=patient_id)
    p = chart.patient
    return {
        "patient": p,
        "legal": p.legal_name(),
        "names": list(p.names.all()),
        "identifiers": list(p.identifiers.all()),
        "addresses": list(p.addresses.all()),
        "telecoms": list(p.telecoms.all()),
        "encounters": chart.encounters[:10],
        "encounter_count": len(chart.encounters),
        "documents": chart.documents[:10],
        "document_count": len(chart.documents),
    }


def _visible(request: HttpRequest, ids: list[Any]) -> set[Any]:
    """Which of these patients the user may see (worklists span the index)."""
    return set(
        visible_patients(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    )


def _audit_list(request: HttpRequest, worklist: str, patient_ids: list[Any]) -> None:
    """A worklist shows names and birth dates: each patient on it finds the read
    in their access log, as a search result would."""
    actor = actor_from_request(request)
    record_many([EventSpec(actor, actions.PATIENT_SEARCH.name,
                           detail={"worklist": worklist, "results": len(patient_ids)})]
                + [EventSpec(actor, actions.CHART_OPEN.name, pid,
                             detail={"worklist": worklist, "listed": True})
                   for pid in dict.fromkeys(patient_ids)])  # fmt: skip


def weighed(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A pair's evidence without the prior, the fields that weighed most (either
    way) first."""
    rows = [e for e in evidence if e.get("comparison") != "prior"]
    return sorted(rows, key=lambda e: -abs(e.get("weight", 0)))


def _still_open(row: Any, a: Any, b: Any) -> bool:
    """Not decided, or decided "not a duplicate" on data that has changed since."""
    decision = standing(a, b)
    row.decision = decision
    return decision is None or decision.decision == PairDecisionKind.DEFERRED


@requires("manage_identity")
def merge_review(request: HttpRequest) -> HttpResponse:
    """Two charts side by side, differences marked, the rules' verdict; POST merges."""
    left_id = _uuid(request.GET.get("left", ""), "left")
    right_id = _uuid(request.GET.get("right", ""), "right")
    left, right = _side(request, left_id), _side(request, right_id)
    actor = actor_from_request(request)
    record_many([EventSpec(actor, actions.CHART_OPEN.name, pid,
                           detail={"view": "merge review"}) for pid in (left_id, right_id)])  # fmt: skip
    if request.method == "POST" and request.POST.get("decision"):
        try:
            decide_pair(actor=actor, a=left["patient"], b=right["patient"],
                        decision=request.POST["decision"],
                        note=request.POST.get("note", ""))  # fmt: skip
        except RecordroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("web:identity_duplicates")
    elif request.method == "POST":
        survivor_side = request.POST.get("survivor")
        if survivor_side not in ("left", "right"):
            messages.error(request, "Choose which record survives.")
        else:
            survivor = left if survivor_side == "left" else right
            retired = right if survivor is left else left
            other = "right" if survivor_side == "left" else "left"
            take = tuple(f for f in CHOOSABLE if request.POST.get(f"keep_{f}") == other)
            try:
                merge_patients(actor=actor, survivor=survivor["patient"],
                               retired=retired["patient"], take=take,
                               reason=request.POST.get("reason", ""), source="ui",
                               override=request.POST.get("override", ""))  # fmt: skip
            except RecordroomError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Merged. The retired record and its MRNs now "
                                 "lead to this chart; the merge can be undone.")  # fmt: skip
                return redirect("web:chart", patient_id=survivor["patient"].pk)
    fields = []
    for f in CHOOSABLE:
        a, b = getattr(left["patient"], f), getattr(right["patient"], f)
        fields.append({"name": f, "label": FIELD_LABELS[f], "left": _shown(a),
                       "right": _shown(b), "differs": a != b})  # fmt: skip
    context = {
        "left": left, "right": right, "fields": fields,
        "decision": standing(left_id, right_id),
        "pair": _scored(left_id, right_id),
        **rules_context(request, left["patient"], right["patient"]),
    }  # fmt: skip
    return render(request, "web/identity_merge.html", context)


def rules_context(request: HttpRequest, a: Patient, b: Patient) -> dict[str, Any]:
    """The rules' verdict for the compare page: what blocks the merge, whether this
    user may override it (an HIM manager, with a reason), and the notes."""
    verdict = judge(a, b)
    overridable = bool(verdict.guards) and not verdict.hard
    return {"blockers": [x.text for x in verdict.blockers], "notes": verdict.notes,
            "can_override": overridable and may_override(request.user),
            "overridable": overridable}  # fmt: skip


def _scored(a: UUID, b: UUID) -> CandidatePair | MatchDecision | None:
    """The latest score of the two records: a scan's pair, else the registration
    that sent them to review (both carry probability, match weight, evidence)."""
    both = [a, b]
    pair = (CandidatePair.objects.filter(left_id__in=both, right_id__in=both)
            .order_by("-run__started_at").first())  # fmt: skip
    if pair is not None:
        return pair
    return (MatchDecision.objects.filter(patient_id__in=both, candidate_id__in=both)
            .order_by("-decided_at").first())  # fmt: skip


@requires("manage_identity")
def merges(request: HttpRequest) -> HttpResponse:
    """Recent merges, each with its undo."""
    rows = list(PatientMerge.objects.select_related("survivor", "retired")[:300])
    seen = _visible(request, [m.survivor_id for m in rows])
    rows = [m for m in rows if m.survivor_id in seen][:100]
    _audit_list(
        request, "merges", [x for m in rows for x in (m.survivor_id, m.retired_id)]
    )
    return render(request, "web/identity_merges.html", {"merges": rows})


@requires("manage_identity")
def merge_undo(request: HttpRequest, merge_id: UUID) -> HttpResponse:
    merge = PatientMerge.objects.filter(pk=merge_id).first()
    if merge is None or request.method != "POST":
        return redirect("web:identity_merges")
    try:
        unmerge(actor=actor_from_request(request), merge=merge,
                reason=request.POST.get("reason", ""))  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Merge undone: both records are as they were.")
    return redirect("web:identity_merges")


@requires("manage_identity")
def overlays(request: HttpRequest) -> HttpResponse:
    """Open overlay signs; POST runs the detectors."""
    if request.method == "POST":
        added = scan_overlays(actor=actor_from_request(request))
        messages.success(request, f"Scan finished: {added} new signs.")
        return redirect("web:identity_overlays")
    flags = list(OverlayFlag.objects.filter(status=OverlayStatus.OPEN)
                 .select_related("patient")[:600])  # fmt: skip
    seen = _visible(request, [f.patient_id for f in flags])
    flags = [f for f in flags if f.patient_id in seen][:200]
    _audit_list(request, "overlays", [f.patient_id for f in flags])
    return render(request, "web/identity_overlays.html", {"flags": flags})


@requires("manage_identity")
def overlay(request: HttpRequest, flag_id: UUID) -> HttpResponse:
    """One overlaid chart: choose the visits that are another person's and move
    them (to a patient by MRN or a new one), or close the sign with a note."""
    flag = OverlayFlag.objects.filter(pk=flag_id).first()
    if flag is None:
        return redirect("web:identity_overlays")
    if flag.kind == HELD_MERGE:  # decided on the held merges page, not by a split
        return redirect("web:identity_held_merges")
    side = _side(request, flag.patient_id)
    actor = actor_from_request(request)
    record_many([EventSpec(actor, actions.CHART_OPEN.name, flag.patient_id,
                           detail={"view": "overlay review"})])  # fmt: skip
    if request.method == "POST":
        try:
            return _overlay_action(request, flag, side)
        except RecordroomError as exc:
            messages.error(request, exc.message)
    chart = get_chart(user=request.user, patient_id=flag.patient_id)
    context = {"flag": flag, "side": side, "encounters": chart.encounters,
               "loose_documents": [d for d in chart.documents if d.encounter_id is None]}  # fmt: skip
    return render(request, "web/identity_overlay.html", context)


def _overlay_action(
    request: HttpRequest, flag: OverlayFlag, side: dict[str, Any]
) -> HttpResponse:
    actor = actor_from_request(request)
    post = request.POST
    if post.get("action") == "dismiss":
        dismiss_flag(actor=actor, flag=flag, note=post.get("note", ""))
        messages.success(request, "Closed: not an overlay.")
        return redirect("web:identity_overlays")
    move = {"records.encounter": post.getlist("encounter"),
            "records.document": post.getlist("document")}  # fmt: skip
    target = None
    new_patient = None
    if post.get("target") == "existing":
        target = _patient_by_mrn(request, post.get("target_mrn", ""))
    else:
        facility = next((i.facility for i in side["identifiers"] if i.facility), None)
        new_patient = PatientIn(
            names=[NameIn(family=post.get("family", ""), given=post.get("given", ""))],
            birth_date=_date(post.get("birth_date", "")), sex=post.get("sex", "unknown"),
            identifiers=[IdentifierIn(kind="MR", value=post.get("mrn", ""),
                                      facility=facility)],
        )  # fmt: skip
    split = split_patient(actor=actor, source=side["patient"], move=move, target=target,
                          new_patient=new_patient, reason=post.get("reason", ""),
                          flag=flag)  # fmt: skip
    messages.success(request, "Split: the chosen visits and documents moved.")
    return redirect(reverse("web:chart", kwargs={"patient_id": split.target_id}))


def _patient_by_mrn(request: HttpRequest, mrn: str) -> Patient:
    from recordroom.mpi.search import PatientQuery, search_patients

    if not mrn.strip():
        raise ValidationFailed(
            "give the MRN of the patient these belong to", field="target_mrn"
        )
    hits = search_patients(user=request.user, query=PatientQuery(identifier=mrn))
    if len(hits) != 1:
        raise ValidationFailed(f"MRN {mrn!r} finds {len(hits)} patients at your "
                               "facilities; give one that finds exactly one",
                               field="target_mrn")  # fmt: skip
    return hits[0].patient


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _date(value: str) -> Any:
    from datetime import date

    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"birth date {value!r} is not YYYY-MM-DD",
                               field="birth_date") from None  # fmt: skip
