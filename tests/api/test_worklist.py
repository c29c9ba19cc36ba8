"""The duplicate worklist over the API: the page's filters and paging with exact
counts, assignment with its refusals, Scan now once."""

from __future__ import annotations

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.mpi.linkage.models import PairAssignment, ScanRequest
from tests import factories
from tests.mpi.worklist_data import NORTH_PAIRS, build_worklist

from .conftest import api_for


@pytest.fixture
def worklist(facility, other_facility):
    return build_worklist(facility, other_facility)


@pytest.fixture
def manager(db):
    return factories.user("mgr1", "him_manager", all_facilities=True)


def test_pairs_filtered_and_paged_like_the_page(worklist, manager):
    run, pairs = worklist
    api = api_for(manager)
    body = api.get("/mpi/pairs", facility="NORTH", min_age=10, per_page=25,
                   sort="age").json()  # fmt: skip
    assert (body["total"], body["first"], body["last"], body["pages"]) == (21, 1, 21, 1)
    assert str(body["run"]) == str(run.pk)
    first = body["items"][0]
    assert first["days_on_worklist"] == 29 and first["status"] == "open"
    assert first["left"]["mrns"][0].endswith(" NORTH")
    assert first["left"]["id"] == str(pairs["north"][29][0].pk)
    second = api.get("/mpi/pairs", per_page=25, page=2).json()
    assert (second["first"], second["last"], second["total"]) == (26, 45, 45)
    bad = api.get("/mpi/pairs", status="closed")
    assert (
        bad.status_code == 422
        and "status 'closed' is not one of" in bad.json()["message"]
    )
    assert api.get("/mpi/pairs", per_page=7).json()["field"] == "per_page"
    listed = AuditEvent.objects.filter(action="chart.open", channel="api")
    assert listed.count() == 21 * 2 + 40  # both records of every pair listed


def test_assign_by_the_two_records_and_refusals(worklist, manager, facility):
    run, pairs = worklist
    api = api_for(manager)
    chosen = [{"left": str(a.pk), "right": str(b.pk)} for a, b in pairs["north"][:4]]
    factories.user("north1", "him_specialist", facilities=[facility])
    done = api.post("/mpi/pairs/assignments", {"pairs": chosen, "assignee": "north1"})
    assert done.status_code == 200 and done.json() == {"assigned": 4,
                                                       "assignee": "north1"}  # fmt: skip
    body = api.get("/mpi/pairs", assignee="north1").json()
    assert body["total"] == 4 and {i["status"] for i in body["items"]} == {"assigned"}
    south = [
        {"left": str(pairs["south"][0][0].pk), "right": str(pairs["south"][0][1].pk)}
    ]
    refused = api.post("/mpi/pairs/assignments", {"pairs": south, "assignee": "north1"})
    assert refused.status_code == 422
    assert "north1 cannot see patient" in refused.json()["message"]
    back = api.post("/mpi/pairs/assignments", {"pairs": chosen[:1], "assignee": None})
    assert back.json() == {"assigned": 1, "assignee": None}
    assert PairAssignment.objects.filter(assignee__isnull=False).count() == 3
    assert api.get("/mpi/pairs", status="open").json()["total"] == NORTH_PAIRS + 15 - 3


def test_scan_now_once(worklist, manager, facility):
    api = api_for(manager)
    first = api.post("/mpi/scans")
    assert first.status_code == 202 and first.json()["new"] is True
    again = api.post("/mpi/scans").json()
    assert again["new"] is False and again["id"] == first.json()["id"]
    assert again["status"] == "queued" and ScanRequest.objects.count() == 1
    north = factories.user("north1", "him_specialist", facilities=[facility])
    refused = api_for(north).post("/mpi/scans")
    assert refused.status_code == 403
    assert "every facility in your scope" in refused.json()["message"]
