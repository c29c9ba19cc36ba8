"""HL7 escape sequences are decoded in every text field stored, after the message
is split on its delimiters and exactly once: one test per sequence, through the
service that the MLLP listener calls (handle)."""

from __future__ import annotations

import pytest

from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.blobs import default_store
from recordroom.mpi.models import Patient
from recordroom.records.models import Document

from .messages import adt, mdm, pv1


@pytest.fixture
def admitted(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"


def _note(text: str, control: str = "M1") -> bytes:
    """The text of an MDM^T02 document (one TX line), as the sender escaped it."""
    ack = handle(mdm("T02", control, lines=(text,)))
    assert ack.code == "AA", ack.text
    version = Document.objects.get().versions.get()
    return default_store().get(version.sha256)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (r"Pain \F\ none", "Pain | none"),  # field separator
        (r"BP 120\S\80", "BP 120^80"),  # component separator
        (r"Smith \T\ Sons", "Smith & Sons"),  # subcomponent separator
        (r"either\R\or", "either~or"),  # repetition separator
        (r"C:\E\scans", "C:\\scans"),  # escape character
        (r"caf\XC3A9\ au lait", "café au lait"),  # hex bytes, UTF-8 message
        (r"line one\.br\line two", "line one\nline two"),  # line break
        (r"\H\Allergy\N\: none", "Allergy: none"),  # highlighting dropped
        (r"keep \E\F\E\ as sent", "keep \\F\\ as sent"),  # decoded exactly once
        (r"C:\temp\report", "C:\\temp\\report"),  # not a sequence: kept
    ],
    ids=["F", "S", "T", "R", "E", "X", "br", "H-N", "E-F-E", "unknown"],
)
def test_obx_text_escape_sequences_are_decoded(admitted, sent, stored):
    assert _note(sent) == (stored + "\n").encode()


def test_hex_bytes_are_in_the_declared_character_set(admitted):
    raw = mdm("T02", "M1", lines=(r"Se\XF1\or M\FC\ller",))
    raw = raw.replace(b"|P|2.5.1\r", b"|P|2.5.1||||||8859/1\r", 1)
    raw = raw.replace(rb"M\FC\ller", rb"M\XFC\ller")
    assert handle(raw).code == "AA"
    version = Document.objects.get().versions.get()
    assert default_store().get(version.sha256).decode() == "Señor Müller\n"


def test_names_and_addresses_are_decoded_once_after_splitting(facility):
    raw = adt(
        "A04",
        "E1",
        name=r"O\X27\BRIEN\T\SONS^MAR\XC3AD\A^\E\F\E" + "\\",
        address=r"12 Oak \T\ Elm^Apt \S\3^Saint\F\Paul^MN^55101^USA",
    )
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get()
    name = patient.names.get()
    assert (name.family, name.given, name.middle) == ("O'BRIEN&SONS", "MARíA", "\\F\\")
    address = patient.addresses.get()
    assert (address.line1, address.line2, address.city) == (
        "12 Oak & Elm",
        "Apt ^3",
        "Saint|Paul",
    )


def test_the_document_title_and_ft_formatting_are_decoded(admitted):
    obx = (r"OBX|1|FT|NOTE||First\.sp\Second\.in+4\Third\.fi\||||||F",)
    raw = mdm("T02", "M1", doc_type=r"DS^Discharge \T\ transfer", obx=obx)
    assert handle(raw).code == "AA"
    doc = Document.objects.get()
    assert doc.title == "Discharge & transfer"
    content = default_store().get(doc.versions.get().sha256)
    assert content == b"First\nSecond\nThird\n"
