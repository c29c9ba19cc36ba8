"""MDM documents: filed with content (T02), status changes (T03/T04), edits and
replacements as corrections (T08/T10), addenda (T06), cancellation (T11), and the
notifications without content (T01, T05, T07, T09) acknowledged without filing."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus, SourceKey
from recordroom.kernel.blobs import default_store
from recordroom.records.models import Document
from tests import factories

from .messages import adt, err, mdm, pv1

SAMPLES = (
    Path(os.environ.get("RECORDROOM_CONFORMANCE_DATA",
                        Path(__file__).resolve().parents[4].parent / "shared/testdata"))
    / "hl7v2"
)  # fmt: skip


def content(document: Document, number: int | None = None) -> bytes:
    versions = document.versions.order_by("number")
    version = versions.last() if number is None else versions.get(number=number)
    return default_store().get(version.sha256)


@pytest.fixture
def admitted(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"


@pytest.fixture
def filed(admitted):
    ack = handle(mdm("T02", "M1", status="IP"))
    assert ack.code == "AA", ack.text
    return Document.objects.get()


def test_t02_files_the_text_with_type_status_encounter_and_author(admitted):
    author = factories.provider()
    ack = handle(mdm("T02", "M1", author=f"{author.npi}^OSLER^WILLIAM"))
    assert ack.code == "AA" and ack.text == "", ack.text
    doc = Document.objects.select_related("doc_type", "encounter").get()
    assert (doc.doc_type.code, doc.status, doc.source) == (
        "18842-5",
        "final",
        "interface",
    )
    assert doc.encounter.account_number == "V5001" and doc.author == author
    assert doc.service_start.isoformat() == "2025-01-04T15:15:00+00:00"  # New York
    assert content(doc) == b"Discharge summary.\nHome on day 3.\n"
    version = doc.versions.get()
    assert (version.filename, version.media_type) == ("DOC-1.txt", "text/plain")
    key = SourceKey.objects.get()
    assert (key.source, key.resource_type, key.source_id, key.target_id) == (
        "hl7v2:DICTAPP@NORTH", "Document", "DOC-1", doc.pk)  # fmt: skip
    message = InterfaceMessage.objects.get(control_id="M1")
    audit = AuditEvent.objects.get(
        action="interface.message", object_id=str(message.pk)
    )
    assert json.loads(audit.detail)["document"] == str(doc.pk)
    # the same document under a new control id is not filed twice
    again = handle(mdm("T02", "M2"))
    assert again.code == "AA" and "was filed before" in again.text
    assert Document.objects.count() == 1


def test_t02_with_a_base64_pdf_and_an_unknown_type(admitted):
    pdf = factories.pdf_bytes("Echo report")
    data = base64.b64encode(pdf).decode()
    obx = (f"OBX|1|ED|PDF^Report||^application^pdf^Base64^{data}||||||F",)
    ack = handle(mdm("T02", "M1", doc_type="CD^Cardiodiagnostics", obx=obx))
    assert ack.code == "AA"
    assert ack.text == (
        "TXA-2 document type 'CD' is not one Recordroom knows; filed as Progress note"
    )
    doc = Document.objects.get()
    assert (doc.doc_type.code, doc.title) == ("11506-3", "Cardiodiagnostics")
    assert content(doc) == pdf and doc.versions.get().media_type == "application/pdf"


@pytest.mark.parametrize(
    ("obx", "location", "words"),
    [
        ((), "OBX-5", "no OBX holds any"),
        (("OBX|1|ED|PDF||^application^pdf^Base64^||||||F",), "OBX-5", "no content"),
        (("OBX|1|ED|PDF||^application^pdf^Base64^@@@@||||||F",), "OBX-5", "Base64"),
        (("OBX|1|ED|PDF||^application^pdf^Base64^aGVsbG8=||||||F",), "OBX-5",
         "is not a PDF"),
    ],
)  # fmt: skip
def test_t02_without_usable_content_is_an_error_and_files_nothing(
    admitted, obx, location, words
):
    ack = handle(mdm("T02", "M1", obx=obx))
    assert ack.code == "AE" and ack.location == location and words in ack.text
    assert Document.objects.count() == 0 and SourceKey.objects.count() == 0


def test_t02_for_an_unknown_patient_names_pid_3_and_is_reprocessable(facility):
    from recordroom.interop.hl7v2.services import reprocess

    ack = handle(mdm("T02", "M1"))
    assert ack.code == "AE" and ack.location == "PID-3" and "'M1001'" in ack.text
    assert handle(adt("A04", "ADT1", visit=pv1())).code == "AA"
    assert reprocess(ack.message.pk).code == "AA"
    assert Document.objects.count() == 1


def test_t04_completion_status_makes_the_document_final(filed):
    assert filed.status == "preliminary"
    same = handle(mdm("T04", "M2", status="PA"))
    assert (
        same.code == "AA"
        and not AuditEvent.objects.filter(action="document.status").exists()
    )
    ack = handle(mdm("T04", "M3", status="LA"))
    assert ack.code == "AA", ack.text
    filed.refresh_from_db()
    assert (filed.status, filed.status_reason) == (
        "final",
        "TXA-17 completion status LA",
    )
    back = handle(mdm("T03", "M4", status="IP", obx=()))
    assert (
        back.code == "AE" and "a final document cannot become preliminary" in back.text
    )
    unknown = handle(mdm("T03", "M5", status="ZZ", obx=()))
    assert unknown.code == "AE" and err(unknown)[2] == "TXA^1^17"


def test_t08_edit_and_t10_replacement_are_corrections(filed):
    ack = handle(mdm("T08", "M2", lines=("Discharge summary, corrected.",)))
    assert ack.code == "AA", ack.text
    filed.refresh_from_db()
    assert filed.status == "corrected"
    v2 = filed.versions.get(number=2)
    assert (v2.kind, v2.parent.number) == ("correction", 1)
    assert v2.reason == "edit DOC-1 from DICTAPP (MDM^T08)"
    assert content(filed, 1) == b"Discharge summary.\nHome on day 3.\n"
    assert content(filed, 2) == b"Discharge summary, corrected.\n"
    # the same edit again adds nothing
    assert (
        handle(mdm("T08", "M3", lines=("Discharge summary, corrected.",))).code == "AA"
    )
    assert filed.versions.count() == 2
    # a replacement has its own number and names the original in TXA-13
    rep = handle(mdm("T10", "M4", "DOC-2", parent="DOC-1", lines=("Replaced.",)))
    assert rep.code == "AA", rep.text
    assert filed.versions.count() == 3
    assert SourceKey.objects.get(source_id="DOC-2").target_id == filed.pk


def test_t06_addendum_is_a_new_version_of_the_parent(filed):
    ack = handle(mdm("T06", "M2", "DOC-1A", parent="DOC-1", lines=("Addendum.",)))
    assert ack.code == "AA", ack.text
    filed.refresh_from_db()
    assert filed.status == "amended" and filed.versions.last().kind == "addendum"


def test_t11_cancels_with_the_reason(filed):
    ack = handle(mdm("T11", "M2", obx=(), evn_reason="WP^Wrong patient"))
    assert ack.code == "AA", ack.text
    filed.refresh_from_db()
    assert filed.status == "entered-in-error"
    assert filed.status_reason == "cancelled by DICTAPP (MDM^T11): Wrong patient"
    edit = handle(mdm("T08", "M3", lines=("Too late.",)))
    assert edit.code == "AE" and "entered in error" in edit.text


def test_a_change_to_an_unknown_document_names_txa_12(admitted):
    for event, location in (("T04", "TXA-12"), ("T08", "TXA-12"), ("T11", "TXA-12"),
                            ("T10", "TXA-13")):  # fmt: skip
        ack = handle(
            mdm(event, f"X{event}", "NOPE", parent="NOPE-P" if event == "T10" else "")
        )
        assert ack.code == "AE" and ack.location == location, (event, ack.text)
        assert "send the original document (T02) first" in ack.text


def test_a_document_of_another_patient_is_refused(filed):
    handle(adt("A04", "ADT2", mrn="M2002", name="ROE^RICHARD"))
    ack = handle(mdm("T11", "M2", mrn="M2002", obx=()))
    assert ack.code == "AE" and ack.location == "PID-3"
    filed.refresh_from_db()
    assert filed.status == "preliminary"


@pytest.mark.parametrize("event", ["T01", "T05", "T07", "T09"])
def test_notifications_without_content_are_accepted_without_filing(admitted, event):
    ack = handle(mdm(event, "N1", obx=()))
    assert ack.code == "AA" and "no document filed" in ack.text
    assert Document.objects.count() == 0
    assert (
        InterfaceMessage.objects.get(control_id="N1").status == MessageStatus.PROCESSED
    )


def _sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"HL7 v2 sample {path} not found")
    return path.read_text().replace("\r\n", "\r").replace("\n", "\r").encode()


def test_the_shared_mdm_samples(db):
    factories.facility("XYZHOSPITAL")
    factories.facility("SFAC")
    reg = adt("A04", "R1", mrn="987654321", facility="XYZHOSPITAL", visit=None)
    assert handle(reg).code == "AA"
    reg = adt("A04", "R2", mrn="3196695816", facility="SFAC", visit=None)
    assert handle(reg).code == "AA"
    codes = {}
    for name in ("MDM-T01-01.hl7", "MDM-T02-01.hl7", "MDM-T02-02.hl7",
                 "MDM-T02-03.hl7", "MDM-T05-01.hl7", "MDM-T09-01.hl7"):  # fmt: skip
        raw = _sample(name).replace(b"|PS1-20080131160038|", f"|{name}|".encode())
        ack = handle(raw)
        codes[name] = (ack.code, ack.location)
    assert codes == {
        "MDM-T01-01.hl7": ("AA", ""),
        "MDM-T02-01.hl7": ("AE", "OBX-5"),  # its ED carries no data
        "MDM-T02-02.hl7": ("AA", ""),
        "MDM-T02-03.hl7": ("AA", ""),
        "MDM-T05-01.hl7": ("AA", ""),
        "MDM-T09-01.hl7": ("AA", ""),
    }
    docs = {d.doc_type.code: d for d in Document.objects.select_related("doc_type")}
    assert set(docs) == {"18748-4", "18842-5"}  # DI imaging (T02-02), DS (T02-03)
    assert docs["18748-4"].status == "final" and docs["18842-5"].status == "preliminary"
    assert content(docs["18842-5"]).startswith(b"Toilet cylinder crackers model")
