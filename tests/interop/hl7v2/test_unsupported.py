"""Message types and trigger events Recordroom does not process are refused (AR) with
an ERR naming them (HL7 tables 0076 and 0003), never acknowledged AA (R-INT-5)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from recordroom.interop.hl7v2.processed import PROCESSED
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.mpi.models import Patient
from tests import factories

from .messages import adt, err


def _msa(ack) -> list[str]:
    text = ack.encode().decode()
    return next(s for s in text.split("\r") if s.startswith("MSA")).split("|")


@pytest.mark.parametrize(
    ("msh9", "name"),
    [
        ("ORM^O01^ORM_O01", "treatment order"),
        ("SIU^S12^SIU_S12", "schedule"),
        ("BAR^P01^BAR_P01", "billing account"),
        ("DFT^P03^DFT_P03", "financial transaction"),
        ("RDE^O11^RDE_O11", "encoded order"),
        ("VXU^V04^VXU_V04", "vaccination"),
    ],
)
def test_r_int_5_unprocessed_message_types_are_ar_naming_table_0076(
    facility, msh9, name
):
    kind = msh9.split("^")[0]
    ack = handle(adt("A04", "U1").replace(b"ADT^A04^ADT_A01", msh9.encode()))
    assert _msa(ack)[1:3] == ["AR", "U1"]
    fields = err(ack)
    assert fields[2] == "MSH^1^9^1^1"
    assert fields[3] == "200^Unsupported message type^HL70357"
    assert fields[5].startswith(f"{kind}^") and fields[5].endswith("^HL70076")
    assert name in fields[5]  # ERR-5: the type and its name in table 0076
    assert f"message type {kind} (" in fields[8] and name in fields[8]
    assert "processed: ADT\\S\\A01" in fields[8]  # ERR-8 escapes the ^
    assert "processed: ADT^A01, ADT^A02" in ack.text
    row = InterfaceMessage.objects.get()
    assert (row.status, row.ack_code) == (MessageStatus.REJECTED, "AR")
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("event", ["A99", "A23", "A47"])
def test_r_int_5_unknown_adt_events_are_ar_naming_table_0003(facility, event):
    ack = handle(adt(event, "U2"))
    assert _msa(ack)[1:3] == ["AR", "U2"]
    fields = err(ack)
    assert fields[2] == "MSH^1^9^1^2"
    assert fields[3] == "201^Unsupported event code^HL70357"
    assert fields[5] == f"{event}^^HL70003"
    assert f"trigger event ADT^{event} is not processed" in ack.text
    assert InterfaceMessage.objects.get().status == MessageStatus.REJECTED
    assert Patient.objects.count() == 0


def test_every_registered_type_is_routed_not_refused(facility):
    """A registered event never meets the unsupported path (it may fail on content)."""
    for entry in PROCESSED:
        raw = adt("A04", f"R-{entry.code}").replace(
            b"ADT^A04^ADT_A01", f"{entry.code}^X".encode()
        )
        ack = handle(raw)
        assert ack.error_code not in {"200", "201"}, (entry.code, ack.text)


def test_the_interfaces_page_lists_what_is_processed(facility):
    user = factories.user("him1", "him_specialist", facilities=[facility])
    client = Client()
    client.force_login(user)
    html = client.get(reverse("web:interfaces")).content.decode()
    assert "HL7 v2 messages processed" in html
    for entry in PROCESSED:
        assert f'<td class="ident">{entry.code}</td>' in html
        assert entry.description.replace("'", "&#x27;") in html


def test_the_api_lists_what_is_processed(facility):
    from tests.api.conftest import api_for

    client = api_for(factories.user("him1", "him_specialist", facilities=[facility]))
    listed = client.get("/interface-types").json()
    assert listed[0] == {
        "message_type": "ADT",
        "event": "A01",
        "description": PROCESSED[0].description,
    }
    assert [f"{t['message_type']}^{t['event']}" for t in listed] == [
        p.code for p in PROCESSED
    ]
