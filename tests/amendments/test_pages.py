"""The amendments desk's pages: log a request from the MRN, the worklist with its
clock, the request page's forms (extend, decide, disagreement, rebuttal) and
letters to download."""

from __future__ import annotations

import io

from pypdf import PdfReader

from recordroom.amendments.models import AmendmentRequest, Status
from tests import factories
from tests.web.conftest import signed_in


def test_r_amd_2_log_a_request_from_the_desk_and_see_its_clock(him, patient, note):
    c = signed_in(him)
    r = c.get("/amendments/new", {"mrn": "N100001"})
    assert r.status_code == 302 and str(patient.pk) in r["Location"]
    page = c.get(r["Location"]).content.decode()
    assert "Progress note" in page and "NÚÑEZ, José" in page
    r = c.post(f"/amendments/new?patient={patient.pk}", {
        "patient": str(patient.pk), "facility": "NORTH",
        "received_on": factories.facility_today().isoformat(), "received_how": "mail",
        "requested_by": "José Núñez", "change": "I never smoked.",
        "reason": "", "documents": [str(note.pk)]})  # fmt: skip
    assert r.status_code == 400
    assert "Nothing was logged: say why the patient asks" in r.content.decode()
    r = c.post(f"/amendments/new?patient={patient.pk}", {
        "patient": str(patient.pk), "facility": "NORTH",
        "received_on": factories.facility_today().isoformat(), "received_how": "mail",
        "requested_by": "José Núñez", "change": "I never smoked.",
        "reason": "Not my history.", "documents": [str(note.pk)],
        "notify_name_1": "Dr. Ana Ruiz"})  # fmt: skip
    req = AmendmentRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/amendments/{req.pk}"
    page = c.get(r["Location"]).content.decode()
    assert "I never smoked." in page and '<dd class="req-days">60</dd>' in page
    worklist = c.get("/amendments/").content.decode()
    assert req.number in worklist and "1 request" in worklist
    assert "<dt>Received</dt><dd>1</dd><dt>With the author</dt><dd>0</dd>" in worklist


def test_r_amd_6_deny_then_disagreement_and_rebuttal_from_the_page(
    him, make_amendment, note
):
    c = signed_in(him)
    req = make_amendment()
    base = f"/amendments/{req.pk}"
    r = c.post(f"{base}/decide", {f"entry_{note.pk}": "deny", "ground": "accurate",
                                  "basis": "Recorded as you told us.",
                                  "originator_available": "1"})  # fmt: skip
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.DENIED
    c.post(f"{base}/disagreement", {"text": "I disagree entirely."})
    c.post(f"{base}/rebuttal", {"text": "We stand by the note."})
    page = c.get(base).content.decode()
    assert "I disagree entirely." in page and "We stand by the note." in page
    assert "These materials go with every release" in page
    letter = req.letters.get(kind="denial")
    r = c.get(f"/amendments/letters/{letter.pk}", {"download": "1"})
    assert (
        r["Content-Type"] == "application/pdf"
        and "attachment" in r["Content-Disposition"]
    )
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "Recorded as you told us." in text


def test_a_refused_step_is_shown_by_name(him, make_amendment):
    c = signed_in(him)
    req = make_amendment()
    r = c.post(f"/amendments/{req.pk}/extend", {"reason": ""}, follow=True)
    assert "Nothing was changed: give the reason for the delay" in r.content.decode()
    coder = factories.user("coder9", "coder", facilities=[req.facility])
    assert signed_in(coder).get("/amendments/").status_code == 403
