"""Code sets over the API (/api/v1/codes) and the command line (`recordroom codes`)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recordroom.cli.app import app
from recordroom.coding.models import CodeSetVersion, System
from tests.api.conftest import Api, api_for

from .conftest import FIXTURES

runner = CliRunner()


def test_api_search_and_lookup(icd10cm, him):
    api = api_for(him)
    found = api.get("/codes/search", q="chf", limit=3)
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["by"] == "words" and body["hits"][0]["display"] == "I50"
    assert body["versions"] == ["ICD-10-CM FY2026 April update"]
    by_code = api.get("/codes/search", q="i21.4").json()
    assert [h["code"] for h in by_code["hits"]] == ["I214"]
    detail = api.get("/codes/E11.9")
    assert detail.status_code == 200
    d = detail.json()
    assert d["billable"] and d["display"] == "E11.9"
    assert any(i["from"] == "E11" for i in d["inherited"])


def test_api_errors_are_named(icd10cm, him):
    api = api_for(him)
    missing = api.get("/codes/Q99.99")
    assert missing.status_code == 404 and "is not a code" in missing.json()["message"]
    empty = api.get("/codes/search", q="of")
    assert empty.status_code == 422
    assert api.get("/codes/search", q="x", limit=500).status_code == 422
    assert Api().get("/codes/search", q="chf").status_code == 401


def test_cli_lookup_prints_the_notes(icd10cm):
    result = runner.invoke(app, ["codes", "lookup", "e11.9"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "E11.9 Type 2 diabetes mellitus without complications" in result.output
    assert "billable" in result.output and "from category E11" in result.output
    assert "type 1 diabetes mellitus (E10.-)" in result.output
    assert "Use additional code" in result.output
    header = runner.invoke(app, ["codes", "lookup", "S72.001"])
    assert (
        "needs a 7th character" in header.output and "7th characters" in header.output
    )
    as_json = runner.invoke(app, ["codes", "lookup", "I21.4", "--json"])
    assert json.loads(as_json.output)["title"].startswith("Non-ST elevation")
    bad = runner.invoke(app, ["codes", "lookup", "Q99.99"])
    assert bad.exit_code == 1 and "is not a code" in bad.output


def test_cli_search(icd10cm):
    result = runner.invoke(app, ["codes", "search", "heart", "attack", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "I21 " in result.output and "(header)" in result.output
    none = runner.invoke(app, ["codes", "search", "zzzqqq"])
    assert none.exit_code == 1


def test_cli_load_pcs_and_list(db):
    result = runner.invoke(
        app, ["codes", "load", "icd10pcs", str(FIXTURES / "icd10pcs_tables_2026.xml")]
    )
    assert result.exit_code == 0, result.output
    assert (
        "loaded ICD-10-PCS FY2026: 44 entries, in force 2025-10-01 to 2026-09-30"
        in (result.output)
    )
    assert CodeSetVersion.objects.filter(system=System.ICD10PCS).count() == 1
    again = runner.invoke(
        app, ["codes", "load", "icd10pcs", str(FIXTURES / "icd10pcs_tables_2026.xml")]
    )
    assert again.exit_code == 1 and "never overwritten" in again.output
    listed = runner.invoke(app, ["codes", "list"])
    assert "ICD-10-PCS" in listed.output and "2025-10-01" in listed.output
    unknown = runner.invoke(app, ["codes", "load", "cpt", "x.txt"])
    assert unknown.exit_code == 1 and "unknown code set 'cpt'" in unknown.output
    nofile = runner.invoke(app, ["codes", "load", "icd10pcs"])
    assert nofile.exit_code == 1 and "needs the CMS FILE" in nofile.output
