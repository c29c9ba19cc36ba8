"""The provider's inbox over the API: counts, the list by patient, signing the
exact version read (R-RC-1), the pass that signs many (each read first), filing a
missing document, refusing one assigned in error."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.completion.models import Deficiency
from recordroom.records import services as records
from recordroom.records.models import Provider, Signature
from tests import factories
from tests.api.conftest import api_for

from .charts import ADMIT, file, visit


@pytest.fixture
def doctor(facility, attending):
    user = factories.user("dr.alice", "provider", facilities=[facility])
    Provider.objects.filter(pk=attending.pk).update(user=user)
    return user


def _signature_deficiency(enc):
    return Deficiency.objects.get(encounter=enc, kind="signature", status="open")


def _read(api, document):
    """Open the document's content as the provider does; its bytes' hash."""
    got = api.client.get(f"/api/v1/documents/{document.pk}/content",
                         headers=api.headers)  # fmt: skip
    assert got.status_code == 200, got.content
    return hashlib.sha256(got.content).hexdigest()


def _chart(person, facility, attending, text="Progress note"):
    enc = visit(patient=person, facility=facility, attending=attending)
    note = file(enc, "11506-3", ADMIT + timedelta(days=1), author=attending, text=text)
    return enc, note


def test_counts_and_list_by_patient_with_age(doctor, person, facility, attending):
    enc, note = _chart(person, facility, attending)
    api = api_for(doctor)
    counts = api.get("/inbox")
    assert counts.status_code == 200, counts.content
    # discharge summary and H&P missing, the progress note unsigned
    assert counts.json() == {"total": 3, "sections": {"deficiencies": 3}}
    groups = api.get("/inbox/deficiencies").json()
    assert [(g["name"], len(g["deficiencies"])) for g in groups] == [("DOE, Jane", 3)]
    by_kind = {d["kind"]: d for d in groups[0]["deficiencies"]}
    assert by_kind["signature"]["signable"] is True
    assert by_kind["signature"]["document_id"] == str(note.pk)
    assert by_kind["signature"]["document_type"]
    assert by_kind["missing-document"]["signable"] is False
    assert groups[0]["oldest_days"] >= 30
    assert AuditEvent.objects.filter(action="completion.view",
                                     patient_id=person.pk).count() == 1  # fmt: skip


def test_a_user_without_a_provider_gets_a_clear_refusal(him, facility):
    nurse = factories.user("dr.none", "provider", facilities=[facility])
    got = api_for(nurse).get("/inbox")
    assert got.status_code == 403
    assert "not linked to an active provider" in got.json()["message"]


def test_r_rc_1_sign_the_version_read_closes_the_deficiency(
    doctor, person, facility, attending
):
    enc, note = _chart(person, facility, attending)
    d = _signature_deficiency(enc)
    api = api_for(doctor)
    sha = _read(api, note)
    got = api.post(f"/deficiencies/{d.pk}/sign", {"sha256": sha})
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["closed"] is True and body["deficiency"]["status"] == "closed"
    assert (body["meaning"], body["sha256"]) == ("author", sha)
    sig = Signature.objects.get(pk=body["signature_id"])
    assert sig.signer_id == attending.pk and sig.sha256 == sha
    assert sig.version.sha256 == sha and sig.signed_at is not None
    event = AuditEvent.objects.get(action="document.sign", patient_id=person.pk)
    assert event.username == "dr.alice" and sha in event.detail
    assert api.get("/inbox").json()["total"] == 2


def test_r_rc_1_no_signature_without_reading_the_version(
    doctor, person, facility, attending
):
    enc, note = _chart(person, facility, attending)
    d = _signature_deficiency(enc)
    api = api_for(doctor)
    sha = records.current_version(note).sha256  # known, but never opened
    got = api.post(f"/deficiencies/{d.pk}/sign", {"sha256": sha})
    assert got.status_code == 409
    assert "open version 1 of the document before signing" in got.json()["message"]
    assert not Signature.objects.filter(version__document=note).exists()


def test_r_rc_1_a_version_changed_since_it_was_read_is_not_signed(
    doctor, person, facility, attending
):
    enc, note = _chart(person, facility, attending)
    d = _signature_deficiency(enc)
    api = api_for(doctor)
    sha = _read(api, note)
    records.add_version(actor=factories.SYSTEM, document=note, kind="correction",
                        data=factories.pdf_bytes("corrected"), filename="n.pdf",
                        reason="typo")  # fmt: skip
    got = api.post(f"/deficiencies/{d.pk}/sign", {"sha256": sha})
    assert got.status_code == 409
    assert "version 2 is current now" in got.json()["message"]
    bad = api.post(f"/deficiencies/{d.pk}/sign", {"sha256": "abc"})
    assert bad.status_code == 422 and bad.json()["field"] == "sha256"


def test_another_providers_deficiency_is_not_signed(
    doctor, person, facility, attending
):
    other = factories.provider("Other", "Olga")
    enc, note = _chart(person, facility, other)
    d = _signature_deficiency(enc)
    api = api_for(doctor)
    got = api.post(f"/deficiencies/{d.pk}/sign", {"sha256": _read(api, note)})
    assert got.status_code == 403


def test_r_rc_1_batch_signs_each_read_and_refuses_the_unread(
    doctor, facility, attending
):
    api = api_for(doctor)
    notes, items = [], []
    for i in range(3):
        who = factories.patient(facility=facility, family=f"Batch{i}", given="Pat")
        enc, note = _chart(who, facility, attending, text=f"Note {i}")
        notes.append(note)
        d = _signature_deficiency(enc)
        # the third is never opened: it is refused, the others signed
        sha = _read(api, note) if i < 2 else records.current_version(note).sha256
        items.append({"deficiency_id": str(d.pk), "sha256": sha})
    got = api.post("/deficiencies/sign-batch", {"items": items})
    assert got.status_code == 200, got.content
    body = got.json()
    assert (body["signed"], body["refused"]) == (2, 1)
    assert [i["ok"] for i in body["items"]] == [True, True, False]
    assert all(i["closed"] for i in body["items"][:2])
    assert "before signing" in body["items"][2]["error"]
    assert Signature.objects.filter(version__document__in=notes).count() == 2
    assert api.post("/deficiencies/sign-batch", {"items": []}).status_code == 422


def test_file_a_missing_document_closes_it(doctor, person, facility, attending):
    enc, _ = _chart(person, facility, attending)
    d = Deficiency.objects.get(encounter=enc, rule__code="discharge-summary")
    api = api_for(doctor)
    got = api.upload(f"/deficiencies/{d.pk}/document", {
        "file": _upload(factories.pdf_bytes("Discharge summary. Discharge diagnoses: "
                                            "appendicitis.")),
        "service_start": (enc.discharge_at + timedelta(hours=2)).isoformat()})  # fmt: skip
    assert got.status_code == 201, got.content
    body = got.json()
    assert body["closed"] is True
    doc = records.get_document(user=None, document_id=body["document_id"])
    assert (doc.doc_type.code, doc.author_id, doc.encounter_id) == (
        "18842-5", attending.pk, enc.pk)  # fmt: skip
    wrong = Deficiency.objects.get(encounter=enc, rule__code="hp-admission")
    bad = api.upload(f"/deficiencies/{wrong.pk}/document",
                     {"file": _upload(factories.pdf_bytes("x")), "doc_type": "11506-3"})  # fmt: skip
    assert bad.status_code == 422 and "34117-2" in bad.json()["message"]
    sig = Deficiency.objects.filter(encounter=enc, kind="signature").first()
    not_missing = api.upload(f"/deficiencies/{sig.pk}/document",
                             {"file": _upload(factories.pdf_bytes("x"))})  # fmt: skip
    assert not_missing.status_code == 409


def test_refuse_sends_it_back_to_the_specialists(doctor, person, facility, attending):
    enc, _ = _chart(person, facility, attending)
    d = Deficiency.objects.get(encounter=enc, rule__code="hp-admission")
    api = api_for(doctor)
    got = api.post(f"/deficiencies/{d.pk}/refuse", {"reason": "I was not attending"})
    assert got.json()["status"] == "refused"
    him = factories.user("him.two", "him_specialist", facilities=[facility])
    listed = api_for(him).get("/deficiencies", status="refused").json()["items"]
    assert [(i["id"], i["reason"]) for i in listed] == [
        (str(d.pk), "I was not attending")]  # fmt: skip
    assert api.get("/inbox").json()["total"] == 2


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("summary.pdf", data, content_type="application/pdf")
