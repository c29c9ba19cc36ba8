"""R-SEC-2: reading the trail: filters, keyset pages in chain order, a patient's access
log newest first, and the NDJSON stream that reports what it sent."""

import json
from datetime import UTC, datetime

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.audit.queries import (
    MAX_PAGE,
    EventFilters,
    event_page,
    matching_events,
    patient_access_log,
    patient_events,
    stream_ndjson,
)
from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

CLERK = Actor(channel="test", name="clerk")
NURSE = Actor(channel="test", name="nurse")
PATIENT = "01890000-0000-7000-8000-00000000000a"
OTHER = "01890000-0000-7000-8000-00000000000b"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


@pytest.fixture
def trail(db):
    """Six events an hour apart: ids 1-6."""
    rows = [
        (CLERK, actions.PATIENT_SEARCH, None),
        (CLERK, actions.CHART_OPEN, PATIENT),
        (NURSE, actions.CHART_OPEN, OTHER),
        (NURSE, actions.DOCUMENT_VIEW, PATIENT),
        (CLERK, actions.CHART_OPEN, PATIENT),
        (NURSE, actions.PATIENT_SEARCH, None),
    ]
    specs = [
        EventSpec(
            actor, action.name, patient=patient, ts=_micros(T0) + n * 3600_000_000
        )
        for n, (actor, action, patient) in enumerate(rows)
    ]
    return record_many(specs)


def _ids(page):
    return [e.id for e in page.items]


def test_pages_come_in_chain_order_and_the_cursor_walks_to_the_end(trail):
    first = event_page(filters=EventFilters(), limit=4)
    assert _ids(first) == [1, 2, 3, 4] and first.next == 4
    rest = event_page(filters=EventFilters(), after=first.next, limit=4)
    assert _ids(rest) == [5, 6] and rest.next is None


def test_filters_combine(trail):
    by = EventFilters(action="chart.open", user="clerk")
    assert _ids(event_page(filters=by)) == [2, 5]
    assert _ids(event_page(filters=EventFilters(patient=PATIENT))) == [2, 4, 5]
    window = EventFilters(
        since=datetime(2025, 1, 6, 10, 0, tzinfo=UTC),
        until=datetime(2025, 1, 6, 13, 0, tzinfo=UTC),
    )
    assert _ids(event_page(filters=window)) == [2, 3, 4]  # until is exclusive


def test_times_without_a_zone_are_utc(trail):
    naive = EventFilters(since=datetime(2025, 1, 6, 13, 0))
    assert _ids(event_page(filters=naive)) == [5, 6]


def test_an_unknown_action_is_refused_by_name(trail):
    with pytest.raises(
        ValidationFailed, match="unknown audit action 'chart.peek'"
    ) as e:
        matching_events(EventFilters(action="chart.peek"))
    assert e.value.field == "action"


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1])
def test_a_limit_out_of_range_is_refused(trail, limit):
    with pytest.raises(ValidationFailed, match=f"limit {limit} is out of range"):
        event_page(filters=EventFilters(), limit=limit)
    with pytest.raises(ValidationFailed, match=f"limit {limit} is out of range"):
        patient_access_log(patient_id=PATIENT, limit=limit)


def test_filters_as_audited_name_only_what_was_set(db):
    wanted = EventFilters(action="chart.open", patient=PATIENT)
    assert wanted.as_audit() == {"action": "chart.open", "patient": PATIENT}
    assert EventFilters().as_audit() == {}


def test_a_patients_access_log_is_newest_first_and_only_theirs(trail):
    first = patient_access_log(patient_id=PATIENT, limit=2)
    assert _ids(first) == [5, 4] and first.next == 4
    rest = patient_access_log(patient_id=PATIENT, after=first.next, limit=2)
    assert _ids(rest) == [2] and rest.next is None
    assert [e.id for e in patient_events(PATIENT)] == [2, 4, 5]


def test_the_ndjson_stream_reports_how_much_it_sent(trail):
    ended = []
    lines = list(
        stream_ndjson(patient_events(OTHER), on_end=lambda *a: ended.append(a))
    )
    (only,) = [json.loads(line) for line in lines]
    assert (only["id"], only["subtype"][0]["code"]) == ("3", "chart.open")
    assert ended == [(1, True)]
    stream = stream_ndjson(AuditEvent.objects.all(), on_end=lambda *a: ended.append(a))
    next(stream)
    stream.close()  # the client went away after one line
    assert ended[-1] == (1, False)


def test_a_scoped_reader_sees_no_events_about_other_facilities_records(
    db, patient, facility, other_facility
):
    from recordroom.audit.queries import patient_access_log
    from tests import factories

    factories.document(patient=patient, facility=facility)
    factories.document(patient=patient, facility=other_facility)
    everything = patient_access_log(patient_id=patient.pk).items
    scoped = patient_access_log(patient_id=patient.pk, facility_ids=[facility.pk]).items
    hidden = {e.id for e in everything} - {e.id for e in scoped}
    assert [e.facility_id for e in everything if e.id in hidden] == [
        str(other_facility.pk)
    ]
    assert any(e.facility_id == "" for e in scoped)  # the patient's own registration
