"""The registration page at a facility that assigns its own MRNs: no MRN asked for,
the number given on registering and said; where MRNs come from another system the
typed MRN is required; the search page shows why a tolerant match matched, with
address, phone and last visit, and pages."""

from __future__ import annotations

from django.contrib.messages import get_messages

from recordroom.kernel.actor import SYSTEM
from recordroom.mpi import mrn
from recordroom.mpi.models import Patient
from tests import factories

from .conftest import signed_in
from .test_register import URL, maja


def _assigning(facility, **more):
    changes = {"mrn_source": "here", "mrn_width": 7, "mrn_prefix": "N", **more}
    return mrn.set_mrn_settings(actor=SYSTEM, facility=facility, changes=changes)


def test_the_page_asks_no_mrn_where_the_facility_assigns_and_says_which(db, facility):
    _assigning(facility)
    client = signed_in(
        factories.user("desk.n", "him_specialist", facilities=[facility])
    )
    form = client.get(URL).content.decode()
    assert 'name="mrn"' not in form
    resp = client.post(URL, {**maja(facility, mrn=""), "action": "register"})
    assert resp.status_code == 302, resp.content.decode()[:3000]
    message = " ".join(str(m) for m in get_messages(resp.wsgi_request))
    assert "MRN N0000001 (assigned by NORTH)" in message
    patient = Patient.objects.get()
    assert list(patient.identifiers.filter(kind="MR").values_list("value", flat=True)) \
        == ["N0000001"]  # fmt: skip


def test_mixed_facilities_type_only_where_mrns_come_from_elsewhere(
    db, facility, other_facility
):
    _assigning(facility)
    client = signed_in(factories.user("desk.m", "him_specialist",
                                      facilities=[facility, other_facility]))  # fmt: skip
    typed_here = client.post(URL, {**maja(facility, mrn="N5"), "action": "check"})
    assert typed_here.status_code == 422
    assert (
        "NORTH assigns its own MRNs: leave the MRN empty" in typed_here.content.decode()
    )
    missing = client.post(URL, {**maja(other_facility, mrn=""), "action": "check"})
    assert missing.status_code == 422
    assert ("an MRN is required: SOUTH takes its MRNs from another system"
            in missing.content.decode())  # fmt: skip
    assert Patient.objects.count() == 0


def test_search_page_shows_why_address_phone_last_visit_and_pages(db, facility):
    client = signed_in(
        factories.user("desk.s", "him_specialist", facilities=[facility])
    )
    smyth = factories.patient(facility=facility, family="Smyth", given="Anna")
    factories.encounter(patient=smyth, facility=facility, days_ago=3)
    for n in range(25):
        factories.patient(facility=facility, family="Smith", given=f"Ann{n:02d}")
    first = client.get("/", {"name": "smith"}).content.decode()
    assert "More than 25 patients found — showing 1 to 25" in first
    assert "Next page" in first and "Smyth sounds like Smith" not in first
    second = client.get("/", {"name": "smith", "page": "2"}).content.decode()
    assert "26 patients found — showing 26 to 26" in second
    assert "Previous page" in second
    assert "Smyth sounds like Smith" in second
    assert "12 Elm St, Springfield, IL 62701" in second and "217-555-0100" in second
    assert "Next page" not in second
