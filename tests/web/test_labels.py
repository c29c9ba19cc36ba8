"""Sensitivity labels on the pages: the chart shows a restricted item as existing
(date and type) without its content, the viewer and its download refuse it by name,
a VIP chart opens only with a reason (break-the-glass), and search says so."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from recordroom.audit.models import AuditEvent
from tests.labelled import labelled_chart

from .conftest import signed_in


@pytest.fixture
def chart(db, facility):
    return labelled_chart(facility)


def _chart_url(patient) -> str:
    return reverse("web:chart", kwargs={"patient_id": patient.pk})


def _doc_url(doc, name="web:document") -> str:
    return reverse(name, kwargs={"document_id": doc.pk})


def test_r_p2_1_chart_shows_restricted_documents_without_title_or_link(chart):
    html = signed_in(chart.him).get(_chart_url(chart.patient)).content.decode()
    assert "Discharge summary" in html  # unlabelled: as before
    for doc in (chart.part2, chart.therapy, chart.hiv):
        assert doc.title not in html and _doc_url(doc) not in html
    assert (
        "Substance abuse information (42 CFR Part 2), Substance use disorder "
        "information (42 CFR Part 2): title and content hidden" in html
    )
    assert "Psychotherapy note: title and content hidden" in html
    assert "Some visits or documents on this chart are restricted" in html
    # The HIM specialist may break the glass for HIV (state category), so the form shows.
    assert 'action="/patients/' in html and "Open with this reason" in html


def test_r_p2_1_viewer_and_download_refuse_part_2_and_psychotherapy_notes(chart):
    client = signed_in(chart.him)
    for doc in (chart.part2, chart.therapy):
        page = client.get(_doc_url(doc))
        assert page.status_code == 403
        assert "This document is restricted" in page.content.decode()
        content = client.get(_doc_url(doc, "web:document_content"), {"how": "download"})
        assert content.status_code == 403
        assert b"%PDF" not in content.content
    assert not AuditEvent.objects.filter(
        action__in=("document.view", "document.download"), outcome="success",
        patient_id=str(chart.patient.pk),
    ).exists()  # fmt: skip


def test_r_pn_2_the_author_reads_the_note_and_the_read_says_how(chart):
    client = signed_in(chart.therapist)
    assert client.get(_doc_url(chart.therapy)).status_code == 200
    response = client.get(_doc_url(chart.therapy, "web:document_content"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    event = AuditEvent.objects.filter(action="document.view").latest("pk")
    assert json.loads(event.detail)["label_access"] == "author"


def test_a_granted_role_reads_and_the_audit_detail_names_the_grant(chart):
    client = signed_in(chart.doctor)
    response = client.get(_doc_url(chart.part2, "web:document_content"),
                          {"how": "download"})  # fmt: skip
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="document.download").latest("pk")
    assert json.loads(event.detail)["label_access"] == "grant"


def test_r_sec_1_vip_chart_needs_a_reason_then_opens_and_is_audited(chart):
    client = signed_in(chart.doctor)
    url = _chart_url(chart.vip)
    refused = client.get(url)
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "This chart is restricted" in html and "VIP chart" in html
    assert "VIP discharge summary" not in html
    assert "Open with this reason" in html
    denied = AuditEvent.objects.filter(action="chart.open", outcome="denied").latest(
        "pk"
    )
    assert denied.patient_id == str(chart.vip.pk)

    btg = reverse("web:break_glass", kwargs={"patient_id": chart.vip.pk})
    short = client.post(btg, {"reason": "look", "next": url}, follow=True)
    assert "give the reason you need this chart now" in short.content.decode()
    client.post(btg, {"reason": "Collapsed in clinic, treating now", "next": url})
    opened = client.get(url)
    assert opened.status_code == 200
    assert "VIP discharge summary" in opened.content.decode()
    event = AuditEvent.objects.filter(action="chart.open", outcome="success",
                                      patient_id=str(chart.vip.pk)).latest("pk")  # fmt: skip
    assert json.loads(event.detail)["label_access"] == "break-the-glass"
    glass = AuditEvent.objects.get(action="chart.break_glass")
    assert json.loads(glass.detail)["reason"] == "Collapsed in clinic, treating now"


def test_r_sec_1_a_role_without_break_the_glass_is_told_whom_to_ask(chart, facility):
    from tests import factories

    auditor_like = factories.user("coder-v", "coder", facilities=[facility])
    factories.grant_labels(auditor_like, "VIP")  # chart opens...
    html = signed_in(auditor_like).get(_chart_url(chart.patient)).content.decode()
    assert "Session notes" not in html  # ...but psychotherapy notes stay closed
    assert "Open with this reason" not in html  # no reason opens them for a coder


def test_search_shows_a_vip_patient_exists_but_is_restricted(chart):
    html = signed_in(chart.doctor).get(reverse("web:search"), {"name": "Starr"})
    text = html.content.decode()
    assert "Starr" in text and "Restricted for you" in text
    manager_view = signed_in(chart.privacy).get(
        reverse("web:search"), {"name": "Starr"}
    )
    assert "Restricted for you" not in manager_view.content.decode()
