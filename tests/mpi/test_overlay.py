"""Overlays: the signs of two people in one chart, the worklist, and a split that
moves a visit with its documents to another patient and can be undone."""

from __future__ import annotations

from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import OverlayFlag, Patient, PatientIdentifier
from recordroom.mpi.overlay import (
    dismiss_flag,
    scan_overlays,
    split_patient,
    undo_split,
)
from recordroom.mpi.services import (
    IdentifierIn,
    NameIn,
    PatientIn,
    build_identifier,
    update_patient,
)
from recordroom.records.models import Condition, Document, Encounter
from tests import factories


@pytest.fixture
def actor(db, facility):
    return factories.actor(
        factories.user("ovl1", "him_specialist", facilities=[facility])
    )


def test_signs_of_two_people_are_flagged_once(actor, facility):
    two = factories.patient(facility=facility, family="Lindqvist", ssn="900-12-3456")
    build_identifier(two, IdentifierIn(kind="SS", value="900-65-4321")).save()
    rewritten = factories.patient(facility=facility, family="Baptiste",
                                  birth_date=date(1950, 3, 3))  # fmt: skip
    update_patient(
        actor=actor, patient=rewritten, changes={"birth_date": date(1994, 8, 1)}
    )
    dead = factories.patient(facility=facility, family="Moreau")
    update_patient(
        actor=actor, patient=dead, changes={"deceased_date": date(2020, 1, 1)}
    )
    factories.encounter(patient=dead, facility=facility, account="LATE-1", days_ago=30)
    fine = factories.patient(facility=facility, family="Ferreira")

    assert scan_overlays(actor=actor) == 3
    flags = {f.patient_id: f for f in OverlayFlag.objects.all()}
    assert flags[two.pk].kind == "two-ssns" and "…3456" in flags[two.pk].summary
    assert flags[rewritten.pk].kind == "identity-rewrite"
    assert "birth date 1950-03-03 -> 1994-08-01" in flags[rewritten.pk].summary
    assert flags[dead.pk].kind == "care-after-death"
    assert "LATE-1" in flags[dead.pk].summary
    assert fine.pk not in flags
    assert scan_overlays(actor=actor) == 0  # already on the worklist
    dismiss_flag(
        actor=actor, flag=flags[two.pk], note="mother's SSN entered in error, corrected"
    )
    assert scan_overlays(actor=actor) == 0  # the same evidence is not raised again
    assert AuditEvent.objects.filter(action="mpi.overlay_scan").count() == 3


def test_split_moves_a_visit_with_its_documents_and_undo_restores(actor, facility):
    chart = factories.patient(facility=facility, family="Nakamura", given="Emi")
    mine = factories.encounter(patient=chart, facility=facility, account="KEEP-1")
    theirs = factories.encounter(patient=chart, facility=facility, account="MOVE-1")
    doc = factories.document(patient=chart, facility=facility, encounter=theirs)
    Condition.objects.create(patient=chart, encounter=theirs, code="O80")
    flag = OverlayFlag.objects.create(patient=chart, kind="two-ssns", summary="test")
    split = split_patient(
        actor=actor, source=chart, move={"records.encounter": [theirs.pk]},
        reason="delivery visit belongs to her sister Yui", flag=flag,
        new_patient=PatientIn(names=[NameIn(family="Nakamura", given="Yui")],
                              birth_date=date(1992, 6, 1), sex="female",
                              identifiers=[IdentifierIn(kind="MR", value="N700001",
                                                        facility=facility)]),
    )  # fmt: skip
    sister = Patient.objects.get(identifiers__value="N700001")
    assert Encounter.objects.get(pk=theirs.pk).patient_id == sister.pk
    assert Document.objects.get(pk=doc.pk).patient_id == sister.pk  # followed its visit
    assert Condition.objects.get().patient_id == sister.pk
    assert Encounter.objects.get(pk=mine.pk).patient_id == chart.pk
    flag.refresh_from_db()
    assert flag.status == "split"
    assert AuditEvent.objects.filter(action="patient.split").count() == 2

    undo_split(
        actor=actor, split=split, reason="registration checked: one person after all"
    )
    assert Encounter.objects.filter(patient=chart).count() == 2
    assert Document.objects.get(pk=doc.pk).patient_id == chart.pk
    assert Condition.objects.get().patient_id == chart.pk
    flag.refresh_from_db()
    assert flag.status == "open"


def test_split_refuses_rows_of_another_chart_and_writes_nothing(actor, facility):
    chart = factories.patient(facility=facility, family="Okoro")
    other = factories.patient(facility=facility, family="Eze")
    foreign = factories.encounter(patient=other, facility=facility)
    with pytest.raises(ValidationFailed, match="not this patient's"):
        split_patient(actor=actor, source=chart, target=other,
                      move={"records.encounter": [foreign.pk]}, reason="x")  # fmt: skip
    with pytest.raises(
        ValidationFailed, match="choose an existing patient or register"
    ):
        split_patient(actor=actor, source=chart, move={"records.encounter": [foreign.pk]},
                      reason="x")  # fmt: skip
    assert Encounter.objects.get(pk=foreign.pk).patient_id == other.pk
    assert PatientIdentifier.objects.count() == 2


ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def test_impossible_sequences_and_sex_conflicting_care_are_flagged(actor, facility):
    unborn = factories.patient(facility=facility, family="Okafor",
                               birth_date=date.today())  # fmt: skip
    factories.encounter(
        patient=unborn, facility=facility, account="EARLY-1", days_ago=400
    )
    twice = factories.patient(facility=facility, family="Haddad",
                              birth_date=date(2024, 5, 1))  # fmt: skip
    for account in ("NB-1", "NB-2"):
        visit = factories.encounter(patient=twice, facility=facility, account=account,
                                    days_ago=100)  # fmt: skip
        Condition.objects.create(patient=twice, encounter=visit, code_system=ICD10,
                                 code="Z38.00")  # fmt: skip
    once = factories.patient(
        facility=facility, family="Silva", birth_date=date(2024, 5, 1)
    )
    visit = factories.encounter(patient=once, facility=facility, account="NB-3")
    Condition.objects.create(patient=once, encounter=visit, code_system=ICD10,
                             code="Z38.00")  # fmt: skip
    Condition.objects.create(patient=once, encounter=visit, code_system=ICD10,
                             code="P07.30")  # same stay: one birth  # fmt: skip
    him = factories.patient(facility=facility, family="Kowalski", sex="male")
    visit = factories.encounter(patient=him, facility=facility, account="OB-1")
    Condition.objects.create(
        patient=him, encounter=visit, code_system=ICD10, code="O80"
    )
    her = factories.patient(facility=facility, family="Novak", sex="female")
    visit = factories.encounter(patient=her, facility=facility, account="URO-1")
    Condition.objects.create(
        patient=her, encounter=visit, code_system=ICD10, code="N40.0"
    )
    # a recorded gender identity: such care can be the patient's own
    own = factories.patient(facility=facility, family="Reyes", sex="male")
    Patient.objects.filter(pk=own.pk).update(gender_identity="transgender man")
    visit = factories.encounter(patient=own, facility=facility, account="OB-2")
    Condition.objects.create(
        patient=own, encounter=visit, code_system=ICD10, code="O80"
    )

    scan_overlays(actor=actor)
    flags = {(f.patient_id, f.kind): f for f in OverlayFlag.objects.all()}
    assert "EARLY-1" in flags[(unborn.pk, "care-before-birth")].summary
    assert flags[(twice.pk, "two-births")].evidence["births"] == [
        "Z3800 on NB-1", "Z3800 on NB-2"]  # fmt: skip
    assert (
        flags[(him.pk, "sex-conflicting-care")].summary
        == "recorded male, coded: O80 (OB-1)"
    )
    assert flags[(her.pk, "sex-conflicting-care")].evidence["codes"] == ["N400 (URO-1)"]
    assert not any(pid in (once.pk, own.pk) for pid, _ in flags)
