"""A request worked end to end through the desk's pages (Django test client): an
authorization missing its expiration, the defect letter, the fix, the documents
selected (a psychotherapy note left out), a page withheld and a text redacted, the
packet built, reviewed by a second person, released, delivered by a link whose
passcode is shown once, downloaded by the requester, and found in the accounting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from recordroom.audit.models import AuditEvent
from recordroom.release.models import Disclosure, Letter, ReleaseItem, ReleaseRequest
from tests import factories
from tests.factories import facility_today
from tests.release.makers import file_doc, page_texts

from .conftest import signed_in
from .test_release_desk import intake_post
from .test_release_legal import auth_post


@pytest.fixture
def desk(db, facility):
    roi = factories.user("roi1", "roi_specialist", facilities=[facility])
    second = factories.user("roi2", "roi_specialist", facilities=[facility])
    return signed_in(roi), signed_in(second)


def test_a_request_from_intake_to_the_requesters_download(desk, patient, facility):
    roi, second = desk
    file_doc(patient=patient, facility=facility, title="Discharge summary",
             pages=[["Discharge summary of Jose Nunez", "SSN 123-45-6789 on file"],
                    ["Page two: follow-up plan"], ["Page three: billing notes"]])  # fmt: skip
    file_doc(patient=patient, facility=facility, title="Session note",
             sensitivity=["PSYTHPN"], pages=[["psychotherapy session"]])  # fmt: skip
    post = intake_post(patient, requester_type="authorized", document_types=[],
                       date_from="", date_to="", entire_record="on",
                       identity_verified="", verification_method="")  # fmt: skip
    # R-MIN-6: a third party gets the entire record only with a reason
    refused = roi.post("/release/new", post)
    assert refused.status_code == 422 and b"R-MIN-6" in refused.content
    post["entire_record_reason"] = "the insurer's claim covers every admission"
    assert roi.post("/release/new", post).status_code == 302
    req = ReleaseRequest.objects.get()
    url = f"/release/{req.pk}"

    # an authorization without its expiration: the defect letter, then the fix
    roi.post(f"{url}/authorizations/new", auth_post(missing=("expiration",)))
    roi.post(f"{url}/defect-letter")
    assert Letter.objects.filter(kind="defect").exists()
    auth = req.authorizations.get()
    in_a_year = (facility_today() + timedelta(days=365)).isoformat()
    roi.post(f"{url}/authorizations/{auth.pk}", auth_post(expires_on=in_a_year))
    assert "Basis: the patient" in roi.get(url).content.decode()

    # minimum necessary: the psychotherapy note is left out with its rule
    roi.post(f"{url}/scope")
    page = roi.get(url).content.decode()
    left_out = page[page.index("<h3>Left out") :]
    assert "Session note" in left_out and "R-PN-2" in left_out
    item = ReleaseItem.objects.get(request=req, included=True)

    # withhold page 3, redact the SSN
    item_url = f"{url}/items/{item.pk}"
    assert roi.get(item_url).status_code == 200
    roi.post(f"{item_url}/pages", {"pages": "3", "reason": "billing, not asked for"})
    roi.post(f"{item_url}/redactions", {"text": "123-45-6789", "reason": "not needed"})
    missing = roi.post(f"{item_url}/redactions", {"text": "not in the document",
                                                   "reason": "x"})  # fmt: skip
    assert missing.status_code == 422 and "does not occur" in missing.content.decode()

    # the packet; the builder may not review it; the second person passes it
    assert roi.post(f"{url}/packets").status_code == 302
    req.refresh_from_db()
    packet = req.packets.get()
    assert req.status == "qa"
    staff_copy = roi.get(f"{url}/packets/{packet.pk}")
    assert staff_copy["Content-Type"] == "application/pdf"
    texts = page_texts(staff_copy.content)
    assert not any("123-45-6789" in t for t in texts)
    assert not any("billing notes" in t for t in texts)
    refused = roi.post(f"{url}/release")
    assert refused.status_code == 422 and "has not passed its quality review" in (
        refused.content.decode())  # fmt: skip
    own = roi.post(f"{url}/review", {"passed": "1", "check_patient": "on",
                                     "check_scope": "on"})  # fmt: skip
    assert (
        own.status_code == 422 and "a second person must review" in own.content.decode()
    )
    half = second.post(f"{url}/review", {"passed": "1", "check_patient": "on"})
    assert half.status_code == 422 and "not confirmed" in half.content.decode()
    second.post(
        f"{url}/review", {"passed": "1", "check_patient": "on", "check_scope": "on"}
    )
    req.refresh_from_db()
    assert req.status == "ready"

    # release, then a link whose passcode is shown once
    assert roi.post(f"{url}/release").status_code == 302
    req.refresh_from_db()
    assert req.status == "released" and req.release_number == packet.release_number
    shown = roi.post(f"{url}/links", {"max_downloads": "2"})
    body = shown.content.decode()
    link = re.search(r'class="link-url">([^<]+)<', body).group(1)
    passcode = re.search(r'class="link-passcode">([^<]+)<', body).group(1)
    assert passcode not in roi.get(url).content.decode()  # only on that one answer
    path = link.split("testserver", 1)[1]

    requester = Client()
    assert requester.get(path).status_code == 200
    wrong = requester.post(path, {"passcode": "WRONG123"})
    assert wrong.status_code == 403 and "wrong passcode" in wrong.content.decode()
    got = requester.post(path, {"passcode": passcode})
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="release.download").count() == 1

    # the disclosure is in the patient's log (under an authorization: not listed
    # in the accounting, R-AOD-2)
    entry = Disclosure.objects.get(request=req)
    assert entry.legal_basis == "authorization" and not entry.accountable
    log = roi.get(f"/release/patients/{patient.pk}/disclosures").content.decode()
    assert req.number in log[log.index('id="log"') :]
