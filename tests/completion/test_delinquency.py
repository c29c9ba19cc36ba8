"""R-RC-7: delinquent records, aging, and the delinquency rate by the Joint
Commission's historical method and the textbook one, with real counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from recordroom.completion import services
from recordroom.completion.delinquency import (
    aging,
    delinquency_rate,
    delinquent_providers,
    delinquent_records,
    periods,
)
from recordroom.completion.models import Deficiency, DeficiencyRule

from .charts import SYSTEM, visit

AS_OF = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
QUARTER_ENDS = [datetime(y, m, 1, tzinfo=UTC)
                for y, m in ((2026, 1), (2026, 4), (2026, 7), (2026, 10))]  # fmt: skip


def _deficient(enc, opened, closed=None):
    d = services.add_deficiency(actor=SYSTEM, encounter=enc, kind="signature",
                                description="Signature: progress note")  # fmt: skip
    Deficiency.objects.filter(pk=d.pk).update(
        opened_at=opened, assigned_at=opened, closed_at=closed,
        status="closed" if closed else "open",
    )  # fmt: skip
    return d


def _history(person, facility, attending):
    """12 discharges a quarter for the 4 quarters before AS_OF; 2, 3, 2 and 3
    records delinquent at the quarters' ends."""
    DeficiencyRule.objects.update(active=False)  # the hand-made history only
    delinquent = [2, 3, 2, 2]  # the last quarter's third is the one left open
    for q, end in enumerate(QUARTER_ENDS):
        start = datetime(end.year - (end.month == 1), (end.month - 4) % 12 + 1, 5,
                         8, tzinfo=UTC)  # fmt: skip
        for i in range(12):
            discharge = start + timedelta(days=i)
            if q == 3 and i == 11:  # 6 days before the quarter's end: not delinquent
                discharge = end - timedelta(days=6)
            enc = visit(patient=person, facility=facility, attending=attending,
                        admit=discharge - timedelta(days=2), discharge=discharge)  # fmt: skip
            if i < delinquent[q]:
                _deficient(enc, discharge + timedelta(days=1), end + timedelta(days=10))
            elif i == 11:  # closed before the end; the last quarter's too recent
                closed = end + timedelta(days=5 if q == 3 else -5)
                _deficient(enc, discharge + timedelta(days=1), closed)
            elif q == 3 and i == 5:  # still open today: delinquent since
                _deficient(enc, discharge + timedelta(days=1))


def test_r_rc_7_quarters_are_the_last_four_complete_ones():
    assert periods(as_of=AS_OF, frequency="quarterly", count=4) == [
        (datetime(2025, 10, 1, tzinfo=UTC), QUARTER_ENDS[0]),
        (QUARTER_ENDS[0], QUARTER_ENDS[1]),
        (QUARTER_ENDS[1], QUARTER_ENDS[2]),
        (QUARTER_ENDS[2], QUARTER_ENDS[3]),
    ]
    assert periods(as_of=AS_OF, frequency="monthly", count=2) == [
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
    ]


def test_r_rc_7_tjc_rate_is_average_delinquent_over_average_monthly_discharges(
    person, facility, attending
):
    _history(person, facility, attending)
    rate = delinquency_rate(as_of=AS_OF, method="tjc", frequency="quarterly", count=4)
    assert [(p.delinquent, p.discharges) for p in rate.periods] == [
        (2, 12), (3, 12), (2, 12), (3, 12)]  # fmt: skip
    assert rate.average_delinquent == Decimal("2.50")
    assert rate.average_monthly_discharges == Decimal("4.00")  # 48 over 12 months
    assert rate.rate_pct == Decimal("62.50")
    assert rate.threshold_pct == Decimal("50")
    assert rate.over_threshold is True
    # Per facility: another facility's records are not counted.
    from tests import factories

    south = factories.facility("SOUTH")
    empty = delinquency_rate(facility=south, as_of=AS_OF)
    assert empty.rate_pct is None and empty.notes == [
        "no discharges in the measured periods"
    ]


def test_r_rc_7_textbook_rate_and_the_30_day_line(person, facility, attending):
    _history(person, facility, attending)
    rate = delinquency_rate(as_of=AS_OF, method="textbook", frequency="quarterly")
    assert [(p.delinquent, p.discharges) for p in rate.periods] == [(3, 12)]
    assert rate.rate_pct == Decimal("25.00") and rate.over_threshold is False
    # The record discharged 6 days before the quarter's end is deficient, not delinquent.
    at_end = delinquent_records(at=QUARTER_ENDS[3], facility=facility)
    assert all(e.discharge_at <= QUARTER_ENDS[3] - timedelta(days=30) for e in at_end)


def test_r_rc_7_delinquent_providers_and_aging(person, facility, attending, settings):
    _history(person, facility, attending)
    rows = delinquent_providers(facility=facility, as_of=AS_OF)
    assert [(r.provider.pk, r.records, r.deficiencies) for r in rows] == [
        (attending.pk, 1, 1)]  # fmt: skip
    assert rows[0].oldest_discharge == datetime(2026, 7, 10, 8, tzinfo=UTC)
    recent = visit(patient=person, facility=facility, attending=attending,
                   admit=timezone.now() - timedelta(days=22),
                   discharge=timezone.now() - timedelta(days=20))  # fmt: skip
    d = _deficient(recent, timezone.now() - timedelta(days=19))
    d.refresh_from_db()
    age = aging(d)
    assert (age.days_since_discharge, age.days_since_assignment, age.level) == (
        20,
        19,
        1,
    )
    settings.COMPLETION_AGING_LEVELS = (10, 20)
    assert aging(d).level == 2
