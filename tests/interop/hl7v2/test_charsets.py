"""Character sets: MSH-18 is honoured (ASCII, 8859/1, UNICODE UTF-8 and the aliases
UNICODE and UTF-8); an undeclared message that is not UTF-8 is read as Windows-1252
with a warning on the message; a declared set we do not read is refused naming it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.kernel.blobs import default_store
from recordroom.mpi.models import Patient
from recordroom.records.models import Document
from tests import factories

from .messages import adt, err, mdm, pv1


def _declare(raw: bytes, charset: str) -> bytes:
    """MSH-18 set to `charset` (MSH-13 to MSH-17 empty)."""
    head, rest = raw.split(b"\r", 1)
    return head + b"||||||" + charset.encode() + b"\r" + rest


def _latin1_adt(control: str = "L1") -> bytes:
    text = adt("A04", control, name="NÚÑEZ^JOSÉ^Ü", address="1 Müllerstraße^^Zürich^IL"
               "^62701^USA").decode()  # fmt: skip
    return _declare(text.encode("iso8859-1"), "8859/1")


def test_8859_1_bytes_are_read_as_latin_1(facility):
    raw = _latin1_adt()
    assert b"N\xda\xd1EZ" in raw and b"Jos" not in raw  # real 8859-1 bytes
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    name = Patient.objects.get().names.get()
    assert (name.family, name.given, name.middle) == ("NÚÑEZ", "JOSÉ", "Ü")
    address = Patient.objects.get().addresses.get()
    assert (address.line1, address.city) == ("1 Müllerstraße", "Zürich")
    row = InterfaceMessage.objects.get()
    assert row.warnings == "" and row.raw_bytes() == raw
    # the ACK answers in the set the message declared, and says so in MSH-18
    encoded = ack.encode()
    msh = encoded.split(b"\r")[0].split(b"|")
    assert msh[17] == b"8859/1"


@pytest.mark.parametrize("declared", ["UNICODE UTF-8", "UNICODE", "UTF-8", "ISO IR192"])
def test_utf_8_under_each_of_its_names(facility, declared):
    raw = _declare(adt("A04", "U1", name="GARCÍA^ÑANDÚ"), declared)
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    name = Patient.objects.get().names.get()
    assert (name.family, name.given) == ("GARCÍA", "ÑANDÚ")
    assert ack.encode().split(b"\r")[0].split(b"|")[17] == declared.encode()


def test_ascii_declared_and_ascii_sent_is_applied(facility):
    assert handle(_declare(adt("A04", "A1"), "ASCII")).code == "AA"
    assert Patient.objects.count() == 1


def test_ascii_declared_but_8859_bytes_sent_is_refused_naming_the_byte(facility):
    raw = _declare(adt("A04", "A2", name="JOSÉ^ANA").decode().encode("iso8859-1"),
                   "ASCII")  # fmt: skip
    ack = handle(raw)
    assert ack.code == "AR" and ack.location == "MSH-18"
    assert "not ASCII text as MSH-18 declares: byte 0xC9 at offset" in ack.text
    assert err(ack)[2] == "MSH^1^18"
    assert Patient.objects.count() == 0


def test_an_undeclared_windows_1252_message_is_read_with_a_warning(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    raw = mdm("T02", "W1", lines=("Patient said “no pain” – resting.",))
    raw = raw.decode().encode("cp1252")
    assert b"\x93no pain\x94" in raw  # real cp1252 curly quotes, not UTF-8
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    content = default_store().get(Document.objects.get().versions.get().sha256)
    assert content.decode() == "Patient said “no pain” – resting.\n"
    row = InterfaceMessage.objects.get(control_id="W1")
    assert row.status == MessageStatus.PROCESSED
    assert "declares no character set and the message is not UTF-8 (byte 0x93" in (
        row.warnings
    )
    assert "read as Windows-1252" in row.warnings


@pytest.mark.parametrize(
    ("declared", "words"),
    [
        ("KLINGON", "MSH-18 character set 'KLINGON' is not supported"),
        ("UNICODE UTF-16", "its delimiters are not single bytes"),
    ],
)
def test_a_declared_character_set_we_do_not_read_is_refused_naming_it(
    facility, declared, words
):
    ack = handle(_declare(adt("A04", "K1"), declared))
    assert ack.code == "AR" and words in ack.text
    fields = err(ack)
    assert fields[2] == "MSH^1^18" and fields[3].startswith("103^")
    assert InterfaceMessage.objects.get().status == MessageStatus.REJECTED
    assert Patient.objects.count() == 0


def test_the_message_page_shows_the_text_in_its_charset_and_the_warning(facility):
    user = factories.user("him1", "him_specialist", facilities=[facility])
    client = Client()
    client.force_login(user)
    latin = handle(_latin1_adt("L2")).message
    html = client.get(
        reverse("web:interface_message", kwargs={"message_id": latin.pk})
    ).content.decode()
    assert "NÚÑEZ^JOSÉ^Ü" in html
    undeclared = adt("A04", "W2", mrn="M9", name="O’HARA^KATE").decode()
    ack = handle(undeclared.encode("cp1252"))
    assert ack.code == "AA", ack.text
    assert Patient.objects.filter(names__family="O’HARA").exists()
    html = client.get(
        reverse("web:interface_message", kwargs={"message_id": ack.message.pk})
    ).content.decode()
    assert "O’HARA^KATE" in html and "read as Windows-1252" in html
    listed = client.get(reverse("web:interfaces")).content.decode()
    assert "Warning: MSH-18 declares no character set" in listed
