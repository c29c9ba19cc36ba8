"""One clock for the legal record: the release desk dates and counts on the
facility's calendar (DESIGN rule 8), across midnight, month ends, leap days and
daylight-saving changes (R-ACC-2, R-AOD-5); a letter never promises a date gone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from recordroom.kernel import clock
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Facility
from recordroom.release import accounting_requests as acc
from recordroom.release import letters, packets, scope
from recordroom.release import requests as rq
from tests.release.authorizing import pdf_text
from tests.release.conftest import request_in
from tests.release.makers import file_doc, page_texts

# 23:30 on Sunday December 6 in New York is 04:30 on Monday December 7 in UTC
EVENING = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)


def test_r_acc_2_a_request_received_late_in_the_evening_is_dated_that_evening(
    roi_actor, patient
):
    with clock.frozen(EVENING):
        with pytest.raises(ValidationFailed, match="2026-12-07 is in the future"):
            rq.log_request(actor=roi_actor,
                           data=request_in(patient, received_on=date(2026, 12, 7)))  # fmt: skip
        req = rq.log_request(actor=roi_actor,
                             data=request_in(patient, received_on=date(2026, 12, 6)))  # fmt: skip
    # 30 calendar days after December 6, not after the UTC date
    assert req.due_on == date(2027, 1, 5)


def test_r_acc_2_leap_day_and_month_ends_count_as_calendar_days(roi_actor, patient):
    # 23:30 on February 29, 2028 in New York
    with clock.frozen(datetime(2028, 3, 1, 4, 30, tzinfo=UTC)):
        req = rq.log_request(actor=roi_actor,
                             data=request_in(patient, received_on=date(2028, 2, 29)))  # fmt: skip
    assert req.due_on == date(2028, 3, 30)
    with clock.frozen(datetime(2028, 3, 1, 4, 30, tzinfo=UTC)):
        rq.extend(actor=roi_actor, req=req, reason="the records are off site")
    assert req.extended_to == date(2028, 4, 29)


def test_r_acc_2_the_worklist_counts_days_in_each_facility(roi_actor, patient):
    with clock.frozen(datetime(2026, 11, 6, 17, tzinfo=UTC)):
        req = rq.log_request(actor=roi_actor,
                             data=request_in(patient, received_on=date(2026, 11, 6)))  # fmt: skip
    assert req.due_on == date(2026, 12, 6)
    with clock.frozen(EVENING):  # still December 6 at the facility: due today
        [item] = rq.worklist(user=roi_actor.user)
        assert (item.days_left, item.overdue, item.age_days) == (0, False, 30)
    with clock.frozen(datetime(2026, 12, 7, 5, 0, tzinfo=UTC)):  # midnight there
        [item] = rq.worklist(user=roi_actor.user)
        assert (item.days_left, item.overdue) == (-1, True)


def test_an_overdue_requests_letter_says_it_is_overdue_instead_of_a_past_date(
    roi_actor, patient
):
    with clock.frozen(datetime(2026, 10, 30, 15, tzinfo=UTC)):
        req = rq.log_request(actor=roi_actor,
                             data=request_in(patient, received_on=date(2026, 10, 30)))  # fmt: skip
        text = pdf_text(letters.letter_bytes(
            letters.render_letter(actor=roi_actor, req=req, kind="acknowledgment")))  # fmt: skip
    assert "We will respond by November 29, 2026" in text
    with clock.frozen(EVENING):
        text = pdf_text(letters.letter_bytes(
            letters.render_letter(actor=roi_actor, req=req, kind="acknowledgment")))  # fmt: skip
    assert "December 6, 2026" in text  # the letter's date, on the facility's calendar
    assert "We will respond by" not in text
    assert "overdue: it was due by November 29, 2026" in text


def test_the_packet_stamp_cover_letter_and_index_show_one_date(
    roi_actor, make_request, patient, facility
):
    # a visit at 21:00 on December 1 in New York is 02:00 UTC on December 2
    doc = file_doc(patient=patient, facility=facility, title="Late visit note")
    doc.service_start = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    doc.save(update_fields=["service_start"])
    with clock.frozen(EVENING):
        req = make_request(patient, requester_name="Jane Doe")
        scope.select_documents(actor=roi_actor, req=req)
        pdf = packets.packet_bytes(packets.build_packet(actor=roi_actor, req=req))
    texts = page_texts(pdf)
    assert "Released to Jane Doe on 12/06/2026" in texts[0]
    assert "December 6, 2026" in " ".join(texts[0].split())  # the cover letter
    assert "December 7" not in texts[0]
    assert "12/01/2026" in texts[1] and "12/02/2026" not in texts[1]  # the index


def test_r_acc_2_a_date_range_ends_at_local_midnight_across_the_dst_change(
    roi_actor, make_request, patient, facility
):
    # New York springs forward on March 8, 2026: that day ends at 04:00 UTC
    inside = file_doc(patient=patient, facility=facility, title="Inside")
    outside = file_doc(patient=patient, facility=facility, title="Outside")
    inside.service_start = datetime(2026, 3, 9, 3, 59, tzinfo=UTC)  # 23:59 EDT
    outside.service_start = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # 00:00 March 9
    for d in (inside, outside):
        d.save(update_fields=["service_start"])
    req = make_request(patient, entire_record=False, date_from=date(2026, 3, 8),
                       date_to=date(2026, 3, 8))  # fmt: skip
    assert list(scope.asked_for(req, roi_actor.user)) == [inside]


def test_r_acc_2_a_honolulu_facility_counts_in_its_own_zone(roi_actor, patient):
    Facility.objects.filter(code="NORTH").update(timezone="Pacific/Honolulu")
    # 20:00 on December 6 in Honolulu is 06:00 on December 7 in UTC and 01:00 in NY
    with clock.frozen(datetime(2026, 12, 7, 6, 0, tzinfo=UTC)):
        with pytest.raises(ValidationFailed, match="in the future"):
            rq.log_request(actor=roi_actor,
                           data=request_in(patient, received_on=date(2026, 12, 7)))  # fmt: skip


def test_r_aod_5_an_accounting_request_is_due_on_the_facilitys_calendar(
    roi_actor, patient
):
    with clock.frozen(EVENING):
        with pytest.raises(ValidationFailed, match="in the future"):
            acc.log_accounting_request(
                actor=roi_actor, patient=patient, received_on=date(2026, 12, 7),
                requested_by="José Núñez")  # fmt: skip
        req = acc.log_accounting_request(
            actor=roi_actor, patient=patient, received_on=date(2026, 12, 6),
            requested_by="José Núñez")  # fmt: skip
    assert req.due_on == date(2027, 2, 4)  # 60 calendar days
