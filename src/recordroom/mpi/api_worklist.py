"""The duplicate worklist over the JSON API: the latest scan's pairs with the page's
filters and paging, assignment, and Scan now. Listing names patients, so each
listed record gets a chart.open event, as on the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from .linkage import scan_requests
from .pair_worklist import PAGE_SIZES, PairFilter, assign_pairs, list_pairs

router = Router(tags=["duplicate worklist"])
CAP = {"x-capability": "manage_identity"}


class PairQuery(Schema):
    facility: str = Field("", description="facility code: either record is there")
    min_probability: float | None = Field(None, ge=0, le=1)
    max_probability: float | None = Field(None, ge=0, le=1)
    min_age: int | None = Field(
        None, ge=0, description="days on the worklist, at least"
    )
    max_age: int | None = Field(None, ge=0, description="days on the worklist, at most")
    status: str = Field("unresolved", description="open, assigned, deferred, resolved, "
                        "unresolved (the first three), all")  # fmt: skip
    assignee: str = Field("", description="a user name, me, or none")
    cluster: int | None = Field(None, ge=0)
    sort: str = Field("probability", description="probability, age, newest")
    page: int = Field(1, ge=1)
    per_page: int = Field(50, description=f"one of {', '.join(map(str, PAGE_SIZES))}")


class RecordOut(Schema):
    id: UUID
    name: str | None
    birth_date: Any
    mrns: list[str]


class PairOut(Schema):
    id: int = Field(description="this scan's row; the pair is its two records")
    left: RecordOut
    right: RecordOut
    probability: float
    match_weight: float
    cluster: int | None
    status: str
    resolution: str
    assignee: str | None
    on_worklist_since: datetime
    days_on_worklist: int


class PairPageOut(Schema):
    run: UUID | None
    scan_finished_at: datetime | None
    total: int
    page: int
    pages: int
    per_page: int
    first: int
    last: int
    items: list[PairOut]


def _record(p: Any) -> dict[str, Any]:
    name = p.legal_name()
    return {"id": p.pk, "name": name.display if name else None,
            "birth_date": p.birth_date,
            "mrns": [f"{i.value} {i.facility.code}" if i.facility else i.value
                     for i in p.identifiers.all() if i.kind == "MR"]}  # fmt: skip


@router.get("/mpi/pairs", response=PairPageOut, openapi_extra=CAP)
def pairs(request: HttpRequest, q: Query[PairQuery]) -> dict[str, Any]:
    """The latest finished scan's pairs at your facilities (both records), filtered
    as on the worklist page, one page at a time, with how many match in all."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    params = q.dict()
    page, per_page = params.pop("page"), params.pop("per_page")
    listing = list_pairs(user=actor.user, filters=PairFilter.parse(params),
                         page=page, per_page=per_page)  # fmt: skip
    listed = [x for r in listing.rows for x in (r.left_id, r.right_id)]
    record_many([EventSpec(actor, actions.PATIENT_SEARCH.name,
                           detail={"worklist": "duplicates", "results": len(listed)})]
                + [EventSpec(actor, actions.CHART_OPEN.name, pid,
                             detail={"worklist": "duplicates", "listed": True})
                   for pid in dict.fromkeys(listed)])  # fmt: skip
    run = listing.run
    return {
        "run": run.pk if run else None,
        "scan_finished_at": run.finished_at if run else None,
        "total": listing.total, "page": listing.page, "pages": listing.pages,
        "per_page": listing.per_page, "first": listing.first, "last": listing.last,
        "items": [{
            "id": r.pk, "left": _record(r.left), "right": _record(r.right),
            # status, resolution, assignee, since, days: annotated by list_pairs
            "probability": r.probability, "match_weight": r.match_weight,
            "cluster": r.cluster, "status": r.status, "resolution": r.resolution,  # type: ignore[attr-defined]
            "assignee": r.assignee.username if r.assignee else None,  # type: ignore[attr-defined]
            "on_worklist_since": r.since, "days_on_worklist": r.days,  # type: ignore[attr-defined]
        } for r in listing.rows],
    }  # fmt: skip


class PairIn(Schema):
    left: UUID
    right: UUID


class AssignIn(Schema):
    pairs: list[PairIn] = Field(min_length=1, max_length=1000)
    assignee: str | None = Field(description="a user name or me; null takes back")


class AssignOut(Schema):
    assigned: int
    assignee: str | None


@router.post("/mpi/pairs/assignments", response=AssignOut, openapi_extra=CAP)
def assign(request: HttpRequest, data: AssignIn) -> dict[str, Any]:
    """Give pairs to a specialist (who must work the worklist and see both
    records), or take them back (assignee null); audited on each record."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    count = assign_pairs(actor=actor, pairs=[(p.left, p.right) for p in data.pairs],
                         assignee=data.assignee)  # fmt: skip
    who = actor.username if data.assignee == "me" else data.assignee
    return {"assigned": count, "assignee": who}


class ScanOut(Schema):
    id: UUID
    status: str
    new: bool
    requested_at: datetime
    requested_by: str
    progress: str


@router.post("/mpi/scans", response={202: ScanOut}, openapi_extra=CAP)
def scan_now(request: HttpRequest) -> Status:
    """Scan now: queue a scan of the whole index for the worker; when one is
    queued or running already, that one is returned (`new` false)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    req, new = scan_requests.request_scan(actor=actor)
    return Status(202, {"id": req.pk, "status": req.status, "new": new,
                 "requested_at": req.requested_at, "requested_by": req.requested_by,
                 "progress": req.progress})  # fmt: skip
