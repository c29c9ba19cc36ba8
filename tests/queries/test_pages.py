"""The query desk's pages: raise a query from a visit (a leading one refused with its
rule IDs, nothing sent), the worklist and a chart's queries, the provider's own
queries and the answer form, and the metrics."""

from __future__ import annotations

from recordroom.queries.models import Query
from tests.web.conftest import signed_in


def _form(visit, doctor, note, hemoglobin, **over):
    data = {"encounter": str(visit.pk), "provider": str(doctor.pk),
            "purpose": "imprecise", "format": "multiple", "template": "anemia-type",
            "question": "Based on the clinical indicators below, please clarify the "
                        "type of anemia being monitored and treated, if any.",
            "options": ["Acute blood loss anemia", "Anemia of chronic disease"],
            "observations": [str(hemoglobin.pk)], "doc_1": str(note.pk),
            "quote_1": "Transfused two units", "kind_1": "treatment",
            "document": str(note.pk)}  # fmt: skip
    data.update(over)
    return data


def test_r_qry_3_the_builder_page_refuses_leading_wording_with_rule_ids(
    cdi, visit, doctor, note, hemoglobin
):
    c = signed_in(cdi)
    page = c.get("/queries/new", {"encounter": str(visit.pk),
                                  "template": "anemia-type"}).content.decode()  # fmt: skip
    assert "Acute blood loss anemia" in page and "Hemoglobin" in page
    assert "Transfused two units of packed red cells." in page  # the note's text
    assert 'value="Acute blood loss anemia" checked' not in page  # nothing pre-chosen
    r = c.post("/queries/new", _form(visit, doctor, note, hemoglobin,
               question="Please document acute blood loss anemia for the DRG.",
               options=["Acute blood loss anemia"]))  # fmt: skip
    assert r.status_code == 400
    body = r.content.decode()
    assert "R-QRY-3: a query never mentions reimbursement" in body
    assert "R-QRY-3: the wording directs or pressures" in body
    assert "R-QRY-3: offer at least two" in body
    assert 'value="Transfused two units"' in body  # the form keeps what was typed
    assert not Query.objects.exists()


def test_r_qry_2_raise_from_the_chart_and_the_provider_answers(
    cdi, visit, doctor, note, hemoglobin, patient
):
    c = signed_in(cdi)
    chart = c.get(f"/patients/{patient.pk}").content.decode()
    assert f"/queries/new?encounter={visit.pk}" in chart
    r = c.post("/queries/new", _form(visit, doctor, note, hemoglobin))
    q = Query.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/queries/{q.pk}"
    page = c.get(r["Location"]).content.decode()
    assert "CBC panel (Laboratory), North Lab" in page and "7.1" in page
    assert "Progress note, version 1, page 1" in page and "Awaiting" in page
    listed = c.get("/queries/", {"patient": str(patient.pk)}).content.decode()
    assert q.number in listed
    assert c.get("/queries/", {"patient": "not-an-id"}).status_code == 200

    p = signed_in(doctor.user)
    mine = p.get("/queries/mine").content.decode()
    assert q.number in mine
    form = p.get(f"/queries/mine/{q.pk}").content.decode()
    assert "Clinically undetermined" in form and "Other" in form
    r = p.post(f"/queries/mine/{q.pk}", {"answer": "Other"})
    assert r.status_code == 200 and "Nothing was filed" in r.content.decode()
    r = p.post(f"/queries/mine/{q.pk}", {"answer": "Acute blood loss anemia",
                                         "as_addendum": "1"})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == "/queries/mine"
    q.refresh_from_db()
    assert q.status == "answered" and q.answer_version.number == 2
    assert "No query awaits your answer." in p.get("/queries/mine").content.decode()
    page = c.get(f"/queries/{q.pk}").content.decode()
    assert "Acute blood loss anemia" in page and "signed" in page
    metrics = c.get("/queries/metrics").content.decode()
    assert "William Osler" in metrics and '<dd class="m-response">100.0%</dd>' in metrics
