"""Auto-file rules: the most specific wins, one row per (source, type), every change
audited; a document files itself only above both thresholds with nothing flagged."""

from __future__ import annotations

import json
import uuid

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.capture.models import AutoFileRule, CaptureSource
from recordroom.capture.reading import decide
from recordroom.capture.reading.autofile import rule_for, set_rule
from recordroom.capture.types import PatientGuess, Proposal, TypeGuess
from recordroom.kernel.errors import ValidationFailed
from recordroom.records.models import DocumentType
from tests import factories


def proposal(patient=0.99, type_=0.95, code="18842-5", flags=()):
    return Proposal(
        patient=PatientGuess(uuid.uuid4(), patient, []),
        encounter_id=None,
        doc_type=TypeGuess(code, type_, []),
        service_date=None,
        values=[],
        flags=list(flags),
    )


@pytest.fixture
def fax(db):
    return CaptureSource.objects.create(name="fax-main", kind="fax")


@pytest.mark.django_db
def test_default_rule_is_seeded():
    rule = AutoFileRule.objects.get(source=None, doc_type=None)
    assert (rule.enabled, rule.min_patient, rule.min_type) == (True, 0.98, 0.90)


@pytest.mark.django_db
def test_default_thresholds(fax):
    assert decide(proposal(), source=fax).auto_file is True
    queued = decide(proposal(patient=0.97), source=fax)
    assert queued.auto_file is False
    assert queued.reasons == ["patient confidence 0.970 is below 0.980"]
    assert decide(proposal(type_=0.6), source=fax).reasons == [
        "type confidence 0.600 is below 0.900"
    ]


@pytest.mark.django_db
def test_most_specific_rule_wins(fax, him):
    actor = factories.actor(him)
    consent = DocumentType.objects.get(code="59284-0")
    discharge = DocumentType.objects.get(code="18842-5")
    set_rule(actor=actor, source=fax, min_patient=0.995, min_type=0.9)
    set_rule(actor=actor, doc_type=consent, min_patient=0.9, min_type=0.8)
    set_rule(
        actor=actor,
        source=fax,
        doc_type=discharge,
        enabled=False,
        min_patient=0.98,
        min_type=0.9,
    )
    scanner = CaptureSource.objects.create(name="scanner-2", kind="scanner")
    assert rule_for(fax, "18842-5").enabled is False  # source and type
    assert rule_for(fax, "11506-3").min_patient == 0.995  # source
    assert rule_for(scanner, "59284-0").min_patient == 0.9  # type
    assert rule_for(scanner, "11506-3").min_patient == 0.98  # default
    assert decide(proposal(code="18842-5"), source=fax).reasons == [
        "automatic filing is turned off for fax-main for 18842-5"
    ]
    assert decide(proposal(patient=0.99, code="11506-3"), source=fax).reasons == [
        "patient confidence 0.990 is below 0.995"
    ]
    assert decide(
        proposal(patient=0.95, type_=0.85, code="59284-0"), source=scanner
    ).auto_file


@pytest.mark.django_db
def test_one_row_per_pair_and_audited(fax, him):
    actor = factories.actor(him)
    set_rule(actor=actor, source=fax, min_patient=0.99, min_type=0.9)
    set_rule(actor=actor, source=fax, min_patient=0.985, min_type=0.92)
    rows = AutoFileRule.objects.filter(source=fax, doc_type=None)
    assert [(r.min_patient, r.min_type) for r in rows] == [(0.985, 0.92)]
    events = AuditEvent.objects.filter(action="capture.configure").order_by("pk")
    assert events.count() == 2
    assert json.loads(events.last().detail)["before"] == {
        "enabled": True,
        "min_patient": 0.99,
        "min_type": 0.9,
    }
    with pytest.raises(
        ValidationFailed, match="min_patient is a confidence between 0 and 1, got 1.5"
    ):
        set_rule(actor=actor, source=fax, min_patient=1.5, min_type=0.9)


@pytest.mark.django_db
def test_flags_queue_whatever_the_confidence(fax):
    d = decide(
        proposal(patient=1.0, type_=1.0, flags=["page 2 could not be read"]), source=fax
    )
    assert d.auto_file is False and d.reasons == ["page 2 could not be read"]


@pytest.mark.django_db
def test_no_patient_or_type(fax):
    p = Proposal(PatientGuess(None, 0.0, []), None, TypeGuess(None, 0.0, []), None, [])
    assert decide(p, source=fax).reasons == [
        "no patient found",
        "document type unknown",
    ]


@pytest.mark.django_db
def test_no_rule_at_all(fax):
    AutoFileRule.objects.all().delete()
    assert decide(proposal(), source=fax).reasons == [
        "no auto-file rule applies for fax-main"
    ]


def test_evidence_kept_for_the_indexer_and_for_retraining():
    from recordroom.capture.reading import evidence_json

    p = proposal(flags=["page 2 could not be read"])
    kept = evidence_json(p)
    assert kept["type_proposed"] == "18842-5"
    assert kept["flags"] == ["page 2 could not be read"]
    assert kept["candidates"] == []
