"""Queries over the JSON API and the command line: raise (a 422 with rule IDs for
leading wording), the provider's own list, count and answer, withdrawal, metrics."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recordroom.cli.app import app
from tests.api.conftest import api_for


def _body(visit, doctor, note, hemoglobin, **over):
    body = {"encounter_id": str(visit.pk), "provider_id": str(doctor.pk),
            "template": "anemia-type", "format": "multiple", "purpose": "imprecise",
            "question": "Based on the clinical indicators below, please clarify the "
                        "type of anemia being monitored and treated, if any.",
            "options": ["Acute blood loss anemia", "Anemia of chronic disease"],
            "document_id": str(note.pk),
            "indicators": [{"observation_id": str(hemoglobin.pk)},
                           {"document_id": str(note.pk), "version": 1,
                            "quote": "Transfused two units", "kind": "treatment"}]}  # fmt: skip
    body.update(over)
    return body


def test_r_qry_4_raise_and_answer_over_the_api(cdi, doctor, visit, note, hemoglobin):
    api = api_for(cdi)
    r = api.post("/queries", _body(visit, doctor, note, hemoglobin, format="yes-no",
                                   options=[], question="Does the patient have "
                                   "acute blood loss anemia?"))  # fmt: skip
    assert r.status_code == 422
    assert r.json()["field"] == "yes_no_ground"
    assert "R-QRY-4: a yes/no query may never obtain a new diagnosis" in r.json()["message"]
    r = api.post("/queries", _body(visit, doctor, note, hemoglobin))
    assert r.status_code == 201, r.content
    q = r.json()
    assert q["options"][-2:] == ["Other", "Clinically undetermined"]
    assert [i["source"] for i in q["indicators"]] == [
        "CBC panel (Laboratory), North Lab", "Progress note, version 1, page 1"]
    assert q["template"] == "anemia-type" and q["deficiency_id"]
    templates = api.get("/query-templates").json()
    assert any(t["code"] == "poa-status" and t["format"] == "yes-no" for t in templates)

    doc = api_for(doctor.user)
    assert doc.get("/queries/mine/count").json() == {"open": 1}
    assert [x["number"] for x in doc.get("/queries/mine").json()["items"]] == [q["number"]]
    r = doc.post(f"/queries/mine/{q['id']}/answer", {"answer": "Other",
                                                      "answer_text": "Hemodilution."})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "answered" and r.json()["agreed"] is None
    r = api.post(f"/queries/{q['id']}/agreement", {"agreed": False})
    assert r.json()["agreed"] is False
    m = api.get("/queries/metrics").json()
    assert m["total"]["response_rate"] == 100.0 and m["total"]["agreement_rate"] == 0.0
    assert m["by_template"][0]["key"] == "anemia-type"


def test_a_provider_may_not_raise_and_the_cli_prints_metrics(
    cdi, doctor, visit, note, hemoglobin
):
    r = api_for(doctor.user).post("/queries", _body(visit, doctor, note, hemoglobin))
    assert r.status_code == 403
    api = api_for(cdi)
    q = api.post("/queries", _body(visit, doctor, note, hemoglobin)).json()
    r = api.post(f"/queries/{q['id']}/withdraw", {"reason": "documented meanwhile"})
    assert r.json()["status"] == "withdrawn"
    result = CliRunner().invoke(app, ["queries", "metrics", "--json"])
    assert result.exit_code == 0, result.output
    total = json.loads(result.output)["total"]
    assert (total["sent"], total["withdrawn"], total["response_rate"]) == (1, 1, None)
    result = CliRunner().invoke(app, ["queries", "list", "--status", "withdrawn"])
    assert result.exit_code == 0 and q["number"] in result.output
    result = CliRunner().invoke(app, ["queries", "escalate"])
    assert result.exit_code == 0 and "0 queries escalated" in result.output
