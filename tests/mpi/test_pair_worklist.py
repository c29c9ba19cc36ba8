"""The duplicate worklist as a service: every pair of the scan reachable page by
page with exact counts under each filter, within the user's facilities; assignment
and status (open, assigned, deferred, resolved: merged, linked, not a duplicate),
audited; a not-a-duplicate that lapses when the data changes; Scan now queued once
and run by the worker."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.mpi.decisions import decide_pair
from recordroom.mpi.linkage import scan_requests
from recordroom.mpi.linkage.models import PairAssignment, ScanRequest
from recordroom.mpi.merge import merge_patients
from recordroom.mpi.pair_worklist import (
    PairFilter,
    assign_pairs,
    list_pairs,
    reopen_lapsed,
)
from tests import factories

from .worklist_data import CROSS_PAIRS, NORTH_PAIRS, SOUTH_PAIRS, build_worklist

ALL = NORTH_PAIRS + SOUTH_PAIRS + CROSS_PAIRS


@pytest.fixture
def worklist(facility, other_facility):
    now = timezone.now()
    run, pairs = build_worklist(facility, other_facility, now=now)
    return run, pairs, now


@pytest.fixture
def manager(db):
    return factories.user("mgr1", "him_manager", all_facilities=True)


@pytest.fixture
def north_him(facility):
    return factories.user("north1", "him_specialist", facilities=[facility])


def page(user, now, page=1, per_page=25, **params):
    return list_pairs(user=user, filters=PairFilter.parse(params), page=page,
                      per_page=per_page, now=now)  # fmt: skip


def test_every_pair_is_reachable_page_by_page_with_counts(worklist, manager):
    run, pairs, now = worklist
    first = page(manager, now)
    assert (first.total, first.first, first.last, first.pages) == (ALL, 1, 25, 2)
    second = page(manager, now, page=2)
    assert (second.first, second.last, len(second.rows)) == (26, ALL, ALL - 25)
    seen = {(r.left_id, r.right_id) for p in (first, second) for r in p.rows}
    assert len(seen) == ALL  # no pair twice, none missing
    probabilities = [r.probability for p in (first, second) for r in p.rows]
    assert probabilities == sorted(probabilities, reverse=True)
    beyond = page(manager, now, page=9)  # past the end: the last page
    assert beyond.page == 2 and beyond.first == 26


def test_facility_filter_matches_either_record_and_scope_hides_the_rest(
    worklist, manager, north_him
):
    run, pairs, now = worklist
    assert page(manager, now, facility="NORTH").total == NORTH_PAIRS + CROSS_PAIRS
    assert page(manager, now, facility="south").total == SOUTH_PAIRS + CROSS_PAIRS
    # A NORTH specialist sees pairs whose two records are both at NORTH.
    mine = page(north_him, now, per_page=50)
    assert mine.total == NORTH_PAIRS
    assert {(r.left_id, r.right_id) for r in mine.rows} == {
        (a.pk, b.pk) for a, b in pairs["north"]
    }
    assert page(north_him, now, facility="SOUTH").total == 0
    with pytest.raises(ValidationFailed, match="no facility with code 'WEST'"):
        page(manager, now, facility="WEST")


def test_probability_band_and_age_filters_count_exactly(worklist, manager):
    run, pairs, now = worklist
    # pair i of a group: probability 0.99 - 0.02 i
    assert page(manager, now, min_probability="0.9").total == 5 + 5 + 5
    band = page(manager, now, min_probability="0.5", max_probability="0.8", per_page=50)
    assert band.total == 15  # NORTH i = 10..24; SOUTH and cross stay above 0.8
    assert all(0.5 <= r.probability <= 0.8 for r in band.rows)
    # days on the worklist: NORTH i, SOUTH 2 i, cross 3 i (and an hour)
    old = page(manager, now, min_age="10", per_page=50)
    assert old.total == 20 + 5 + 1  # NORTH 10..29, SOUTH 5..9, cross 4
    assert all(r.days >= 10 for r in old.rows)
    fresh = page(manager, now, max_age="2")
    assert fresh.total == 3 + 2 + 1  # NORTH 0..2, SOUTH 0..1, cross 0
    oldest = page(manager, now, sort="age").rows[0]
    assert oldest.days == 29 and (oldest.left_id, oldest.right_id) == (
        pairs["north"][29][0].pk, pairs["north"][29][1].pk)  # fmt: skip
    for bad, message in (({"min_probability": "1.5"}, "between 0 and 1, got 1.5"),
                         ({"min_age": "-3"}, "min_age must be a whole number"),
                         ({"status": "closed"}, "status 'closed' is not one of"),
                         ({"min_probability": "0.9", "max_probability": "0.5"},
                          "min_probability 0.9 is above max_probability 0.5")):  # fmt: skip
        with pytest.raises(ValidationFailed, match=message):
            PairFilter.parse(bad)


def test_assignment_is_audited_and_filters_by_assignee(worklist, manager, north_him):
    run, pairs, now = worklist
    chosen = [(a.pk, b.pk) for a, b in pairs["north"][:3]]
    done = assign_pairs(actor=factories.actor(manager), pairs=chosen,
                        assignee="north1")  # fmt: skip
    assert done == 3
    theirs = page(north_him, now, assignee="me")
    assert theirs.total == 3 and {r.status for r in theirs.rows} == {"assigned"}
    assert theirs.rows[0].assignee.username == "north1"
    assert page(manager, now, status="open").total == ALL - 3
    assert page(manager, now, assignee="none").total == ALL - 3
    events = AuditEvent.objects.filter(action="mpi.pair_assign")
    assert events.count() == 6  # both records of each pair
    assert {json.loads(e.detail)["assignee"] for e in events} == {"north1"}
    # taken back: open again, and audited
    assign_pairs(actor=factories.actor(north_him), pairs=chosen[:1], assignee=None)
    assert page(manager, now, assignee="north1").total == 2
    assert PairAssignment.objects.filter(assignee__isnull=True).count() == 1


def test_who_may_be_assigned_and_by_whom(worklist, manager, north_him, other_facility):
    run, pairs, now = worklist
    north_pair = [(pairs["north"][0][0].pk, pairs["north"][0][1].pk)]
    south_pair = [(pairs["south"][0][0].pk, pairs["south"][0][1].pk)]
    factories.user("coder1", "coder", all_facilities=True)
    factories.user("south1", "him_specialist", facilities=[other_facility])
    with pytest.raises(ValidationFailed, match="coder1 may not work the duplicate"):
        assign_pairs(
            actor=factories.actor(manager), pairs=north_pair, assignee="coder1"
        )
    with pytest.raises(ValidationFailed, match="south1 cannot see patient"):
        assign_pairs(
            actor=factories.actor(manager), pairs=north_pair, assignee="south1"
        )
    with pytest.raises(PermissionDenied, match="no record at your facilities"):
        assign_pairs(actor=factories.actor(north_him), pairs=south_pair, assignee="me")
    with pytest.raises(ValidationFailed, match="no user named 'nobody'"):
        assign_pairs(
            actor=factories.actor(manager), pairs=north_pair, assignee="nobody"
        )
    assert not PairAssignment.objects.exists()


def test_status_follows_decisions_and_merges(worklist, manager):
    run, pairs, now = worklist
    actor = factories.actor(manager)
    (a0, b0), (a1, b1), (a2, b2), (a3, b3) = pairs["north"][:4]
    assign_pairs(actor=actor, pairs=[(a0.pk, b0.pk)], assignee="me")
    decide_pair(actor=actor, a=a1, b=b1, decision="deferred", note="ask the clinic")
    decide_pair(actor=actor, a=a2, b=b2, decision="not-duplicate", note="cousins")
    merge_patients(actor=actor, survivor=a3, retired=b3, reason="same woman")
    status = {(r.left_id, r.right_id): r for r in page(manager, now, status="all",
                                                       per_page=50).rows}  # fmt: skip
    assert status[(a0.pk, b0.pk)].status == "assigned"
    assert status[(a1.pk, b1.pk)].status == "deferred"
    assert status[(a2.pk, b2.pk)].status_label == "Resolved"
    assert status[(a2.pk, b2.pk)].resolution_label == "not a duplicate"
    assert status[(a2.pk, b2.pk)].decision.decided_by == "mgr1"
    assert status[(a3.pk, b3.pk)].resolution == "merged"
    assert status[(a3.pk, b3.pk)].merge.merged_by == "mgr1"
    assert page(manager, now).total == ALL - 2  # unresolved: the default
    assert page(manager, now, status="resolved").total == 2
    assert page(manager, now, status="deferred").total == 1


def test_a_not_a_duplicate_lapses_when_the_data_changes(worklist, manager):
    run, pairs, now = worklist
    actor = factories.actor(manager)
    a, b = pairs["north"][5]
    decide_pair(actor=actor, a=a, b=b, decision="not-duplicate", note="sisters")
    assert reopen_lapsed(actor=actor, run=run) == 0  # nothing changed
    assert page(manager, now, status="resolved").total == 1
    b.birth_date = date(1999, 9, 9)
    b.save(update_fields=["birth_date"])
    assert reopen_lapsed(actor=actor, run=run) == 1
    assert page(manager, now, status="resolved").total == 0
    lapsed = AuditEvent.objects.filter(action="mpi.pair_decision",
                                       detail__contains="lapsed")  # fmt: skip
    assert lapsed.count() == 2


def test_scan_now_is_queued_once_and_the_worker_runs_it(
    worklist, manager, north_him, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    run, pairs, now = worklist
    assert scan_requests.may_scan(manager) and not scan_requests.may_scan(north_him)
    with pytest.raises(PermissionDenied, match="every facility in your scope"):
        scan_requests.request_scan(actor=factories.actor(north_him))
    with django_capture_on_commit_callbacks(execute=True):
        first, new = scan_requests.request_scan(actor=factories.actor(manager))
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("linkage.tasks.scan_task")
    assert queued.args_kwargs["args"] == [str(first.pk)]
    again, new_again = scan_requests.request_scan(actor=factories.actor(manager))
    assert new and not new_again and again.pk == first.pk
    state = scan_requests.scan_state()
    assert state.active.pk == first.pk and state.active.status == "queued"
    assert scan_requests.run_request(str(first.pk)) == "finished"
    first.refresh_from_db()
    assert first.status == "finished" and first.active is None
    assert first.run.status == "finished" and first.run.records == 2 * ALL
    assert first.progress == f"found {first.run.stored_pairs:,} pairs"
    state = scan_requests.scan_state()
    assert state.active is None and state.last.pk == first.run_id
    assert AuditEvent.objects.filter(action="mpi.scan_request").count() == 1
    # the new scan is the worklist now; the next request is a new one
    assert page(manager, timezone.now()).run.pk == first.run_id
    assert scan_requests.request_scan(actor=factories.actor(manager))[1] is True


def test_a_scan_whose_worker_died_is_marked_failed(db, manager):
    req = ScanRequest.objects.create(requested_at=timezone.now(), requested_by="x",
                                     status="running", host="elsewhere",
                                     started_at=timezone.now() - timedelta(hours=2),
                                     heartbeat_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    state = scan_requests.scan_state()
    req.refresh_from_db()
    assert state.active is None and req.status == "failed"
    assert req.error.startswith("no progress since")
    assert scan_requests.request_scan(actor=Actor(user=manager))[1] is True
