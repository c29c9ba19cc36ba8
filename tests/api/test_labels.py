"""Sensitivity labels over the JSON API: a document the user's role may not read is
refused by name (metadata and content) and left out of the chart's lists; a VIP chart's
lists need a grant or a reason given on the chart (R-P2-1, R-PN-2, R-SEC-1)."""

from __future__ import annotations

import json

import pytest

from recordroom.audit.models import AuditEvent
from tests.labelled import labelled_chart

from .conftest import api_for


@pytest.fixture
def chart(db, facility):
    return labelled_chart(facility)


def test_r_p2_1_part_2_and_psychotherapy_notes_are_refused_by_name(chart):
    api = api_for(chart.him)
    for doc, words in ((chart.part2, "42 CFR Part 2"), (chart.therapy,
                                                       "Psychotherapy note")):  # fmt: skip
        meta = api.get(f"/documents/{doc.pk}")
        assert meta.status_code == 403 and words in meta.json()["message"]
        content = api.get(f"/documents/{doc.pk}/content", how="download")
        assert content.status_code == 403 and b"%PDF" not in content.content
    denied = AuditEvent.objects.filter(action="document.download", outcome="denied")
    assert denied.count() == 2


def test_lists_leave_out_what_the_role_may_not_read(chart):
    items = api_for(chart.him).get(f"/patients/{chart.patient.pk}/documents").json()
    assert [d["title"] for d in items["items"]] == ["Discharge summary"]
    doctor = api_for(chart.doctor).get(f"/patients/{chart.patient.pk}/documents")
    assert {d["title"] for d in doctor.json()["items"]} == {
        "Discharge summary", "Opioid treatment program visit",
        "Infectious disease summary",
    }  # fmt: skip


def test_a_granted_read_says_so_in_its_audit_detail(chart):
    response = api_for(chart.doctor).get(f"/documents/{chart.part2.pk}/content")
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="document.view").latest("pk")
    assert json.loads(event.detail)["label_access"] == "grant"


def test_r_sec_1_a_vip_chart_is_refused_over_the_api_without_a_grant(chart):
    response = api_for(chart.doctor).get(f"/patients/{chart.vip.pk}/documents")
    assert response.status_code == 403
    assert "VIP chart" in response.json()["message"]
    assert AuditEvent.objects.filter(action="chart.open", outcome="denied",
                                     patient_id=str(chart.vip.pk)).exists()  # fmt: skip
    ok = api_for(chart.privacy).get(f"/patients/{chart.vip.pk}/documents")
    assert [d["title"] for d in ok.json()["items"]] == ["VIP discharge summary"]


def test_r_sec_1_a_vip_charts_demographics_need_the_same_grant_as_its_lists(chart):
    """GET /patients/{id} opens the chart as its page does: a VIP chart's identifiers,
    addresses and phones need a grant or a reason given on the chart."""
    refused = api_for(chart.doctor).get(f"/patients/{chart.vip.pk}")
    assert refused.status_code == 403
    assert "VIP chart" in refused.json()["message"]
    assert AuditEvent.objects.filter(action="chart.open", outcome="denied",
                                     patient_id=str(chart.vip.pk)).exists()  # fmt: skip
    ok = api_for(chart.privacy).get(f"/patients/{chart.vip.pk}")
    assert ok.status_code == 200 and ok.json()["id"] == str(chart.vip.pk)
    event = AuditEvent.objects.filter(action="chart.open", outcome="success").latest("pk")
    assert json.loads(event.detail)["label_access"] == "grant"
    plain = api_for(chart.doctor).get(f"/patients/{chart.patient.pk}")
    assert plain.status_code == 200
