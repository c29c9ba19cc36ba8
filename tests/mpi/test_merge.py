"""Merge and unmerge: everything moves, an old MRN still finds the chart, rules
refuse twins and junior/senior, and an unmerge restores every row exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.db import models

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import Conflict
from recordroom.mpi import relations
from recordroom.mpi.merge import merge_patients, unmerge
from recordroom.mpi.models import Patient, PatientIdentifier, PatientMerge, PatientName
from recordroom.mpi.search import PatientQuery, search_patients
from recordroom.mpi.services import NameIn
from recordroom.records.models import Condition, Document, Encounter, Procedure
from tests import factories

OWN = {"mpi.patient", "mpi.patientidentifier", "mpi.patientmerge", "mpi.patientsplit"}


@pytest.fixture
def pair(db, facility, other_facility):
    """One person registered twice: at NORTH (the survivor) and at SOUTH, with a
    typo in the surname and a visit, a document, a diagnosis and a procedure."""
    survivor = factories.patient(facility=facility, family="Okonkwo", given="Chidi",
                                 mrn="N500100", birth_date=date(1971, 5, 9), sex="male")  # fmt: skip
    dup = factories.patient(facility=other_facility, family="Okonkow", given="Chidi",
                            mrn="S900200", birth_date=date(1971, 9, 5), sex="male")  # fmt: skip
    enc = factories.encounter(patient=dup, facility=other_facility, account="S-ACC-1")
    factories.document(patient=dup, facility=other_facility, encounter=enc)
    Condition.objects.create(patient=dup, encounter=enc, code="E11.9",
                             code_system="http://hl7.org/fhir/sid/icd-10-cm",
                             display="Type 2 diabetes mellitus without complications")  # fmt: skip
    Procedure.objects.create(patient=dup, encounter=enc, code="40701008",
                             performed_start=datetime(2026, 3, 2, tzinfo=UTC))  # fmt: skip
    factories.encounter(patient=survivor, facility=facility, account="N-ACC-1")
    return survivor, dup


def _state(*patients):
    """Every row of every table that belongs to these patients, as values."""
    ids = [p.pk for p in patients]
    out = {"patient": sorted(Patient.objects.filter(pk__in=ids).values(), key=str)}
    for model in (
        PatientIdentifier,
        PatientName,
        Encounter,
        Document,
        Condition,
        Procedure,
    ):
        rows = model.objects.filter(patient__in=ids).order_by("pk").values()
        out[model._meta.label_lower] = list(rows)
    return out


@pytest.fixture
def him_all(db, facility, other_facility):
    return factories.actor(factories.user("mpi1", "him_specialist",
                                          facilities=[facility, other_facility]))  # fmt: skip


def test_merge_moves_everything_and_unmerge_restores_exactly(pair, him_all):
    survivor, dup = pair
    before = _state(survivor, dup)
    merge = merge_patients(actor=him_all, survivor=survivor, retired=dup,
                           reason="same person: typo in surname, day/month swapped",
                           take=("birth_date",))  # fmt: skip
    dup.refresh_from_db()
    survivor.refresh_from_db()
    assert dup.merged_into_id == survivor.pk
    assert survivor.birth_date == date(1971, 9, 5)  # taken from the retired record
    assert Encounter.objects.filter(patient=survivor).count() == 2
    assert Document.objects.filter(patient=survivor).count() == 1
    assert Condition.objects.get().patient_id == survivor.pk
    assert Procedure.objects.get().patient_id == survivor.pk
    # The old MRN finds the survivor's chart, ended as of the merge.
    old = PatientIdentifier.objects.get(value="S900200")
    assert old.patient_id == survivor.pk and old.period_end == date.today()
    hits = search_patients(user=him_all.user, query=PatientQuery(identifier="S900200"))
    assert [h.patient.pk for h in hits] == [survivor.pk]
    # ... and so does the old spelling of the name.
    hits = search_patients(user=him_all.user, query=PatientQuery(name="okonkow, chidi"))
    assert survivor.pk in [h.patient.pk for h in hits]
    events = AuditEvent.objects.filter(action="patient.merge")
    assert {e.patient_id for e in events} == {str(survivor.pk), str(dup.pk)}

    unmerge(actor=him_all, merge=merge, reason="registrar confirmed two different men")
    assert _state(survivor, dup) == before
    assert PatientMerge.objects.get().undone_by == "mpi1"
    with pytest.raises(Conflict, match="already undone"):
        unmerge(actor=him_all, merge=merge, reason="again")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"given": "Chika"}, "twins are two people"),
        ({"suffix": "Jr"}, "a junior and a senior are two people"),
        ({"ssn": True}, "two different SSNs"),
    ],
)
def test_rules_refuse_twins_juniors_and_two_ssns(db, facility, him_all, change, words):
    first = factories.patient(facility=facility, family="Adeyemi", given="Chidi",
                              birth_date=date(2001, 2, 3),
                              ssn="900-11-2222" if "ssn" in change else None)  # fmt: skip
    names = ()
    if "suffix" in change:
        names = (NameIn(family="Adeyemi", given="Chidi", suffix="Jr", use="alias"),)
    second = factories.patient(facility=facility, family="Adeyemi",
                               given=change.get("given", "Chidi"),
                               birth_date=date(2001, 2, 3),
                               ssn="900-33-4444" if "ssn" in change else None)  # fmt: skip
    if names:
        PatientName.objects.filter(patient=second, use="legal").update(suffix="Jr")
        PatientName.objects.filter(patient=first, use="legal").update(suffix="Sr.")
    with pytest.raises(Conflict, match=words):
        merge_patients(
            actor=him_all, survivor=first, retired=second, reason="looks alike"
        )
    assert Patient.objects.filter(merged_into__isnull=False).count() == 0


def test_every_row_pointing_at_a_patient_is_registered_or_kept(db):
    known = {r.label for r in relations.relations()} | set(relations.kept()) | OWN
    missing = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model is Patient:
                if model._meta.label_lower not in known:
                    missing.append(f"{model._meta.label_lower}.{f.name}")
    assert missing == [], (
        "register these in mpi.relations (or keep() them): " + ", ".join(missing)
    )


def test_fhir_shows_the_merge_as_patient_links(pair, him_all):
    from tests.interop.fhir.test_fhir_api import fhir_for

    survivor, dup = pair
    merge_patients(actor=him_all, survivor=survivor, retired=dup, reason="duplicate")
    api = fhir_for(him_all.user)
    retired = api.get(f"Patient/{dup.pk}").json()
    assert retired["active"] is False
    assert retired["link"] == [{"other": {"reference": f"Patient/{survivor.pk}"},
                                "type": "replaced-by"}]  # fmt: skip
    kept = api.get(f"Patient/{survivor.pk}").json()
    assert kept["link"] == [
        {"other": {"reference": f"Patient/{dup.pk}"}, "type": "replaces"}
    ]
