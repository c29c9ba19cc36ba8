"""Chart completion over the API (list, paging, add, reassign, waive, refuse, a
provider's count) and the command line (analyze, delinquency)."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app
from recordroom.completion.models import Deficiency, DeficiencyEvent
from recordroom.records.models import Provider
from tests import factories
from tests.api.conftest import api_for

from .charts import ADMIT, file, visit

runner = CliRunner()


def _chart(person, facility, attending):
    enc = visit(patient=person, facility=facility, attending=attending)
    note = file(enc, "11506-3", ADMIT + timedelta(days=1), author=attending)
    return enc, note


def test_list_filter_and_page_oldest_first(him, person, facility, attending):
    enc, note = _chart(person, facility, attending)
    api = api_for(him)
    first = api.get("/deficiencies", status="open", facility="NORTH", limit=2)
    assert first.status_code == 200, first.content
    body = first.json()
    assert [i["rule"] for i in body["items"]] == ["discharge-summary", "hp-admission"]
    assert body["items"][0]["account_number"] == enc.account_number
    assert body["items"][0]["days_since_discharge"] >= 30
    rest = api.get("/deficiencies", status="open", after=body["next"], limit=2).json()
    assert [i["rule"] for i in rest["items"]] == ["signature"]
    assert rest["next"] is None
    kinds = api.get("/deficiencies", kind="signature").json()["items"]
    assert [i["document_id"] for i in kinds] == [str(note.pk)]
    assert api.get("/deficiencies", status="lost").status_code == 422
    # Each listed patient finds the read in their access log.
    assert AuditEvent.objects.filter(action="completion.view",
                                     patient_id=person.pk).count() == 3  # fmt: skip


def test_add_reassign_waive_and_a_provider_refuses(him, person, facility, attending):
    enc, _ = _chart(person, facility, attending)
    other = factories.provider("Other", "Olga")
    api = api_for(him)
    added = api.post("/deficiencies", {"encounter_id": str(enc.pk), "kind": "other",
                                       "description": "Consent form unsigned",
                                       "due_days": 7})  # fmt: skip
    assert added.status_code == 201, added.content
    d = added.json()
    assert (d["status"], d["provider_id"], d["rule"]) == (
        "open",
        str(attending.pk),
        None,
    )
    moved = api.post(f"/deficiencies/{d['id']}/reassign",
                     {"provider_id": str(other.pk), "reason": "she took the consent"})  # fmt: skip
    assert moved.json()["provider_id"] == str(other.pk)
    # The provider (linked to a user) sees a count of one and refuses it.
    doctor = factories.user("dr.other", "provider", facilities=[facility])
    Provider.objects.filter(pk=other.pk).update(user=doctor)
    papi = api_for(doctor)
    assert papi.get("/deficiencies/mine/count").json() == {"open": 1}
    assert (
        papi.post(f"/deficiencies/{d['id']}/waive", {"reason": "x"}).status_code == 403
    )
    assert (
        papi.post(f"/deficiencies/{d['id']}/refuse", {"reason": " "}).status_code == 422
    )
    refused = papi.post(f"/deficiencies/{d['id']}/refuse",
                        {"reason": "not my patient"})  # fmt: skip
    assert (refused.json()["status"], refused.json()["reason"]) == (
        "refused", "not my patient")  # fmt: skip
    assert papi.get("/deficiencies/mine/count").json() == {"open": 0}
    # Back to the attending, then waived by the specialist.
    back = api.post(f"/deficiencies/{d['id']}/reassign",
                    {"provider_id": str(attending.pk), "reason": "attending's"})  # fmt: skip
    assert (back.json()["status"], back.json()["provider_id"]) == (
        "open",
        str(attending.pk),
    )
    waived = api.post(
        f"/deficiencies/{d['id']}/waive", {"reason": "form found on paper"}
    )
    assert waived.json()["status"] == "waived"
    assert [e.what for e in DeficiencyEvent.objects.filter(deficiency_id=d["id"])] == [
        "added", "reassigned", "refused", "reopened", "reassigned", "waived"]  # fmt: skip
    actions = list(AuditEvent.objects.filter(action__startswith="completion.",
                                             object_id=d["id"]).values_list(
        "action", flat=True))  # fmt: skip
    assert actions == ["completion.add", "completion.reassign", "completion.refuse",
                       "completion.reassign", "completion.waive"]  # fmt: skip


def test_delinquency_over_the_api(him, person, facility, attending):
    _chart(person, facility, attending)
    body = api_for(him).get("/completion/delinquency", facility="NORTH").json()
    assert body["method"] == "tjc" and len(body["periods"]) == 4
    assert body["threshold_pct"] == "50.00"


def test_cli_analyze_prints_open_deficiencies_by_kind(db, person, facility, attending):
    _chart(person, facility, attending)
    Deficiency.objects.all().delete()  # as if the rules were new: analyse again
    result = runner.invoke(app, ["completion", "analyze", "--facility", "north"],
                           catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 charts analysed" in result.output
    assert "Missing document │    2" in result.output.replace("  ", " ") or (
        "Missing document" in result.output and "│    2" in result.output
    )
    assert Deficiency.objects.filter(status="open").count() == 3
    bad = runner.invoke(app, ["completion", "analyze", "--since", "yesterday"])
    assert bad.exit_code == 1 and "is not a date" in bad.output


def test_cli_delinquency_names_the_delinquent_providers(
    db, person, facility, attending
):
    _chart(person, facility, attending)  # discharged 2026-11-05: over 30 days ago
    result = runner.invoke(app, ["completion", "delinquency", "--facility", "NORTH"],
                           catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 providers with delinquent records" in result.output
    assert "Alice Attending, MD" in result.output


def test_chart_worklists_oldest_first(him, person, facility, attending):
    from datetime import UTC, datetime

    from recordroom.completion.models import ChartAnalysis

    old, _ = _chart(person, facility, attending)  # deficient
    done = visit(patient=person, facility=facility, attending=attending,
                 admit=datetime(2026, 10, 1, tzinfo=UTC),
                 discharge=datetime(2026, 10, 3, tzinfo=UTC))  # fmt: skip
    Deficiency.objects.filter(encounter=done).update(status="waived")
    ChartAnalysis.objects.filter(encounter=done).update(open_count=0)
    never = visit(patient=person, facility=facility, attending=attending,
                  admit=datetime(2026, 9, 1, tzinfo=UTC),
                  discharge=datetime(2026, 9, 2, tzinfo=UTC))  # fmt: skip
    ChartAnalysis.objects.filter(encounter=never).delete()
    api = api_for(him)

    def accounts(state):
        rows = api.get("/completion/charts", state=state).json()
        return [r["account_number"] for r in rows]

    assert accounts("deficient") == [old.account_number]
    assert accounts("complete") == [done.account_number]
    assert accounts("awaiting") == [never.account_number]
    assert api.get("/completion/charts", state="coded").status_code == 422
