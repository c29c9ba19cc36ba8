"""The accounting of disclosures a patient may ask for (R-AOD), its request log
(60 days, one extension, the first in twelve months free) and the PDF letter."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.merge import merge_patients
from recordroom.release import accounting_requests as ar
from recordroom.release import disclosures as ds
from recordroom.release.accounting import accounting, suspend_accounting, years_before
from recordroom.release.models import FeeSchedule
from tests import factories
from tests.factories import facility_today

TODAY = facility_today()


def disclose(actor, patient, days_ago, recipient="Illinois Department of Public Health",
             basis="public-health", **over):  # fmt: skip
    base = dict(
        actor=actor, patient=patient, disclosed_at=TODAY - timedelta(days=days_ago),
        recipient_name=recipient, recipient_address="535 W Jefferson St, Springfield",
        description=f"Laboratory report ({days_ago} days ago)",
        purpose="Mandatory report of a notifiable disease", legal_basis=basis,
    )  # fmt: skip
    base.update(over)
    return ds.record_disclosure(**base)


def listed(patient, **kw):
    return [e.description for e in accounting(patient=patient, as_of=TODAY, **kw)]


def test_r_aod_1_six_years_back_or_the_shorter_period_asked(roi_actor, patient):
    six = (TODAY - years_before(TODAY, 6)).days
    disclose(roi_actor, patient, six + 3)
    disclose(roi_actor, patient, six - 3)
    disclose(roi_actor, patient, 400)
    disclose(roi_actor, patient, 10)
    assert listed(patient) == [f"Laboratory report ({d} days ago)"
                               for d in (six - 3, 400, 10)]  # fmt: skip
    assert listed(patient, period_start=TODAY - timedelta(days=365)) == [
        "Laboratory report (10 days ago)"]  # fmt: skip
    with pytest.raises(ValidationFailed, match="at most the six years"):
        accounting(patient=patient, as_of=TODAY, period_start=years_before(TODAY, 7))


def test_r_aod_2_excluded_kinds_are_left_out(roi_actor, patient):
    disclose(roi_actor, patient, 30, recipient="Dr. Ada Park", basis="treatment",
             description="sent for follow-up care")  # fmt: skip
    disclose(roi_actor, patient, 29, recipient="Kim & Lee LLP", basis="authorization",
             description="under the patient's authorization")  # fmt: skip
    disclose(roi_actor, patient, 28, recipient="Jane Doe", basis="individual",
             description="the patient's own copy")  # fmt: skip
    disclose(roi_actor, patient, 27, recipient="US Marshals", basis="custody",
             description="custody")  # fmt: skip
    disclose(roi_actor, patient, 26, recipient="Cook County Circuit Court",
             basis="court-order", description="order of 2026-10-01")  # fmt: skip
    disclose(roi_actor, patient, 25, recipient="Wrong Fax Inc", basis="impermissible",
             description="misdirected fax")  # fmt: skip
    assert listed(patient) == ["order of 2026-10-01", "misdirected fax"]


def test_r_p2_8_part2_consent_disclosures_are_listed_for_three_years(
    roi_actor, patient, settings
):
    three = (TODAY - years_before(TODAY, 3)).days
    for days, what in ((three + 5, "old consent"), (three - 5, "recent consent")):
        disclose(roi_actor, patient, days, recipient="Recovery Works", part2=True,
                 basis="authorization", description=what)  # fmt: skip
    # a court-ordered Part 2 disclosure is a HIPAA one too: six years (R-AOD-1)
    disclose(roi_actor, patient, three + 30, recipient="Cook County Circuit Court",
             part2=True, basis="court-order", description="2.64 order")  # fmt: skip
    disclose(roi_actor, patient, 20, recipient="Recovery Works", part2=True,
             basis="treatment", description="TPO under consent")  # fmt: skip
    disclose(roi_actor, patient, 19, recipient="Kim & Lee LLP", basis="authorization",
             description="non-Part 2 authorization")  # fmt: skip
    assert listed(patient) == ["2.64 order", "recent consent"]
    settings.ROI_PART2_TPO_ACCOUNTING = True  # 2.25(b), tolled: off by default
    assert listed(patient) == ["2.64 order", "recent consent", "TPO under consent"]


def test_r_aod_3_a_written_suspension_hides_the_agencys_entries_for_its_period(
    roi_actor, patient
):
    disclose(roi_actor, patient, 40, recipient="Office of Inspector General",
             basis="oversight", description="audit sample")  # fmt: skip
    disclose(roi_actor, patient, 39, description="pertussis report")
    suspend_accounting(
        actor=roi_actor, patient=patient, agency="office of inspector  general",
        written=True, statement="Letter of 2026-11-01 from Special Agent R. Diaz: an "
        "accounting would impede the investigation until 2027-01-31",
        starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=60),
    )  # fmt: skip
    assert listed(patient) == ["pertussis report"]
    later = TODAY + timedelta(days=61)
    assert [e.description for e in accounting(patient=patient, as_of=TODAY, on=later)
            ] == ["audit sample", "pertussis report"]  # fmt: skip
    event = AuditEvent.objects.filter(action="release.accounting_suspend").get()
    assert json.loads(event.detail)["ends_on"] == str(TODAY + timedelta(days=60))


def test_r_aod_3_an_oral_suspension_lasts_at_most_30_days(roi_actor, patient):
    row = suspend_accounting(
        actor=roi_actor, agency="Springfield Police Department", written=False,
        statement="Det. Moore by phone, badge 4411", starts_on=TODAY,
        ends_on=TODAY + timedelta(days=90),
    )  # fmt: skip
    assert row.ends_on == TODAY + timedelta(days=30) and row.patient is None
    with pytest.raises(ValidationFailed, match="time for which the suspension"):
        suspend_accounting(actor=roi_actor, agency="OIG", written=True,
                           statement="letter", starts_on=TODAY)  # fmt: skip


def test_r_aod_4_entries_carry_date_recipient_address_what_and_basis(
    roi_actor, patient
):
    disclose(roi_actor, patient, 12, recipient="Sangamon County Coroner",
             basis="coroner", recipient_address="", description="autopsy request",
             purpose="Death investigation")  # fmt: skip
    (entry,) = accounting(patient=patient, as_of=TODAY)
    assert entry.disclosed_on == TODAY - timedelta(days=12)
    assert entry.recipient_name == "Sangamon County Coroner"
    assert (
        entry.description == "autopsy request"
        and entry.purpose == "Death investigation"
    )
    assert (
        entry.basis
        == "Coroner, medical examiner or funeral director (45 CFR 164.512(g))"
    )


def test_r_aod_4_repeated_disclosures_to_one_recipient_may_be_summarised(
    roi_actor, patient
):
    for days in (90, 60, 30):
        disclose(roi_actor, patient, days)
    disclose(roi_actor, patient, 45, recipient="OSHA", basis="required-by-law",
             purpose="Workplace injury log")  # fmt: skip
    full = accounting(patient=patient, as_of=TODAY)
    assert len(full) == 4
    short = accounting(patient=patient, as_of=TODAY, summarise=True)
    assert [(e.recipient_name, e.count, e.disclosed_on, e.last_on) for e in short] == [
        ("Illinois Department of Public Health", 3, TODAY - timedelta(days=90),
         TODAY - timedelta(days=30)),
        ("OSHA", 1, TODAY - timedelta(days=45), None),
    ]  # fmt: skip


def test_the_survivors_accounting_includes_records_merged_into_it(
    roi_actor, patient, facility
):
    dup = factories.patient(facility=facility, family="Nunez", given="Jose")
    disclose(roi_actor, dup, 50, description="reported under the duplicate")
    disclose(roi_actor, patient, 40, description="reported under the survivor")
    merge_patients(actor=roi_actor, survivor=patient, retired=dup,
                   reason="same person: duplicate registration")  # fmt: skip
    assert listed(patient) == ["reported under the duplicate",
                               "reported under the survivor"]  # fmt: skip


def test_a_corrected_entry_shows_as_corrected_and_a_retracted_one_not_at_all(
    roi_actor, patient
):
    wrong = disclose(roi_actor, patient, 20, description="wrong description")
    ds.correct(actor=roi_actor, entry=wrong, note="typo", description="right one")
    mistaken = disclose(roi_actor, patient, 10, description="never sent")
    ds.correct(actor=roi_actor, entry=mistaken, note="fax failed", retracted=True)
    (entry,) = accounting(patient=patient, as_of=TODAY)
    assert entry.description == "right one" and entry.corrected


def test_r_aod_5_due_in_60_days_with_one_30_day_extension(roi_actor, patient):
    req = ar.log_accounting_request(actor=roi_actor, patient=patient,
                                    received_on=TODAY - timedelta(days=5),
                                    requested_by="José Núñez")  # fmt: skip
    assert req.due_on == TODAY + timedelta(days=55)
    assert (req.period_start, req.period_end) == (
        years_before(TODAY - timedelta(days=5), 6),
        TODAY - timedelta(days=5),
    )
    with pytest.raises(ValidationFailed, match="reason for the delay"):
        ar.extend_accounting(actor=roi_actor, accounting_request=req, reason="")
    ar.extend_accounting(actor=roi_actor, accounting_request=req,
                         reason="records from the closed clinic are in storage")  # fmt: skip
    assert req.extended_to == TODAY + timedelta(days=85)
    with pytest.raises(ValidationFailed, match="already taken"):
        ar.extend_accounting(actor=roi_actor, accounting_request=req, reason="again")
    late = ar.log_accounting_request(actor=roi_actor, patient=patient,
                                     received_on=TODAY - timedelta(days=61),
                                     requested_by="José Núñez")  # fmt: skip
    with pytest.raises(ValidationFailed, match="must be given within them"):
        ar.extend_accounting(actor=roi_actor, accounting_request=late, reason="late")


def test_r_aod_6_the_first_in_twelve_months_is_free_a_later_one_costs(
    roi_actor, patient
):
    first = ar.log_accounting_request(actor=roi_actor, patient=patient,
                                      received_on=TODAY - timedelta(days=200),
                                      requested_by="José Núñez")  # fmt: skip
    second = ar.log_accounting_request(actor=roi_actor, patient=patient,
                                       received_on=TODAY, requested_by="José Núñez")  # fmt: skip
    assert (first.fee_cents, second.fee_cents) == (0, 1000)
    with pytest.raises(ValidationFailed, match=r"fee \(\$10.00.*R-AOD-6"):
        ar.produce_accounting(actor=roi_actor, accounting_request=second)
    ar.withdraw_accounting(actor=roi_actor, accounting_request=second,
                           note="declined the fee")  # fmt: skip
    with pytest.raises(ValidationFailed, match="withdrawn"):
        ar.produce_accounting(actor=roi_actor, accounting_request=second)
    FeeSchedule.objects.filter(code="accounting").update(electronic_flat_cents=1500)
    third = ar.log_accounting_request(actor=roi_actor, patient=patient,
                                      received_on=TODAY, requested_by="José Núñez")  # fmt: skip
    assert third.fee_cents == 1500  # a withdrawn one does not count; the first does
    ar.agree_fee(actor=roi_actor, accounting_request=third)
    assert ar.produce_accounting(actor=roi_actor, accounting_request=third).size > 0
    a_year_on = ar.accounting_fee(
        patient, TODAY - timedelta(days=200) + timedelta(days=366)
    )
    assert a_year_on == 1500  # `third` is within twelve months of that date


def test_the_accounting_is_produced_as_a_pdf_kept_encrypted_and_audited(
    roi_actor, patient, settings
):
    disclose(roi_actor, patient, 15, recipient="Cook County Circuit Court",
             basis="court-order", description="Emergency record of 2026-03-02",
             purpose="Order in case 26-L-0411")  # fmt: skip
    disclose(roi_actor, patient, 14, recipient="Dr. Ada Park", basis="treatment",
             description="follow-up")  # fmt: skip
    req = ar.log_accounting_request(actor=roi_actor, patient=patient, received_on=TODAY,
                                    requested_by="José Núñez")  # fmt: skip
    letter = ar.produce_accounting(actor=roi_actor, accounting_request=req)
    assert letter.kind == "accounting" and letter.request is None
    req.refresh_from_db()
    assert (req.entries, req.letter_id, req.produced_by) == (1, letter.pk, "roi1")
    pdf = ar.accounting_letter_bytes(letter)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Accounting of disclosures" in text and "José Núñez" in text
    assert "Cook County Circuit Court" in text and "Order in case 26-L-0411" in text
    assert "164.512(e)(1)(i)" in text and "Dr. Ada Park" not in text
    assert b"Cook County" not in default_store().path_for(letter.sha256).read_bytes()
    event = AuditEvent.objects.filter(action="release.accounting").get()
    assert event.patient_id == str(patient.pk)
    assert json.loads(event.detail)["entries"] == 1
    with pytest.raises(ValidationFailed, match="was produced on"):
        ar.produce_accounting(actor=roi_actor, accounting_request=req)


def test_a_request_on_a_merged_record_or_for_a_future_date_is_refused(
    roi_actor, patient, facility
):
    dup = factories.patient(facility=facility, family="Nunez", given="Jose")
    merge_patients(actor=roi_actor, survivor=patient, retired=dup, reason="same person")
    dup.refresh_from_db()
    with pytest.raises(ValidationFailed, match="was merged into"):
        ar.log_accounting_request(actor=roi_actor, patient=dup, received_on=TODAY,
                                  requested_by="Jose")  # fmt: skip
    with pytest.raises(ValidationFailed, match="in the future"):
        ar.log_accounting_request(actor=roi_actor, patient=patient,
                                  received_on=TODAY + timedelta(days=1),
                                  requested_by="Jose")  # fmt: skip
