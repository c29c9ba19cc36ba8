"""The indexing queue over the JSON API: list, detail with the checks, an edit, filing
refused until the doubtful patient is confirmed, a misfile move and its review with the
prior viewers, and the cover sheet."""

from __future__ import annotations

import pytest

from recordroom.records.models import DocumentType
from tests import factories
from tests.capture.queue_data import batch, document, mrn_value, source

from .conftest import api_for

pytestmark = pytest.mark.django_db


def test_queue_detail_edit_and_filing_over_the_api(him_api, facility, patient):
    scanned = batch(["One\nMRN N100001", "Two", "Three"], facility=facility,
                    src=source("Fax 1", facility))  # fmt: skip
    doc = document(scanned, [1, 2, 3], patient=patient, confidence=0.7,
                   doc_type=DocumentType.objects.get(code="18842-5"),
                   values=[mrn_value(1, "N100001")])  # fmt: skip
    listing = him_api.get("/capture/queue", flag="doubtful").json()
    assert [d["id"] for d in listing["items"]] == [str(doc.pk)] and listing[
        "next"
    ] is None
    detail = him_api.get(f"/capture/documents/{doc.pk}").json()
    assert detail["checks"] == {"problems": [], "doubtful": True, "clean": False}
    assert detail["values"][0]["bbox"] == [195, 222, 470, 262]
    split = him_api.post(
        f"/capture/documents/{doc.pk}/edits", {"op": "split", "position": 3}
    )
    assert [[p["page"] for p in d["pages"]] for d in split.json()["documents"]] == [
        [1, 2], [3]]  # fmt: skip
    refused = him_api.post(f"/capture/documents/{doc.pk}/filing", {})
    assert refused.status_code == 422
    assert refused.json()["field"] == "confirm_patient"
    filed = him_api.post(
        f"/capture/documents/{doc.pk}/filing", {"confirm_patient": True}
    )
    assert filed.status_code == 200 and filed.json()["patient"] == str(patient.pk)


def test_a_misfile_move_and_its_review_over_the_api(him, him_api, facility, patient):
    doc = factories.document(patient=patient, facility=facility, text="Not José's")
    right = factories.patient(facility=facility, family="Rivera", mrn="N100088")
    him_api.get(f"/documents/{doc.pk}/content")
    moved = him_api.post(f"/documents/{doc.pk}/move",
                         {"to_patient": str(right.pk), "reason": "name on page 1"})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["to_patient"] == str(right.pk)
    officer = api_for(factories.user("po1", "privacy_officer", facilities=[facility]))
    (row,) = officer.get("/capture/misfiles").json()
    assert row["reason"] == "name on page 1"
    assert [(v["username"], v["action"], v["channel"]) for v in row["viewers"]] == [
        ("him1", "document.view", "api")]  # fmt: skip
    done = officer.post(f"/capture/misfiles/{row['id']}/review", {"note": "ok"}).json()
    assert done["reviewed_by"] == "po1"
    assert officer.get("/capture/misfiles").json() == []
    sheet = him_api.get(f"/patients/{patient.pk}/cover-sheet", type="18842-5", pages=3)
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
