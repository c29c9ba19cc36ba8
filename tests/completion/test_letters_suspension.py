"""R-RC-7: aging by discharge and assignment in the configured levels, the medical
staff office's suspension list, and letters to providers as PDFs and by e-mail
through a real local SMTP server, each one kept and audited."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from recordroom.audit.models import AuditEvent
from recordroom.completion import services
from recordroom.completion.letters import letter_pdf, run_letters
from recordroom.completion.models import Deficiency, DeficiencyRule, ProviderLetter
from recordroom.completion.suspension import aging_buckets, suspension_list
from tests import factories

from .charts import SYSTEM, visit
from .smtp import smtp_server

AS_OF = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())


def _open(enc, provider, *, days_assigned, text="Signature: discharge summary"):
    d = services.add_deficiency(actor=SYSTEM, encounter=enc, kind="signature",
                                description=text, provider=provider)  # fmt: skip
    at = AS_OF - timedelta(days=days_assigned)
    Deficiency.objects.filter(pk=d.pk).update(opened_at=at, assigned_at=at)
    return d


def _discharged(person, facility, attending, days_ago):
    at = AS_OF - timedelta(days=days_ago)
    return visit(patient=person, facility=facility, attending=attending,
                 admit=at - timedelta(days=2), discharge=at)  # fmt: skip


@pytest.fixture
def owing(db, person, facility, attending, surgeon, resident):
    """Alice: 2 records at 40 and 35 days (one item reassigned to her yesterday);
    Sam: one at 20 days; Ruth: one at 5 days (no letter yet)."""
    DeficiencyRule.objects.update(active=False)
    a1 = _discharged(person, facility, attending, 40)
    a2 = _discharged(person, facility, attending, 35)
    _open(a1, attending, days_assigned=39)
    _open(a1, attending, days_assigned=39, text="Co-signature: history and physical")
    _open(a2, attending, days_assigned=1, text="Signature: operative report")
    _open(_discharged(person, facility, surgeon, 20), surgeon, days_assigned=19)
    _open(_discharged(person, facility, resident, 5), resident, days_assigned=4)
    return {"alice": attending, "sam": surgeon, "ruth": resident}


def test_r_rc_7_aging_buckets_follow_the_configured_levels(owing, facility, settings):
    settings.COMPLETION_AGING_LEVELS = (15, 30)
    buckets = aging_buckets(facility=facility, as_of=AS_OF)
    assert [(b.label, b.since_discharge, b.since_assignment) for b in buckets] == [
        ("0 to 14 days", 1, 2), ("15 to 29 days", 1, 1), ("30+ days", 3, 2)]  # fmt: skip
    settings.COMPLETION_AGING_LEVELS = (7, 21, 35)
    buckets = aging_buckets(facility=facility, as_of=AS_OF)
    assert [b.since_discharge for b in buckets] == [1, 1, 0, 3]


def test_r_rc_7_suspension_list_counts_records_past_the_days_after_the_grace(
    owing, facility, settings
):
    settings.COMPLETION_SUSPENSION_DAYS = 30
    settings.COMPLETION_SUSPENSION_GRACE_DAYS = 3
    rows = suspension_list(facility=facility, as_of=AS_OF)
    # the 35-day record's only item was reassigned to Alice yesterday: not counted
    assert [(str(r.provider), r.records, r.deficiencies, r.days) for r in rows] == [
        ("Alice Attending, MD", 1, 2, 40)]  # fmt: skip
    settings.COMPLETION_SUSPENSION_GRACE_DAYS = 0
    settings.COMPLETION_SUSPENSION_DAYS = 15
    rows = suspension_list(facility=facility, as_of=AS_OF)
    assert [(r.provider.family, r.records) for r in rows] == [
        ("Attending", 2), ("Surgeon", 1)]  # fmt: skip


def test_r_rc_7_letters_are_pdfs_kept_and_audited_without_email(owing, facility,
                                                                 settings):  # fmt: skip
    settings.EMAIL_HOST = ""
    run = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    assert (len(run.written), run.sent, run.not_sent) == (2, 0, 2)
    letters = {lt.provider.family: lt for lt in run.written}
    assert set(letters) == {"Attending", "Surgeon"}  # Ruth is under 15 days
    alice = letters["Attending"]
    assert (alice.level, alice.records, alice.deficiencies, alice.status) == (
        "suspension", 2, 3, "written")
    assert letters["Surgeon"].level == "reminder"
    text = pdf_text(letter_pdf(alice))
    assert "Delinquent records: notice to the medical staff office" in text
    assert "2 records of patients discharged from North General Hospital" in text
    assert "Co-signature: history and physical" in text and "DOE, Jane" in text
    assert "R-RC" not in text and "COMPLETION_" not in text
    events = AuditEvent.objects.filter(action="completion.letter")
    assert events.count() == 2  # one per letter and patient (one patient here)
    # the same day again: nothing new
    again = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    assert (len(again.written), again.skipped) == (0, 2)
    assert ProviderLetter.objects.count() == 2


def test_r_rc_7_letters_go_by_email_through_smtp(owing, facility, settings):
    alice = owing["alice"]
    alice.user = factories.user("dr.alice", "provider", facilities=[facility])
    alice.user.email = "alice@north.example"
    alice.user.save()
    alice.save()
    with smtp_server(settings) as inbox:
        run = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    assert (run.sent, run.not_sent, run.failed) == (1, 1, 0)
    [mail] = inbox.messages
    assert mail["To"] == "alice@north.example"
    assert mail["Subject"].startswith("Delinquent records: notice")
    parts = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    attached = parts[0].get_payload(decode=True)
    sent = ProviderLetter.objects.get(provider=alice)
    assert attached == letter_pdf(sent) and sent.status == "sent" and sent.sent_at
    assert "Doe" not in mail.get_payload()[0].get_payload()  # no patient in the body
    event = AuditEvent.objects.get(action="completion.letter_send")
    assert (event.outcome, json.loads(event.detail)["to"]) == (
        "success", "alice@north.example")  # fmt: skip


def test_r_rc_7_a_refused_email_is_kept_as_failed_and_sent_again(owing, facility,
                                                                  settings):  # fmt: skip
    alice = owing["alice"]
    alice.user = factories.user("dr.alice", "provider", facilities=[facility])
    alice.user.email = "alice@north.example"
    alice.user.save()
    alice.save()
    with smtp_server(settings, refuse=True):
        run = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    letter = ProviderLetter.objects.get(provider=alice)
    assert (run.failed, letter.status) == (1, "failed")
    assert "mailbox unavailable" in letter.error
    assert AuditEvent.objects.get(action="completion.letter_send").outcome == "failure"
    with smtp_server(settings) as inbox:
        again = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    letter.refresh_from_db()
    assert (again.sent, len(again.written), letter.status) == (1, 0, "sent")
    assert len(inbox.messages) == 1


def test_r_rc_7_cli_letters_and_suspension_list(owing, facility, settings, tmp_path):
    from typer.testing import CliRunner

    from recordroom.cli.app import app

    settings.EMAIL_HOST = ""
    settings.COMPLETION_SUSPENSION_GRACE_DAYS = 0
    runner = CliRunner()
    listed = runner.invoke(app, ["completion", "suspension", "--facility", "north",
                                 "--csv", str(tmp_path / "s.csv"), "--pdf",
                                 str(tmp_path / "s.pdf")], catch_exceptions=False)  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert "Suspension list: 1 providers" in listed.output
    assert "Alice" in listed.output and "Surgeon" not in listed.output
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith(
        "NORTH,\"Alice Attending, MD\"")
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    written = runner.invoke(app, ["completion", "letters"], catch_exceptions=False)
    assert written.exit_code == 0, written.output
    assert "2 letters written" in written.output
    assert "0 sent, 0 failed, 2 to print, 0 already done today" in written.output
    assert "RECORDROOM_EMAIL_HOST is not set" in written.output
    bad = runner.invoke(app, ["completion", "letters", "--facility", "nowhere"])
    assert bad.exit_code == 1 and "no facility 'nowhere'" in bad.output


def test_r_rc_7_one_letter_a_day_on_the_facility_calendar(owing, facility, settings):
    settings.EMAIL_HOST = ""
    facility.timezone = "America/Chicago"
    facility.save()
    first = run_letters(actor=SYSTEM, facility=facility, as_of=AS_OF)
    # 03:00 UTC the next day is still 21:00 the same day in Chicago
    evening = run_letters(actor=SYSTEM, facility=facility,
                          as_of=AS_OF + timedelta(hours=15))  # fmt: skip
    assert (len(first.written), len(evening.written), evening.skipped) == (2, 0, 2)
    morning = run_letters(actor=SYSTEM, facility=facility,
                          as_of=AS_OF + timedelta(hours=24))  # fmt: skip
    assert len(morning.written) == 2
