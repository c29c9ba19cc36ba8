"""Search before create over the API: ranked candidates with probability and
evidence, only from the caller's facilities, nothing written, audited."""

from __future__ import annotations

import json

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import Patient
from tests.api.test_patients import NEW_PATIENT


def test_a_near_duplicate_registration_finds_the_record(him_api, facility):
    assert him_api.post("/patients", NEW_PATIENT).status_code == 201
    kept = Patient.objects.get()
    incoming = {
        "names": [{"family": "Lindquist", "given": "Maja"}],  # a typo, no middle
        "birth_date": "1972-11-30",
        "sex": "female",
        "identifiers": [{"kind": "SS", "value": "987-65-4321"}],
    }
    resp = him_api.post("/patient-matches", incoming)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["count"] >= 1
    top = body["items"][0]
    assert top["patient_id"] == str(kept.pk)
    # The evidence, field by field: the birth date agrees exactly and the surname
    # closely (a typo), each adding weight; the prior is the index's size.
    evidence = {e["comparison"]: e for e in top["evidence"]}
    assert (
        evidence["birth_date"]["level"] == "exact"
        and evidence["birth_date"]["weight"] > 5
    )
    assert evidence["family_name"]["level"].startswith("close")
    assert evidence["family_name"]["weight"] > 0
    assert Patient.objects.count() == 1  # nothing written
    event = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert json.loads(event.detail)["search"] == "before create"


def test_an_unrelated_registration_finds_nobody_likely(him_api, facility):
    assert him_api.post("/patients", NEW_PATIENT).status_code == 201
    incoming = {"names": [{"family": "Okonjo", "given": "Ife"}], "birth_date": "2001-02-03",
                "sex": "male"}  # fmt: skip
    body = him_api.post("/patient-matches", incoming).json()
    assert all(c["probability"] < 0.5 for c in body["items"])


def test_a_record_at_another_facility_is_not_disclosed(
    him_api, facility, other_facility
):
    from datetime import date

    from tests import factories

    factories.patient(facility=other_facility, family="Lindqvist", given="Maja",
                      birth_date=date(1972, 11, 30))  # fmt: skip
    incoming = {"names": [{"family": "Lindqvist", "given": "Maja"}],
                "birth_date": "1972-11-30", "sex": "female"}  # fmt: skip
    assert him_api.post("/patient-matches", incoming).json() == {
        "items": [],
        "count": 0,
    }
