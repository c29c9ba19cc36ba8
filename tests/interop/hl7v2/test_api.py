"""The JSON twin of the Interfaces page: list with keyset paging, one message,
reprocess with the new outcome."""

from __future__ import annotations

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from tests import factories
from tests.api.conftest import api_for

from .messages import adt


def test_list_page_one_message_and_reprocess(db):
    factories.facility("NORTH")
    handle(adt("A04", "C1"))
    failed = handle(adt("A04", "C2", facility="WEST")).message
    client = api_for(factories.user("him1", "him_specialist", all_facilities=True))
    first = client.get("/interface-messages", limit=1).json()
    assert [m["control_id"] for m in first["items"]] == ["C2"]
    assert (
        first["items"][0]["status"] == "error" and "WEST" in first["items"][0]["error"]
    )
    older = client.get("/interface-messages", limit=1, after=first["next"]).json()
    assert [m["control_id"] for m in older["items"]] == ["C1"] and older["next"] is None
    one = client.get(f"/interface-messages/{failed.pk}").json()
    assert (one["message_type"], one["ack_code"]) == ("ADT^A04", "AE")
    factories.facility("WEST")
    done = client.post(f"/interface-messages/{failed.pk}/reprocess").json()
    assert (done["ack"], done["message"]["status"]) == ("AA", "processed")
    assert AuditEvent.objects.filter(
        action="interface.reprocess", channel="api"
    ).exists()
    again = client.post(f"/interface-messages/{failed.pk}/reprocess")
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    bad = client.get("/interface-messages", status="lost")
    assert bad.status_code == 422 and "unknown status 'lost'" in bad.json()["message"]
