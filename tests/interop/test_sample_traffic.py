"""The demo's interface traffic: HL7 messages through the real service (accepted and
one refused) and a FHIR import run, so the Interfaces page shows activity."""

from __future__ import annotations

from recordroom.interop.models import ImportRun, InterfaceMessage
from recordroom.interop.sample_traffic import send_sample_traffic
from recordroom.mpi.models import PatientIdentifier
from recordroom.records.models import Encounter
from tests import factories
from tests.web.conftest import signed_in


def test_sample_traffic_is_accepted_refused_imported_once_and_shown(
    db, facility, tmp_path
):
    actor = factories.actor(None, channel="cli")
    sent = send_sample_traffic(actor=actor, facility=facility, folder=tmp_path)
    assert (sent.accepted, sent.refused, sent.already) == (4, 1, False)
    assert sent.imported >= 2  # the patient and the visit of the bundle
    statuses = sorted(InterfaceMessage.objects.values_list("status", flat=True))
    assert statuses.count("processed") == 4 and len(statuses) == 5
    marisol = PatientIdentifier.objects.get(value="HL7000101").patient
    assert Encounter.objects.filter(patient=marisol).count() == 2
    run = ImportRun.objects.get(source="demo-feed")
    assert run.status == "finished"

    again = send_sample_traffic(actor=actor, facility=facility, folder=tmp_path)
    assert again.already and InterfaceMessage.objects.count() == 5

    admin = factories.user("iface-admin", "administrator", all_facilities=True)
    html = signed_in(admin).get("/interfaces").content.decode()
    assert "ADT^A04" in html and "ADT^A08" in html
    assert "unknown sending facility" in html
    assert "Recent FHIR imports" in html and "demo-feed" in html
