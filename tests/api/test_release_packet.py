"""The packet side over the API: documents selected, pages withheld and text
redacted, the packet built and read, reviewed by a second person, released,
delivered by a link (downloaded on the web page with its passcode) and by mail;
refusals named and nothing released."""

from __future__ import annotations

import pytest
from django.test import Client

from recordroom.audit.models import AuditEvent
from recordroom.release.models import Packet
from tests import factories
from tests.release.makers import authorization, file_doc, page_texts

from .conftest import api_for
from .test_release import body


@pytest.fixture
def desk(db, facility):
    roi = factories.user("roi1", "roi_specialist", facilities=[facility])
    second = factories.user("roi2", "roi_specialist", facilities=[facility])
    return roi, api_for(roi), api_for(second)


@pytest.fixture
def ready_to_scope(desk, patient, facility):
    roi, api, _ = desk
    file_doc(patient=patient, facility=facility, title="Discharge summary",
             pages=[["Discharge summary", "SSN 123-45-6789"], ["follow-up"],
                    ["billing notes"]])  # fmt: skip
    made = api.post("/release-requests", body(
        patient, requester_type="authorized", requester_name="Counsel & Co LLP",
        format="pdf", delivery="mail", requester_address="1 Court Sq")).json()  # fmt: skip
    from recordroom.release.models import ReleaseRequest

    req = ReleaseRequest.objects.get(pk=made["id"])
    authorization(factories.actor(roi), patient, req)
    return f"/release-requests/{made['id']}"


def test_scope_redact_build_review_release_and_deliver(desk, ready_to_scope):
    _, api, second = desk
    url = ready_to_scope
    items = api.post(url + "/scope").json()
    assert [i["included"] for i in items] == [True] and items[0]["pages"] == 3
    item = f"{url}/items/{items[0]['id']}"
    whole = api.post(item + "/excluded-pages", {"pages": [1, 2, 3], "reason": "x"})
    assert whole.status_code == 422 and "every page" in whole.json()["message"]
    assert api.post(item + "/excluded-pages", {"pages": [3], "reason": "billing"}).json()[
        "excluded_pages"] == [3]  # fmt: skip
    red = api.post(
        item + "/redactions", {"text": "123-45-6789", "reason": "not needed"}
    )
    assert red.status_code == 201 and red.json()[0]["page"] == 1
    off = api.post(item + "/redactions", {"page": 1, "x": 5000, "y": 5000, "width": 10,
                                          "height": 10, "reason": "x"})  # fmt: skip
    assert off.status_code == 422 and off.json()["field"] == "x"

    built = api.post(url + "/packet")
    assert built.status_code == 201 and built.json()["pages"] > 2
    pdf = api.get(url + "/packet/content")
    assert pdf["Content-Type"] == "application/pdf"
    texts = page_texts(pdf.content)
    assert texts and "follow-up" in " ".join(texts)
    assert not any("123-45-6789" in t for t in texts)
    assert not any("billing notes" in t for t in texts)
    early = api.post(url + "/release")
    assert early.status_code == 422 and "quality review" in early.json()["message"]
    problems = api.get(url + "/release-problems").json()["problems"]
    assert any("quality review" in p for p in problems)
    own = api.post(
        url + "/review", {"passed": True, "checks": {"patient": True, "scope": True}}
    )
    assert own.status_code == 403 and "second person" in own.json()["message"]
    passed = second.post(url + "/review",
                         {"passed": True, "checks": {"patient": True, "scope": True}})  # fmt: skip
    assert passed.status_code == 201 and passed.json()["passed"] is True
    released = api.post(url + "/release")
    assert released.status_code == 200, released.content
    assert released.json()[0]["legal_basis"] == "authorization"

    link = api.post(url + "/links", {"max_downloads": 1}).json()
    assert link["passcode"] and "/release/download/" in link["url"]
    assert "passcode" not in api.get(url + "/links").json()[0]
    page = link["url"].split("testserver", 1)[1]
    requester = Client()
    assert requester.post(page, {"passcode": "NOPE"}).status_code == 403
    got = requester.post(page, {"passcode": link["passcode"]})
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    used = requester.post(page, {"passcode": link["passcode"]})
    assert used.status_code == 403 and "used its 1 times" in used.content.decode()
    assert AuditEvent.objects.filter(action="release.download").count() == 1
    assert AuditEvent.objects.filter(action="release.refused").exists()

    mailed = api.post(url + "/deliveries", {"method": "mail", "detail": ""})
    assert mailed.status_code == 422 and mailed.json()["field"] == "detail"
    mailed = api.post(
        url + "/deliveries", {"method": "mail", "detail": "USPS 9400 0000"}
    )
    assert mailed.status_code == 201


def test_a_packet_over_the_size_limit_is_refused_and_nothing_kept(
    desk, ready_to_scope, settings
):
    _, api, _ = desk
    api.post(ready_to_scope + "/scope")
    settings.ROI_MAX_PACKET_BYTES = 1000
    refused = api.post(ready_to_scope + "/packet")
    assert refused.status_code == 413 and "over the limit" in refused.json()["message"]
    assert not Packet.objects.exists()
    assert api.get(ready_to_scope + "/packet").status_code == 404
