"""The compare page and the held merges page: a manager merges past a guard with a
reason (shown in the merge history), a specialist sees why the merge button is
refused; an inbound A40 held for review is listed, and approved or rejected."""

from __future__ import annotations

from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.mpi.models import HeldMerge, OverlayFlag, Patient, PatientMerge
from tests import factories
from tests.interop.hl7v2.messages import adt
from tests.web.conftest import signed_in

TWINS = "same birth date and surname, different first names (Mary and Mark): twins are two people"


@pytest.fixture
def twins(facility):
    born = date(2001, 3, 4)
    a = factories.patient(
        facility=facility, family="Lund", given="Mary", birth_date=born
    )
    b = factories.patient(
        facility=facility, family="Lund", given="Mark", birth_date=born
    )
    return a, b


def test_a_specialist_sees_the_refused_button_and_its_reason(him_client, twins):
    a, b = twins
    url = f"/identity/merge?left={a.pk}&right={b.pk}"
    html = him_client.get(url).content.decode()
    assert 'disabled aria-disabled="true" aria-describedby="merge-refused"' in html
    assert f"Not allowed: {TWINS} (an HIM manager may override)" in html
    assert 'name="override"' not in html
    resp = him_client.post(url, {"survivor": "left", "reason": "same", "override": "x"})
    assert "only an HIM manager may override" in resp.content.decode()
    assert not PatientMerge.objects.exists()


def test_a_manager_merges_past_the_twin_rule_and_the_history_shows_it(facility, twins):
    a, b = twins
    boss = signed_in(factories.user("boss1", "him_manager", facilities=[facility]))
    url = f"/identity/merge?left={a.pk}&right={b.pk}"
    html = boss.get(url).content.decode()
    assert "Merge anyway (override the rule)" in html and 'name="override"' in html
    assert "aria-disabled" not in html
    resp = boss.post(url, {"survivor": "left", "reason": "one girl",
                           "override": "birth certificate shows one child"})  # fmt: skip
    assert resp.status_code == 302
    assert Patient.objects.get(pk=b.pk).merged_into_id == a.pk
    history = boss.get("/identity/merges").content.decode()
    assert (
        "Rule overridden" in history and "birth certificate shows one child" in history
    )
    assert TWINS in history


def test_the_comparison_says_an_ssn_typo(him_client, facility):
    a = factories.patient(
        facility=facility, family="Ng", given="Tao", ssn="900-55-1234"
    )
    b = factories.patient(
        facility=facility, family="Ng", given="Tao", ssn="900-55-1243"
    )
    html = him_client.get(f"/identity/merge?left={a.pk}&right={b.pk}").content.decode()
    assert "the SSNs differ by two digits transposed (…1234 / …1243)" in html
    assert "aria-disabled" not in html


@pytest.fixture
def held(facility):
    assert handle(adt("A04", "W1")).code == "AA"
    other = adt("A04", "W2", mrn="M0002", name="PRICE^WALTER", dob="19590314", ssn="")
    assert handle(other).code == "AA"
    merge = adt("A40", "W3") + b"MRG|M0002^^^NORTH^MR\r"
    assert handle(merge).code == "AE"
    return HeldMerge.objects.get()


def test_held_merges_are_listed_beside_the_overlays_and_approved(him_client, held):
    page = him_client.get("/identity/held-merges").content.decode()
    assert "PRICE, WALTER into DOE, JANE Q" in page
    assert "birth dates 1980-01-31 and 1959-03-14" in page
    assert "REGAPP/NORTH (message W3)" in page
    overlays = him_client.get("/identity/overlays").content.decode()
    assert "Inbound merge held for review" in overlays
    flag = OverlayFlag.objects.get(kind="held-merge")
    assert him_client.get(f"/identity/overlays/{flag.pk}")["Location"] == (
        "/identity/held-merges"
    )
    resp = him_client.post(f"/identity/held-merges/{held.pk}",
                           {"action": "approve", "reason": "sender confirmed"})  # fmt: skip
    assert resp.status_code == 302
    held.refresh_from_db()
    assert held.status == "merged" and held.merge is not None
    assert AuditEvent.objects.filter(action="mpi.merge_hold_decide").count() == 2
    assert "No inbound merge waiting for review" in (
        him_client.get("/identity/held-merges").content.decode()
    )


def test_a_held_merge_is_rejected_from_the_page(him_client, held):
    resp = him_client.post(f"/identity/held-merges/{held.pk}",
                           {"action": "reject", "note": "two different men"})  # fmt: skip
    assert resp.status_code == 302
    assert HeldMerge.objects.get().status == "rejected"
    assert not Patient.objects.filter(merged_into__isnull=False).exists()
    assert (
        "two different men" in him_client.get("/identity/held-merges").content.decode()
    )
