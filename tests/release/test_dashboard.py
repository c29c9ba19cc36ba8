"""The desk's measures for a manager, scoped to the user's facilities."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from recordroom.release import fees
from recordroom.release.dashboard import measures, percentile
from recordroom.release.models import ReleaseRequest
from tests import factories
from tests.factories import facility_today

TODAY = facility_today()


def at(day: date) -> datetime:
    return datetime.combine(day, time(15), tzinfo=UTC)


def released(make_request, patient, received_days_ago, took, **over):
    req = make_request(patient, received_on=TODAY - timedelta(days=received_days_ago),
                       **over)  # fmt: skip
    closed = TODAY - timedelta(days=received_days_ago - took)
    ReleaseRequest.objects.filter(pk=req.pk).update(status="released",
                                                    closed_at=at(closed))  # fmt: skip
    return req


def test_percentiles_interpolate_like_postgresql():
    assert percentile([], 0.5) is None
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9.1


def test_open_requests_by_status_and_age_and_overdue(
    make_request, patient, roi, roi_actor, other_facility
):
    make_request(patient, received_on=TODAY - timedelta(days=3))
    make_request(patient, received_on=TODAY - timedelta(days=15))
    late = make_request(patient, received_on=TODAY - timedelta(days=45))
    ReleaseRequest.objects.filter(pk=late.pk).update(status="pending")
    extended = make_request(patient, received_on=TODAY - timedelta(days=35))
    ReleaseRequest.objects.filter(pk=extended.pk).update(
        extended_to=TODAY + timedelta(days=25)
    )  # not overdue: extended
    make_request(patient, received_on=TODAY - timedelta(days=90))  # 60 days late
    elsewhere = make_request(patient, received_on=TODAY - timedelta(days=80))
    ReleaseRequest.objects.filter(pk=elsewhere.pk).update(facility=other_facility)
    m = measures(roi)
    assert m.open_total == 5 and m.overdue == 2
    assert m.open_by_status["received"] == {
        "0-10 days": 1, "11-20 days": 1, "21-30 days": 0, "31-60 days": 1,
        "over 60 days": 1}  # fmt: skip
    assert m.open_by_status["pending"]["31-60 days"] == 1
    everywhere = factories.user("him.mgr", "him_manager", all_facilities=True)
    assert measures(everywhere).open_total == 6


def test_turnaround_releases_by_requester_type_and_revenue(
    make_request, patient, roi, roi_actor
):
    for received, took in ((20, 4), (30, 10), (40, 12), (50, 30)):
        released(make_request, patient, received, took)
    paid = released(make_request, patient, 60, 20, requester_type="attorney",
                    requester_name="Kim & Lee LLP", delivery="mail",
                    requester_address="1 Court Sq, Chicago IL 60602", format="paper")  # fmt: skip
    released(make_request, patient, 200, 5)  # released long ago: not counted
    m = measures(roi)
    assert m.released == 5 and m.median_days == 12.0
    assert m.p90_days == 26.0  # between 20 and 30 days
    assert m.releases_by_requester_type == {"patient": 4, "attorney": 1}
    inv = fees.invoice(actor=roi_actor, req=paid, pages=10)
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=2000, method="check")
    old = at(TODAY.replace(day=1) - timedelta(days=40))
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=1000, method="check",
                        received_at=old)  # fmt: skip
    m = measures(roi)
    assert (m.revenue_month_cents, m.revenue_12_months_cents) == (2000, 3000)
