"""The identity pages: two charts side by side, a merge and its undo, the overlay
worklist and a split, all through the web app with its forms."""

from __future__ import annotations

from datetime import date

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import OverlayFlag, Patient, PatientMerge
from recordroom.mpi.services import IdentifierIn, build_identifier
from recordroom.records.models import Encounter
from tests import factories
from tests.web.conftest import signed_in


def _pair(facility):
    a = factories.patient(facility=facility, family="Haddad", given="Rania",
                          birth_date=date(1983, 4, 7), mrn="N610001")  # fmt: skip
    b = factories.patient(facility=facility, family="Hadad", given="Rania",
                          birth_date=date(1983, 7, 4), mrn="N610002")  # fmt: skip
    factories.encounter(patient=b, facility=facility, account="V-610")
    return a, b


def test_review_merge_and_undo_through_the_pages(him_client, facility):
    a, b = _pair(facility)
    url = f"/identity/merge?left={a.pk}&right={b.pk}"
    page = him_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "HADDAD, Rania" in html and "HADAD, Rania" in html and "N610002" in html
    assert "1983-04-07" in html and "1983-07-04" in html
    assert 'class="diff"' in html  # the birth dates differ
    assert (
        AuditEvent.objects.filter(
            action="chart.open", detail__contains="merge review"
        ).count()
        == 2
    )
    resp = him_client.post(url, {"survivor": "left", "keep_birth_date": "right",
                                 "reason": "typo in surname; day and month swapped"})  # fmt: skip
    assert resp.status_code == 302 and resp["Location"] == f"/patients/{a.pk}"
    a.refresh_from_db()
    assert a.birth_date == date(1983, 7, 4)
    assert Encounter.objects.get(account_number="V-610").patient_id == a.pk
    merge = PatientMerge.objects.get()
    assert "Undo merge" in him_client.get("/identity/merges").content.decode()
    undone = him_client.post(
        f"/identity/merges/{merge.pk}/undo", {"reason": "two sisters"}
    )
    assert undone.status_code == 302
    assert Encounter.objects.get(account_number="V-610").patient_id == b.pk
    assert Patient.objects.get(pk=b.pk).merged_into_id is None


def test_a_forbidden_merge_shows_why_and_changes_nothing(him_client, facility):
    a = factories.patient(facility=facility, family="Solo", given="Jaina",
                          birth_date=date(2017, 5, 15))  # fmt: skip
    b = factories.patient(facility=facility, family="Solo", given="Jacen",
                          birth_date=date(2017, 5, 15))  # fmt: skip
    url = f"/identity/merge?left={a.pk}&right={b.pk}"
    assert "twins are two people" in him_client.get(url).content.decode()
    resp = him_client.post(url, {"survivor": "left", "reason": "same"})
    assert resp.status_code == 200 and "twins are two people" in resp.content.decode()
    assert not PatientMerge.objects.exists()


def test_overlay_worklist_scan_and_split_to_a_new_patient(him_client, facility):
    chart = factories.patient(facility=facility, family="Petrov", given="Ivan",
                              ssn="900-44-1111")  # fmt: skip
    build_identifier(chart, IdentifierIn(kind="SS", value="900-44-2222")).save()
    theirs = factories.encounter(patient=chart, facility=facility, account="P-2")
    factories.encounter(patient=chart, facility=facility, account="P-1")
    assert him_client.post("/identity/overlays").status_code == 302
    flag = OverlayFlag.objects.get(patient=chart)
    assert "PETROV, Ivan" in him_client.get("/identity/overlays").content.decode()
    resp = him_client.post(f"/identity/overlays/{flag.pk}", {
        "action": "split", "encounter": [str(theirs.pk)], "target": "new",
        "family": "Petrov", "given": "Oleg", "birth_date": "1961-02-03", "sex": "male",
        "mrn": "N777002", "reason": "second SSN and this visit are his brother's"})  # fmt: skip
    assert resp.status_code == 302
    brother = Patient.objects.get(identifiers__value="N777002")
    assert resp["Location"] == f"/patients/{brother.pk}"
    assert Encounter.objects.get(account_number="P-2").patient_id == brother.pk
    flag.refresh_from_db()
    assert flag.status == "split"


def test_identity_pages_need_the_capability(db, facility):
    coder = factories.user("coder9", "coder", facilities=[facility])
    client = signed_in(coder)
    for url in ("/identity/duplicates", "/identity/overlays", "/identity/merges"):
        assert client.get(url).status_code == 403


def test_not_a_duplicate_leaves_the_worklist_until_the_data_changes(
    him_client, facility
):
    a, b = _pair(facility)
    url = f"/identity/merge?left={a.pk}&right={b.pk}"
    resp = him_client.post(url, {"decision": "not-duplicate", "note": "cousins"})
    assert resp.status_code == 302 and resp["Location"] == "/identity/duplicates"
    page = him_client.get(url).content.decode()
    assert "Not a duplicate" in page and "cousins" in page


def test_worklists_show_only_your_facilities_and_are_audited(facility, other_facility):
    from recordroom.mpi.overlay import scan_overlays

    mine = factories.patient(facility=facility, family="Vance", ssn="900-10-1111")
    theirs = factories.patient(
        facility=other_facility, family="Yeats", ssn="900-20-1111"
    )
    for p, ssn in ((mine, "900-10-2222"), (theirs, "900-20-2222")):
        build_identifier(p, IdentifierIn(kind="SS", value=ssn)).save()
    north = factories.user("north9", "him_specialist", facilities=[facility])
    scan_overlays(actor=factories.actor(north))
    html = signed_in(north).get("/identity/overlays").content.decode()
    assert "VANCE" in html and "YEATS" not in html
    listed = AuditEvent.objects.filter(action="chart.open", detail__contains="overlays")
    assert {e.patient_id for e in listed} == {str(mine.pk)}
