"""The release desk's pages date things on the facility's calendar, as the chart
does (DESIGN rule 8): 23:30 in New York is still that day, not UTC's tomorrow."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.release import scope
from tests import factories
from tests.release.makers import file_doc

from .conftest import signed_in
from .test_release_desk import make_request

# 23:30 on December 6 in New York (the test facility's zone) is 04:30 UTC December 7
EVENING = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


def _field_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def test_the_request_form_defaults_received_on_to_the_facilitys_today(roi, patient):
    with clock.frozen(EVENING):
        page = signed_in(roi).get("/release/new", {"patient": str(patient.pk)})
    assert _field_value(page.content.decode(), "received_on") == "2026-12-06"


def test_the_upload_form_defaults_the_date_of_service_to_the_facilitys_today(
    patient, facility
):
    him = factories.user("him2", "him_specialist", facilities=[facility])
    with clock.frozen(EVENING):
        page = signed_in(him).get(f"/patients/{patient.pk}/documents/new")
    assert _field_value(page.content.decode(), "service_date") == "2026-12-06"


def test_the_release_desk_shows_the_same_date_of_service_as_the_chart(
    roi, patient, facility
):
    # seen at 21:00 on December 1 in New York: 02:00 UTC on December 2
    doc = file_doc(patient=patient, facility=facility, title="Evening visit")
    doc.service_start = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    doc.save(update_fields=["service_start"])
    req = make_request(roi, patient)
    scope.select_documents(actor=Actor(user=roi, channel="web"), req=req)
    client = signed_in(roi)
    desk = client.get(f"/release/{req.pk}").content.decode()
    chart = client.get(f"/patients/{patient.pk}").content.decode()
    assert "2026-12-01" in chart and "2026-12-02" not in chart
    assert "2026-12-01" in desk and "2026-12-02" not in desk
