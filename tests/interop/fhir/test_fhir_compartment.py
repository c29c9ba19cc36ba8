"""Patient/$everything and _include: the chart as one Bundle, within scope."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import Patient
from tests import factories
from tests.interop.fhir.test_fhir_api import fhir_for
from tests.interop.fhir.test_fhir_write import api, visit_bundle  # noqa: F401


def test_everything_returns_the_chart_with_who_and_where(api, facility):  # noqa: F811
    api.send("post", "", visit_bundle(facility))
    p = Patient.objects.get()
    resp = api.get(f"Patient/{p.pk}/$everything")
    assert resp.status_code == 200
    body = resp.json()
    Bundle.model_validate(body)
    kinds = sorted(e["resource"]["resourceType"] for e in body["entry"])
    assert kinds == [
        "Condition",
        "DocumentReference",
        "Encounter",
        "Patient",
        "Procedure",
    ]
    assert body["total"] == 5
    only = api.get(f"Patient/{p.pk}/$everything", _type="Condition,Procedure").json()
    assert sorted(e["resource"]["resourceType"] for e in only["entry"]) == [
        "Condition",
        "Procedure",
    ]
    event = AuditEvent.objects.filter(action="chart.open", patient_id=str(p.pk)).latest(
        "id"
    )
    assert "$everything" in event.detail
    assert (
        api.get(f"Patient/{p.pk}/$everything", _type="Frobnicator").status_code == 400
    )


def test_everything_outside_your_facilities_is_not_found(api, facility, other_facility):  # noqa: F811
    api.send("post", "", visit_bundle(facility))
    p = Patient.objects.get()
    stranger = factories.user("south1", "him_specialist", facilities=[other_facility])
    assert fhir_for(stranger).get(f"Patient/{p.pk}/$everything").status_code == 404


def test_include_brings_the_patient_and_encounter(api, facility):  # noqa: F811
    api.send("post", "", visit_bundle(facility))
    body = api.get(
        "Condition", _include=["Condition:patient", "Condition:encounter"]
    ).json()
    modes = sorted(
        (e["search"]["mode"], e["resource"]["resourceType"]) for e in body["entry"]
    )
    assert modes == [
        ("include", "Encounter"),
        ("include", "Patient"),
        ("match", "Condition"),
    ]
    # `subject` is `patient` on Condition (a search parameter and an include).
    subject = api.get("Condition", _include="Condition:subject").json()
    assert ("include", "Patient") in {
        (e["search"]["mode"], e["resource"]["resourceType"]) for e in subject["entry"]
    }
    bad = api.get("Condition", _include="Condition:asserter")
    assert bad.status_code == 400
    assert "Condition:encounter" in bad.json()["issue"][0]["diagnostics"]
