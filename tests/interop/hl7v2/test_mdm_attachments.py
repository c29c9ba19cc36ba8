"""MDM OBX-5 encapsulated data (ED) as the big EHRs send it: type of data AP, IM or
TX (HL7 table 0191, or the MIME names), subtypes PDF, TIFF, JPEG, PNG, RTF, HTML and
XML (table 0291) in any case, Base64 or A (ASCII) data; each filed with its content
type, and an unknown subtype refused naming it (R-INT-6)."""

from __future__ import annotations

import base64
import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.kernel.blobs import default_store
from recordroom.records.models import Document
from tests import factories

from .messages import adt, err, mdm, pv1


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


RTF = b"{\\rtf1\\ansi\\deff0 {\\b Discharge} summary\\par}"
HTML = b"<html><body><p>Discharge &amp; transfer</p></body></html>"
XML = b'<?xml version="1.0"?><note><to>HIM</to><body>Discharged</body></note>'
FILES = {
    "pdf": factories.pdf_bytes("Echo report"),
    "tiff": _image("TIFF"),
    "jpeg": _image("JPEG"),
    "png": _image("PNG"),
}


@pytest.fixture
def admitted(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"


def _ed(type_subtype: str, data: str, encoding: str = "Base64") -> tuple[str, ...]:
    return (f"OBX|1|ED|DOC^Document||EPIC^{type_subtype}^{encoding}^{data}||||||F",)


def _filed() -> tuple[bytes, str, str]:
    version = Document.objects.get().versions.get()
    return default_store().get(version.sha256), version.media_type, version.filename


@pytest.mark.parametrize(
    ("type_subtype", "payload", "media_type", "extension"),
    [
        ("AP^PDF", FILES["pdf"], "application/pdf", ".pdf"),
        ("Application^PDF", FILES["pdf"], "application/pdf", ".pdf"),
        ("IM^TIFF", FILES["tiff"], "image/tiff", ".tif"),
        ("image^jpeg", FILES["jpeg"], "image/jpeg", ".jpg"),
        ("IM^JPEG", FILES["jpeg"], "image/jpeg", ".jpg"),
        ("Image^Png", FILES["png"], "image/png", ".png"),
        ("TEXT^RTF", RTF, "text/rtf", ".rtf"),
        ("TX^HTML", HTML, "text/html", ".html"),
        ("AP^XML", XML, "text/xml", ".xml"),
    ],
)
def test_r_int_6_base64_attachments_are_filed_with_their_content_type(
    admitted, type_subtype, payload, media_type, extension
):
    data = base64.b64encode(payload).decode()
    ack = handle(mdm("T02", "M1", obx=_ed(type_subtype, data)))
    assert ack.code == "AA", ack.text
    assert _filed() == (payload, media_type, f"DOC-1{extension}")


def test_r_int_6_an_empty_subtype_is_filed_as_what_the_bytes_are(admitted):
    data = base64.b64encode(FILES["pdf"]).decode()
    ack = handle(mdm("T02", "M1", obx=_ed("AP^", data)))
    assert ack.code == "AA", ack.text
    assert _filed() == (FILES["pdf"], "application/pdf", "DOC-1.pdf")
    other = base64.b64encode(b"PK\x03\x04 a zip").decode()
    refused = handle(mdm("T02", "M2", "DOC-2", obx=_ed("AP^", other)))
    assert refused.code == "AE" and refused.location == "OBX-5.3"
    assert "subtype is empty and the data is not a PDF" in refused.text


def test_r_int_6_hex_encoded_data_is_decoded(admitted):
    ack = handle(mdm("T02", "M1", obx=_ed("Image^PNG", FILES["png"].hex(), "Hex")))
    assert ack.code == "AA", ack.text
    assert _filed()[:2] == (FILES["png"], "image/png")


def test_r_int_6_base64_split_over_lines_and_obx_segments_is_joined(admitted):
    data = base64.b64encode(FILES["png"]).decode()
    half = len(data) // 2
    obx = (
        f"OBX|1|ED|DOC||^IM^PNG^Base64^{data[:half]}||||||F",
        f"OBX|2|ED|DOC||^IM^PNG^Base64^{data[half:]}||||||F",
    )
    assert handle(mdm("T02", "M1", obx=obx)).code == "AA"
    assert _filed()[:2] == (FILES["png"], "image/png")


@pytest.mark.parametrize(
    ("type_subtype", "sent", "stored", "media_type"),
    [
        ("TX^RTF", r"{\E\rtf1\E\ansi Fish \T\ chips\E\par}",
         b"{\\rtf1\\ansi Fish & chips\\par}", "text/rtf"),
        ("text^html", r"<p>Fish \T\amp; chips</p>", b"<p>Fish &amp; chips</p>",
         "text/html"),
        ("TEXT^XML", r"<a x=\F\1\F\>caf\XC3A9\</a>", "<a x=|1|>café</a>".encode(),
         "text/xml"),
    ],
)  # fmt: skip
def test_r_int_6_ascii_encoded_text_attachments_are_decoded_once(
    admitted, type_subtype, sent, stored, media_type
):
    ack = handle(mdm("T02", "M1", obx=_ed(type_subtype, sent, encoding="A")))
    assert ack.code == "AA", ack.text
    assert _filed()[:2] == (stored, media_type)


@pytest.mark.parametrize(
    ("type_subtype", "encoding", "location", "words"),
    [
        ("AP^DOCX", "Base64", "OBX^1^5^1^3", "OBX-5.3 data subtype 'DOCX' is not one"),
        ("IM^GIF", "Base64", "OBX^1^5^1^3", "data subtype 'GIF'"),
        ("VIDEO^MP4", "Base64", "OBX^1^5^1^2", "type of data 'VIDEO' is not one of"),
        ("AP^PDF", "A", "OBX^1^5^1^4", "encoding 'A' is not supported for PDF"),
        ("AP^PDF", "UU", "OBX^1^5^1^4", "encoding 'UU' is not supported"),
    ],
)
def test_r_int_6_an_attachment_we_cannot_store_is_an_error_naming_it(
    admitted, type_subtype, encoding, location, words
):
    data = base64.b64encode(FILES["pdf"]).decode()
    ack = handle(mdm("T02", "M1", obx=_ed(type_subtype, data, encoding)))
    assert ack.code == "AE" and words in ack.text
    fields = err(ack)
    assert fields[2] == location and fields[3].startswith("103^")
    assert Document.objects.count() == 0
    row = InterfaceMessage.objects.get(control_id="M1")
    assert row.status == MessageStatus.ERROR and words in row.error


def test_an_html_attachment_is_only_downloaded_in_a_sandbox(admitted, facility):
    data = base64.b64encode(HTML).decode()
    assert handle(mdm("T02", "M1", obx=_ed("TX^HTML", data))).code == "AA"
    doc = Document.objects.get()
    user = factories.user("him1", "him_specialist", facilities=[facility])
    client = Client()
    client.force_login(user)
    url = reverse("web:document_content", kwargs={"document_id": doc.pk})
    response = client.get(url, {"how": "view"})
    assert response.status_code == 200 and response.content == HTML
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "sandbox"
    from tests.api.conftest import api_for

    api = api_for(user).get(f"/documents/{doc.pk}/content")
    assert api.status_code == 200 and api.content == HTML
    assert api["Content-Disposition"].startswith("attachment")
    assert api["Content-Security-Policy"] == "sandbox"
