"""Happy paths through search, chart, document, content, upload and access log,
with the audit events each one writes (R-AUD: every PHI read audited)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.records.models import Document, DocumentType
from recordroom.records.services import sign_version
from tests import factories

NEW_YORK = ZoneInfo("America/New_York")  # the facility's zone (Facility.timezone)


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


def test_search_by_partial_name_lists_the_patient_and_audits_the_query(
    him_client, chart_patient
):
    response = him_client.get(reverse("web:search"), {"name": "okaf"})
    assert response.status_code == 200
    html = response.content.decode()
    chart_url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    assert f'<a href="{chart_url}">OKAFOR, Adaeze N</a>' in html
    assert "1990-01-01" in html and "N200777" in html and "NORTH" in html
    assert "VIP" in html
    event = _last("patient.search")
    assert json.loads(event.detail) == {"query": {"name": "okaf"}, "results": 1}
    assert (event.username, event.patient_id) == ("him1", "")


def test_search_by_previous_name_shows_which_name_matched(him_client, chart_patient):
    html = him_client.get(reverse("web:search"), {"name": "eze"}).content.decode()
    assert "OKAFOR, Adaeze N" in html
    assert "EZE, Adaeze (previous)" in html


def test_search_by_account_birth_date_and_ssn_are_audited_with_the_query(
    him_client, chart_patient, encounter
):
    response = him_client.get(
        reverse("web:search"),
        {"account": "V900123", "birth_date": "1990-01-01", "ssn": "6789"},
    )
    assert "OKAFOR, Adaeze N" in response.content.decode()
    assert json.loads(_last("patient.search").detail) == {
        "query": {"account": "V900123", "birth_date": "1990-01-01", "ssn": "***6789"},
        "results": 1,
    }
    none = him_client.get(reverse("web:search"), {"identifier": "N999999"})
    assert "0 patients found" in none.content.decode()
    assert json.loads(_last("patient.search").detail)["results"] == 0


def test_search_errors_are_shown_on_the_form_and_not_audited(him_client, db):
    empty = him_client.get(reverse("web:search"), {"name": ""})
    assert "give a name, birth date, MRN/identifier, SSN or account number" in (
        empty.content.decode()
    )
    short_ssn = him_client.get(reverse("web:search"), {"ssn": "12"}).content.decode()
    assert "search by SSN takes all nine digits or the last four, got 2" in short_ssn
    bad_date = him_client.get(reverse("web:search"), {"birth_date": "31/31/1990"})
    assert "Enter a valid date." in bad_date.content.decode()
    assert not AuditEvent.objects.filter(action="patient.search").exists()
    # The bare page shows the form and searches nothing.
    assert him_client.get(reverse("web:search")).status_code == 200
    assert not AuditEvent.objects.filter(action="patient.search").exists()


def test_chart_shows_demographics_history_encounters_and_documents(
    him_client, chart_patient, encounter, pdf_document
):
    provider = factories.provider()
    sign_version(
        actor=factories.SYSTEM, version=pdf_document.versions.get(), signer=provider
    )
    factories.document(
        patient=chart_patient, facility=encounter.facility, code="11506-3",
        text="Progress note",
    )  # fmt: skip
    url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    response = him_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # identifiers, SSN masked and never in full
    assert "N200777" in html and "***-**-6789" in html
    assert "123-45-6789" not in html and "123456789" not in html
    # names with periods, addresses and telecoms with history
    assert "EZE, Adaeze" in html and "2015-06-20" in html
    assert "40 Harbor Rd, Salem, MA 01970" in html
    assert "9 Old Mill Ln, Lowell, MA 01850" in html and "2019-03-31" in html
    assert "978-555-0142" in html
    # encounter timeline in the facility's zone
    local = encounter.admit_at.astimezone(NEW_YORK)
    assert local.strftime("%Y-%m-%d %H:%M") in html
    assert "V900123" in html and "Inpatient" in html
    # documents grouped by type, with labels, versions and signature state
    assert "<h3>Discharge summary <span" in html and "<h3>Progress note <span" in html
    assert 'title="HIV/AIDS information">HIV</span>' in html
    assert ">Signed</span>" in html and ">Unsigned</span>" in html
    assert reverse("web:document", kwargs={"document_id": pdf_document.pk}) in html
    # HIM specialists may file documents but not see the access log
    assert reverse("web:upload", kwargs={"patient_id": chart_patient.pk}) in html
    assert "Who accessed this record" not in html
    event = _last("chart.open")
    assert (event.patient_id, event.username, event.outcome) == (
        str(chart_patient.pk),
        "him1",
        "success",
    )


def test_chart_queries_do_not_grow_with_the_number_of_documents(
    him_client, chart_patient, encounter, pdf_document
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    with CaptureQueriesContext(connection) as one:
        him_client.get(url)
    for code in ("11506-3", "11506-3", "34117-2", "18748-4"):
        factories.document(
            patient=chart_patient, facility=encounter.facility, code=code,
            encounter=encounter,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as five:
        html = him_client.get(url).content.decode()
    assert html.count('href="/documents/') == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_document_page_embeds_the_pdf_viewer_and_versions(him_client, pdf_document):
    response = him_client.get(
        reverse("web:document", kwargs={"document_id": pdf_document.pk})
    )
    assert response.status_code == 200
    html = response.content.decode()
    content = reverse("web:document_content", kwargs={"document_id": pdf_document.pk})
    assert '<iframe class="viewer" id="document-viewer"' in html
    assert f'src="{content}?how=view&amp;disposition=inline&amp;version=1"' in html
    assert f'href="{content}?how=download&amp;version=1"' in html
    assert f'href="{content}?how=print&amp;version=1"' in html
    assert "note.pdf" in html and pdf_document.versions.get().sha256[:12] in html
    assert "V900123" in html and "HIV/AIDS information" in html
    page_read = _last("chart.open")
    assert page_read.patient_id == str(pdf_document.patient_id)
    assert json.loads(page_read.detail) == {
        "document": str(pdf_document.pk),
        "part": "document page",
        "label_access": "grant",  # him1's grant of VIP and HIV let the read through
    }


def test_content_is_served_verified_and_each_read_is_audited(him_client, pdf_document):
    url = reverse("web:document_content", kwargs={"document_id": pdf_document.pk})
    view = him_client.get(url, {"how": "view", "disposition": "inline"})
    assert view.status_code == 200
    assert view["Content-Type"] == "application/pdf"
    assert view["Content-Disposition"] == 'inline; filename="note.pdf"'
    assert view["Cache-Control"] == "no-store, private"
    assert view.content.startswith(b"%PDF-")
    assert _last("document.view").patient_id == str(pdf_document.patient_id)

    download = him_client.get(url, {"how": "download"})
    assert download["Content-Disposition"] == 'attachment; filename="note.pdf"'
    assert download.content == view.content
    printed = him_client.get(url, {"how": "print", "version": "1"})
    assert printed["Content-Disposition"].startswith("inline")
    detail = json.loads(_last("document.print").detail)
    assert detail == {
        "document": str(pdf_document.pk),
        "version": 1,
        "label_access": "grant",
    }
    assert AuditEvent.objects.filter(action="document.download").count() == 1


def test_text_and_image_documents_are_shown_in_the_page(him_client, chart_patient):
    facility = chart_patient.identifiers.get(kind="MR").facility
    from recordroom.records.services import file_document

    text_doc = file_document(
        actor=factories.SYSTEM, patient=chart_patient,
        doc_type=DocumentType.objects.get(code="CORR"),
        data=b"Letter to Dr. <Osler> & team\n", filename="letter.txt",
        facility=facility,
    )  # fmt: skip
    html = him_client.get(
        reverse("web:document", kwargs={"document_id": text_doc.pk})
    ).content.decode()
    assert (
        '<pre class="viewer-text" id="document-viewer">Letter to Dr. &lt;Osler&gt;'
        in (html)
    )
    assert _last("document.view").object_id == str(text_doc.versions.get().pk)

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    image_doc = file_document(
        actor=factories.SYSTEM, patient=chart_patient,
        doc_type=DocumentType.objects.get(code="59284-0"), data=png,
        filename="consent scan.png", facility=facility,
    )  # fmt: skip
    html = him_client.get(
        reverse("web:document", kwargs={"document_id": image_doc.pk})
    ).content.decode()
    assert '<img class="viewer-image" id="document-viewer"' in html
    content = him_client.get(
        reverse("web:document_content", kwargs={"document_id": image_doc.pk}),
        {"how": "download"},
    )
    assert content["Content-Type"] == "image/png"
    assert content["Content-Disposition"] == 'attachment; filename="consent scan.png"'


def test_upload_files_a_document_with_labels_on_the_encounter(
    him_client, chart_patient, encounter
):
    url = reverse("web:upload", kwargs={"patient_id": chart_patient.pk})
    form = him_client.get(url)
    assert form.status_code == 200
    html = form.content.decode()
    assert "V900123 · Inpatient" in html
    assert '<label for="id_file">File</label>' in html
    assert "PSYTHPN: Psychotherapy note" in html

    pdf = factories.pdf_bytes("Operative report, left knee arthroscopy")
    response = him_client.post(
        url,
        {
            "doc_type": DocumentType.objects.get(code="11504-8").pk,
            "encounter": encounter.pk,
            "service_date": "2024-03-05",
            "status": "final",
            "title": "Left knee arthroscopy",
            "sensitivity": ["SDV", "MINCC"],
            "file": SimpleUploadedFile(
                "op-report.pdf", pdf, content_type="application/pdf"
            ),
        },
    )
    doc = Document.objects.get(title="Left knee arthroscopy")
    assert response.status_code == 302
    # Filed; its labels (SDV, MINCC) need break-the-glass for an HIM specialist, so
    # the filer goes back to the chart rather than to a page that would refuse them.
    assert response["Location"] == reverse(
        "web:chart", kwargs={"patient_id": chart_patient.pk}
    )
    assert (doc.patient, doc.encounter, doc.source) == (
        chart_patient,
        encounter,
        "upload",
    )
    assert doc.sensitivity == ["MINCC", "SDV"]
    assert (
        doc.service_start.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M")
        == "2024-03-05 00:00"
    )
    version = doc.versions.get()
    assert (version.filename, version.media_type, version.size) == (
        "op-report.pdf", "application/pdf", len(pdf),
    )  # fmt: skip
    event = _last("document.create")
    assert (event.username, event.patient_id, event.channel) == (
        "him1", str(chart_patient.pk), "web",
    )  # fmt: skip
    page = him_client.get(response["Location"]).content.decode()
    assert "Filed Operative report (op-report.pdf)." in page


def test_upload_without_encounter_uses_the_patients_facility(him_client, chart_patient):
    url = reverse("web:upload", kwargs={"patient_id": chart_patient.pk})
    response = him_client.post(
        url,
        {
            "doc_type": DocumentType.objects.get(code="CORR").pk,
            "facility": chart_patient.identifiers.get(kind="MR").facility_id,
            "service_date": "2024-01-02",
            "status": "final",
            "file": SimpleUploadedFile(
                "letter.txt", b"Dear colleague,\n", "text/plain"
            ),
        },
    )
    assert response.status_code == 302
    doc = Document.objects.get(patient=chart_patient)
    assert (doc.facility.code, doc.encounter, doc.versions.get().media_type) == (
        "NORTH", None, "text/plain",
    )  # fmt: skip


def test_access_log_lists_who_opened_the_chart_newest_first(
    db, chart_patient, facility
):
    from .conftest import signed_in

    privacy = factories.user("privacy1", "privacy_officer", facilities=[facility])
    him = factories.user("him2", "him_specialist", facilities=[facility])
    signed_in(him).get(reverse("web:chart", kwargs={"patient_id": chart_patient.pk}))
    client = signed_in(privacy)
    url = reverse("web:access_log", kwargs={"patient_id": chart_patient.pk})
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    opened = AuditEvent.objects.get(action="chart.open", username="him2")
    assert f'<td class="num">{opened.id}</td>' in html
    assert "him2" in html and "HIM specialist" in html and "127.0.0.1" in html
    assert "chart.open" in html and "patient.create" in html
    assert f'href="/api/v1/patients/{chart_patient.pk}/access-log.ndjson"' in html
    # Newest first: the privacy officer's own look is at the top.
    mine = _last("chart.access_log")
    assert (mine.username, mine.patient_id) == ("privacy1", str(chart_patient.pk))
    assert html.index(f'<td class="num">{mine.id}</td>') < html.index(
        f'<td class="num">{opened.id}</td>'
    )


def test_access_log_pages_by_keyset_fifty_at_a_time(db, chart_patient, facility):
    from .conftest import signed_in

    privacy = factories.user("privacy1", "privacy_officer", facilities=[facility])
    for _ in range(60):
        record(
            actor=factories.actor(privacy), action=actions.CHART_OPEN.name,
            patient=chart_patient,
        )  # fmt: skip
    ids = list(
        AuditEvent.objects.filter(patient_id=str(chart_patient.pk))
        .order_by("-id")
        .values_list("id", flat=True)
    )
    client = signed_in(privacy)
    url = reverse("web:access_log", kwargs={"patient_id": chart_patient.pk})
    first = client.get(url).content.decode()
    newest = ids[0] + 1  # the page's own chart.access_log event
    shown = [newest, *ids[:49]]
    assert first.count('<td class="num">') == 50
    assert f'href="{url}?before={shown[-1]}"' in first
    second = client.get(url, {"before": shown[-1]}).content.decode()
    assert second.count('<td class="num">') == len(ids) - 49
    assert f'<td class="num">{ids[49]}</td>' in second
    assert "?before=" not in second  # last page
    assert json.loads(_last("chart.access_log").detail) == {"before": shown[-1]}


def test_access_log_download_link_serves_fhir_ndjson_with_the_session(
    db, chart_patient, facility
):
    from .conftest import signed_in

    privacy = factories.user("privacy1", "privacy_officer", facilities=[facility])
    client = signed_in(privacy)
    page = client.get(
        reverse("web:access_log", kwargs={"patient_id": chart_patient.pk})
    )
    link = f"/api/v1/patients/{chart_patient.pk}/access-log.ndjson"
    assert f'href="{link}"' in page.content.decode()
    logged = AuditEvent.objects.filter(patient_id=str(chart_patient.pk)).count()
    response = client.get(link)
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == logged
    assert {json.loads(line)["resourceType"] for line in lines} == {"AuditEvent"}
