"""The interface messages page: list (newest first, keyset pages, filters), one
message with its raw text (SSN masked, audited), and Reprocess (POST, CSRF, audited)."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage
from recordroom.web import views_interfaces
from tests import factories
from tests.interop.hl7v2.messages import adt

from .conftest import signed_in

LIST = reverse("web:interfaces")


def _detail(message) -> str:
    return reverse("web:interface_message", kwargs={"message_id": message.pk})


def test_the_list_pages_newest_first_and_filters(him_client, facility, monkeypatch):
    monkeypatch.setattr(views_interfaces, "PAGE", 2)
    handle(adt("A04", "C1"))
    handle(adt("A08", "C2", dob="19801399"))  # AE naming PID-7
    handle(adt("A04", "C3").replace(b"ADT^A04^ADT_A01", b"SIU^S12^SIU_S12"))
    first = him_client.get(LIST).content.decode()
    assert first.index(">C3<") < first.index(">C2<") and ">C1<" not in first
    assert "SIU^S12" in first and "Rejected" in first and "REGAPP / NORTH" in first
    assert "PID-7: PID-7 &#x27;19801399&#x27; is not a date" in first
    cursor = first.split("after=")[1].split('"')[0]
    older = him_client.get(LIST, {"after": cursor}).content.decode()
    assert ">C1<" in older and ">C3<" not in older and "Processed" in older
    errors = him_client.get(LIST, {"status": "error"}).content.decode()
    assert ">C2<" in errors and ">C1<" not in errors and ">C3<" not in errors
    adts = him_client.get(LIST, {"type": "adt"}).content.decode()
    assert ">C1<" in adts and ">C2<" in adts and ">C3<" not in adts
    assert him_client.get(LIST, {"after": "nope"}).status_code == 422


def test_a_message_shows_its_raw_text_with_the_ssn_masked_and_audited(
    him_client, facility
):
    ack = handle(adt("A04", "C1"))
    html = him_client.get(_detail(ack.message)).content.decode()
    assert "PID|1||M1001^^^NORTH^MR||DOE^JANE^Q" in html
    assert "*****6789" in html and "123-45-6789" not in html
    event = AuditEvent.objects.get(action="interface.view")
    assert (event.username, event.patient_id) == ("him1", str(ack.message.patient_id))
    assert "Reprocess</button>" not in html  # processed: nothing to redo


def test_an_administrator_sees_status_and_errors_but_not_the_text(facility):
    admin = factories.user("admin1", "administrator", facilities=[facility])
    ack = handle(adt("A04", "C1", dob="19801399"))
    html = signed_in(admin).get(_detail(ack.message)).content.decode()
    assert "is not a date" in html and "DOE^JANE" not in html
    assert "your role sees its status and errors only" in html
    assert "Reprocess</button>" in html
    assert not AuditEvent.objects.filter(action="interface.view").exists()


def test_reprocess_applies_a_fixed_message_and_shows_the_outcome(facility):
    ack = handle(adt("A04", "C1", facility="WEST"))
    assert ack.code == "AE"
    factories.facility("WEST")
    client = signed_in(factories.user("him2", "him_specialist", all_facilities=True))
    url = reverse("web:interface_reprocess", kwargs={"message_id": ack.message.pk})
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == _detail(ack.message)
    assert "Reprocessed: AA" in response.content.decode()
    assert InterfaceMessage.objects.get().status == "processed"
    event = AuditEvent.objects.get(action="interface.reprocess")
    assert json.loads(event.detail) == {
        "before": "error",
        "after": "processed",
        "ack": "AA",
    }
    assert event.username == "him2" and event.patient_id
    again = client.post(url, follow=True).content.decode()
    assert "only messages in error or rejected are reprocessed" in again


def test_reprocess_needs_the_csrf_token(facility, him):
    ack = handle(adt("A04", "C1", dob="19801399"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(him)
    url = reverse("web:interface_reprocess", kwargs={"message_id": ack.message.pk})
    assert client.post(url).status_code == 403
    assert not AuditEvent.objects.filter(action="interface.reprocess").exists()


def test_a_rejected_message_stays_rejected_when_reprocessed(him_client, facility):
    ack = handle(b"not HL7 at all")
    url = reverse("web:interface_reprocess", kwargs={"message_id": ack.message.pk})
    admin = factories.user("admin2", "administrator", all_facilities=True)
    html = signed_in(admin).post(url, follow=True).content.decode()
    assert "Reprocessed: AR" in html and "not an HL7 v2 message" in html
    assert InterfaceMessage.objects.get().status == "rejected"


def test_messages_of_other_facilities_are_out_of_scope(
    him_client, facility, other_facility
):
    # another person (the same one would be linked: then the message is about a
    # patient of both facilities)
    theirs = handle(adt("A04", "S1", facility="SOUTH", mrn="S1001", name="ROE^RAY",
                        dob="19610203", sex="M", ssn="")).message  # fmt: skip
    handle(adt("A04", "N1"))
    html = him_client.get(LIST).content.decode()
    assert ">N1<" in html and ">S1<" not in html
    assert him_client.get(_detail(theirs)).status_code == 403


def test_a_psychotherapy_note_message_keeps_its_text_from_a_role_without_the_label_r_pn_1(
    him_client, facility
):
    """The raw text of an MDM is the note itself: a role that may not read a
    psychotherapy note in the viewer does not read it here either, and nothing of it
    is audited as read; a plain discharge summary's text shows."""
    from tests.interop.hl7v2.messages import mdm

    handle(adt("A04", "C1"))
    note = handle(mdm("T02", "C2", "DOC-9", doc_type="PSYTHPN",
                      lines=("Session: talked about her father",)))  # fmt: skip
    html = him_client.get(_detail(note.message)).content.decode()
    assert "talked about her father" not in html
    assert "The message text is restricted (Psychotherapy note" in html
    assert not AuditEvent.objects.filter(action="interface.view").exists()
    summary = handle(mdm("T02", "C3", "DOC-10"))
    html = him_client.get(_detail(summary.message)).content.decode()
    assert "Home on day 3." in html
