"""The duplicate worklist page: filters in the URL, exact counts, paging that keeps
the filters, assignment (one pair, selected pairs, to me, taken back), Scan now
once, and only the user's facilities."""

from __future__ import annotations

import re

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.mpi.linkage.models import CandidatePair, PairAssignment, ScanRequest
from tests import factories
from tests.mpi.worklist_data import NORTH_PAIRS, build_worklist
from tests.web.conftest import signed_in

ALL = 45


@pytest.fixture
def worklist(facility, other_facility):
    return build_worklist(facility, other_facility)


@pytest.fixture
def manager(db):
    return factories.user("mgr1", "him_manager", all_facilities=True)


def text(resp) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", resp.content.decode()).split())


def test_filters_in_the_url_count_and_page(worklist, manager):
    client = signed_in(manager)
    page = text(client.get("/identity/duplicates"))
    assert f"Showing 1–{ALL} of {ALL} pairs." in page
    url = "/identity/duplicates?facility=NORTH&min_probability=0.5&per_page=25&sort=age"
    first = client.get(url)
    assert "Showing 1–25 of 30 pairs matching the filters." in text(first)
    html = first.content.decode()
    # the pager keeps every filter
    nxt = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert all(p in nxt for p in ("facility=NORTH", "min_probability=0.5",
                                  "per_page=25", "sort=age", "page=2"))  # fmt: skip
    second = client.get(nxt)
    assert "Showing 26–30 of 30 pairs matching the filters." in text(second)
    bad = client.get("/identity/duplicates?min_probability=2")
    assert "min_probability is between 0 and 1, got 2; the filters were cleared." in (
        text(bad))  # fmt: skip


def test_assign_one_selected_to_me_and_back(worklist, manager):
    run, pairs = worklist
    client = signed_in(manager)
    query = "facility=NORTH&status=all"
    rows = list(CandidatePair.objects.filter(run=run).order_by("-probability")[:3])
    resp = client.post("/identity/duplicates/assign", {
        "pair": [r.pk for r in rows[:2]], "action": "assign", "assignee": "mgr1",
        "query": query + "&evil=1"})  # fmt: skip
    assert resp.status_code == 302
    assert resp["Location"] == "/identity/duplicates?facility=NORTH&status=all"
    assert PairAssignment.objects.filter(assignee=manager).count() == 2
    one = client.post("/identity/duplicates/assign", {"only": rows[2].pk, "query": ""})
    assert one["Location"] == "/identity/duplicates"
    mine = client.get("/identity/duplicates?assignee=me")
    assert "Showing 1–3 of 3 pairs matching the filters." in text(mine)
    assert mine.content.decode().count('class="status status-assigned"') == 3
    client.post("/identity/duplicates/assign", {"pair": [rows[0].pk],
                                                "action": "unassign"})  # fmt: skip
    assert "1 pair taken back" in text(client.get("/identity/duplicates"))
    nothing = client.post("/identity/duplicates/assign", {"action": "me"}, follow=True)
    assert "choose at least one pair" in text(nothing)
    assert AuditEvent.objects.filter(action="mpi.pair_assign").count() == 8


def test_scan_now_starts_one_scan_and_says_so(worklist, manager, facility):
    client = signed_in(manager)
    page = client.get("/identity/duplicates").content.decode()
    assert "Scan now" in page and "Last scan finished" in page
    client.post("/identity/scan")
    again = client.post("/identity/scan", follow=True)
    assert "A scan is already under way (asked for by mgr1)" in text(again)
    assert ScanRequest.objects.count() == 1
    assert "waiting for the worker" in text(again)
    assert re.search(r"<button[^>]*disabled[^>]*>Scan now", again.content.decode())
    north = factories.user("north1", "him_specialist", facilities=[facility])
    theirs = signed_in(north)
    assert ">Scan now<" not in theirs.get("/identity/duplicates").content.decode()
    refused = theirs.post("/identity/scan", follow=True)
    assert "every facility in your scope" in text(refused)
    assert ScanRequest.objects.count() == 1


def test_a_specialist_sees_their_facilities_pairs_and_the_listing_is_audited(
    worklist, facility
):
    run, pairs = worklist
    north = factories.user("north1", "him_specialist", facilities=[facility])
    page = text(signed_in(north).get("/identity/duplicates?per_page=25"))
    assert f"Showing 1–25 of {NORTH_PAIRS} pairs." in page
    assert "Anna" in page and "Berit" not in page and "Chloe" not in page
    listed = AuditEvent.objects.filter(action="chart.open",
                                       detail__contains="duplicates")  # fmt: skip
    north_ids = {str(x.pk) for a, b in pairs["north"] for x in (a, b)}
    assert {e.patient_id for e in listed} <= north_ids and listed.count() == 50


def test_a_page_number_that_is_no_ascii_number_is_refused_by_name():
    """'²' passes str.isdigit but int() refuses it; 5,000 digits make int() raise:
    both are refused as bad input, never a server error."""
    from recordroom.kernel.errors import ValidationFailed
    from recordroom.mpi.pair_worklist import whole_number

    assert whole_number("12", "page") == 12 and whole_number("", "page") is None
    for bad in ("²", "١٢", "9" * 5000, "-1", "1.5"):
        try:
            whole_number(bad, "page")
        except ValidationFailed as exc:
            assert "page must be a whole number" in exc.message
        else:
            raise AssertionError(f"{bad[:10]!r} was taken as a page number")
