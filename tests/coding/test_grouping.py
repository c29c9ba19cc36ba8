"""MS-DRG grouping with the edits, each named by its rule (R-COD-1..5), through the
service and `recordroom coding group`; DRGs cross-checked against drgpy."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from typer.testing import CliRunner

from recordroom.cli.app import app
from recordroom.coding import loaders
from recordroom.coding.codesets import releases
from recordroom.coding.grouping import Grouper, grouper_version, parse_claim
from recordroom.coding.models import System
from recordroom.kernel.errors import ValidationFailed
from tests import factories

from .conftest import FIXTURES

runner = CliRunner()
DAY = "2026-05-04"  # in force: the FY2026 April update, MS-DRG v43.1


def claim(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c1",
        "age": 67,
        "sex": "M",
        "discharge_status": "01",
        "discharge_date": DAY,
        "principal": {"code": "I21.4", "poa": "Y"},
        "secondary": [{"code": "I50.21", "poa": "Y"}],
        "procedures": ["02703DZ"],
    }
    base.update(kw)
    return base


@pytest.fixture
def grouper(icd10cm):
    with Grouper() as g:
        yield g


@pytest.fixture
def exempt_list(icd10cm):
    loaders.load_file(
        actor=factories.SYSTEM,
        system=System.POA_EXEMPT,
        path=FIXTURES / "POAexemptCodes_FY2026.txt",
        effective_from=loaders.date(2026, 4, 1),
    )
    releases.forget()


def group(g: Grouper, **kw: Any) -> dict[str, Any]:
    return g.group(parse_claim(claim(**kw)))


def edits(result: dict[str, Any], rule: str = "") -> list[tuple[str, str, list[str]]]:
    return [
        (e["rule"], e["edit"], e["codes"])
        for e in result["edits"]
        if not rule or e["rule"] == rule
    ]


def test_clean_claim_groups_with_no_edits(grouper, exempt_list):
    result = group(grouper)
    assert result["drg"] == "321" and result["mdc"] == "05"
    assert result["drg_title"].startswith("Percutaneous Cardiovascular Procedures")
    assert result["severity"] == "MCC" and result["grouper_version"] == "43.1"
    assert result["edits"] == []
    assert result["relative_weight"] is None  # no Table 5 loaded


def test_relative_weight_from_table_5_in_force(grouper):
    loaders.load_file(
        actor=factories.SYSTEM, system=System.MSDRG, path=FIXTURES / "table5_fy2026.txt"
    )
    releases.forget()
    assert group(grouper)["relative_weight"] == 3.2


def test_grouper_version_follows_the_discharge_date():
    assert grouper_version(loaders.date(2025, 10, 1)) == 430
    assert grouper_version(loaders.date(2026, 3, 31)) == 430
    assert grouper_version(loaders.date(2026, 4, 1)) == 431
    assert grouper_version(loaders.date(2026, 12, 8)) == 440
    assert grouper_version(loaders.date(2022, 9, 30)) is None
    assert grouper_version(loaders.date(2027, 4, 1)) is None


def test_r_cod_1_code_not_in_the_release_in_force(grouper):
    result = group(grouper, secondary=[{"code": "I50.99", "poa": "Y"}])
    assert ("R-COD-1", "INVALID_CODE", ["I50.99"]) in edits(result)


def test_r_cod_1_no_release_for_the_date_is_said(grouper):
    result = group(grouper, discharge_date="2026-03-04")
    assert ("R-COD-1", "NO_ICD10CM_RELEASE", []) in edits(result)
    assert result["drg"] == "321" and result["grouper_version"] == "43.0"
    result = group(grouper, discharge_date="2027-05-01")
    assert ("R-COD-1", "NO_GROUPER_VERSION", []) in edits(result)
    assert result["drg"] is None


def test_r_cod_1_procedure_checked_against_the_pcs_release(grouper):
    loaders.load_file(
        actor=factories.SYSTEM,
        system=System.ICD10PCS,
        path=FIXTURES / "icd10pcs_tables_2026.xml",
    )
    releases.forget()
    assert edits(group(grouper), "R-COD-1") == []
    result = group(grouper, procedures=["02703DZ", "0DTJ4ZZ"])
    assert ("R-COD-1", "INVALID_CODE", ["0DTJ4ZZ"]) in edits(result)


def test_r_cod_2_header_codes_refused(grouper):
    result = group(
        grouper,
        secondary=[{"code": "E11", "poa": "Y"}, {"code": "S72.001", "poa": "Y"}],
    )
    found = {e["codes"][0]: e for e in result["edits"] if e["rule"] == "R-COD-2"}
    assert set(found) == {"E11", "S72.001"}
    assert "needs a 7th character" in found["S72.001"]["message"]
    assert "report one of them" in found["E11"]["message"]
    # the MCE is asked without them, and its INVALID_CODE does not repeat them
    assert edits(result, "R-COD-4") == []


def test_r_cod_3_excludes1_pair_flagged_for_confirmation(grouper):
    result = group(
        grouper,
        secondary=[{"code": "E11.9", "poa": "Y"}, {"code": "E10.9", "poa": "Y"}],
    )
    (found,) = [e for e in result["edits"] if e["edit"] == "EXCLUDES1"]
    assert found["rule"] == "R-COD-3" and found["severity"] == "warning"
    assert found["codes"] == ["E10.9", "E11.9"]
    assert "not reported together" in found["message"]
    # Excludes2 is no conflict: J44.1 (COPD) with J45.909? J44's Excludes2 is not
    # Excludes1; I21.4 with I50.21 has neither
    assert not any(e["edit"] == "EXCLUDES1" for e in group(grouper)["edits"])


def test_r_cod_3_code_reported_twice(grouper):
    twice = [{"code": "I50.21", "poa": "Y"}, {"code": "I5021", "poa": "Y"}]
    assert ("R-COD-3", "CODE_REPEATED", ["I50.21"]) in edits(
        group(grouper, secondary=twice)
    )


def test_r_cod_4_external_cause_as_principal(grouper):
    result = group(grouper, principal={"code": "V00.01XA", "poa": "Y"}, procedures=[])
    assert ("R-COD-4", "E_CODE_AS_PDX", ["V00.01XA"]) in edits(result)
    assert result["drg"] == "999"


def test_r_cod_4_manifestation_as_principal(grouper):
    result = group(grouper, principal={"code": "F02.80", "poa": "Y"}, procedures=[])
    (found,) = [e for e in result["edits"] if e["edit"] == "MANIFESTATION_AS_PDX"]
    assert found["rule"] == "R-COD-4" and found["codes"] == ["F02.80"]
    assert "MCE edit 4.6" in found["message"]


def test_r_cod_4_duplicate_of_principal(grouper):
    result = group(grouper, secondary=[{"code": "I21.4", "poa": "Y"}])
    assert ("R-COD-4", "DUPLICATE_OF_PDX", ["I21.4"]) in edits(result)


def test_r_cod_4_maternity_age_conflict_names_the_code(grouper):
    result = group(
        grouper,
        age=70,
        sex="F",
        secondary=[{"code": "I50.21", "poa": "Y"}, {"code": "Z38.00", "poa": "Y"}],
        procedures=[],
    )
    assert ("R-COD-4", "AGE_CONFLICT", ["Z38.00"]) in edits(result)


def test_r_cod_4_sex_conflict_where_the_editor_still_has_it(grouper):
    """msdrg's MCE has no sex conflict edits from FY2025 on (CMS removed them); a
    2022 discharge is still edited with them (the editor of the discharge date)."""
    result = group(
        grouper,
        sex="F",
        discharge_date="2022-11-01",
        secondary=[{"code": "N40.0", "poa": "Y"}],
        procedures=[],
    )
    assert ("R-COD-4", "SEX_CONFLICT", ["N40.0"]) in edits(result)
    assert not any(e[1] == "SEX_CONFLICT" for e in edits(group(grouper, sex="F")))


def test_r_cod_5_poa_required_on_non_exempt_codes(grouper, exempt_list):
    result = group(
        grouper,
        principal="I21.4",
        secondary=[
            {"code": "I50.21"},
            {"code": "Z87.891"},
            {"code": "E11.9", "poa": "1"},
        ],
    )
    assert edits(result, "R-COD-5") == [
        ("R-COD-5", "POA_MISSING", ["I21.4"]),
        ("R-COD-5", "POA_MISSING", ["I50.21"]),
        ("R-COD-5", "POA_MISSING", ["E11.9"]),
    ]


def test_r_cod_5_exempt_codes_carry_blank_or_1(grouper, exempt_list):
    result = group(
        grouper,
        secondary=[
            {"code": "I50.21", "poa": "Y"},
            {"code": "Z87.891", "poa": "Y"},
            {"code": "Z79.84", "poa": "1"},
            {"code": "Y92.009", "poa": ""},
        ],
    )
    assert edits(result, "R-COD-5") == [("R-COD-5", "POA_ON_EXEMPT", ["Z87.891"])]


def test_r_cod_5_poa_values_checked(grouper, exempt_list):
    result = group(grouper, secondary=[{"code": "I50.21", "poa": "X"}])
    assert edits(result, "R-COD-5") == [("R-COD-5", "POA_INVALID", ["I50.21"])]
    # N, U, W are values: the grouper takes them (an N can cost the MCC: HAC logic)
    for value in "NUW":
        assert (
            edits(
                group(grouper, secondary=[{"code": "I50.21", "poa": value}]), "R-COD-5"
            )
            == []
        )


def test_r_cod_5_without_an_exempt_list_a_blank_is_a_warning(grouper):
    result = group(grouper, secondary=[{"code": "Z87.891"}])
    (found,) = [e for e in result["edits"] if e["rule"] == "R-COD-5"]
    assert found["severity"] == "warning" and "no POA exempt list" in found["message"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"id": ""}, "id: every claim needs an id"),
        ({"age": "67"}, "age: '67' is not a whole number"),
        ({"age": 130}, "age: 130"),
        ({"sex": "X"}, "sex: 'X'; give M, F or U"),
        ({"discharge_status": "home"}, "discharge_status: 'home'"),
        (
            {"discharge_date": "04/03/2026"},
            "discharge_date: '04/03/2026' is not a date",
        ),
        ({"principal": ""}, "principal: give a diagnosis code"),
        ({"secondary": "I50.21"}, "secondary: a list"),
        ({"procedures": ["02703D"]}, "procedures[0]: '02703D' is not a 7-character"),
    ],
)
def test_bad_claims_refused_by_name(change, message):
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        parse_claim(claim(**change))


# claims whose DRG depends on neither age nor birth weight (drgpy takes neither)
CROSS_CHECK = [
    ("I21.4", ["I50.21"], ["02703DZ"], "M"),
    ("I21.4", [], [], "M"),
    ("I21.4", ["E11.65"], [], "F"),
    ("I50.21", ["N17.9"], [], "F"),
    ("I50.21", [], [], "M"),
    ("J18.9", ["J96.01"], [], "M"),
    ("J18.9", [], [], "F"),
    ("A41.9", ["R65.20"], [], "M"),
    ("A41.9", ["N17.9", "E87.1"], [], "F"),
    ("N39.0", [], [], "F"),
    ("J44.1", ["J96.01"], [], "F"),
    ("I63.9", ["I48.91"], [], "F"),
    ("K80.00", [], ["0FT44ZZ"], "F"),
    ("S72.001A", [], ["0QS704Z"], "F"),
    ("M17.11", [], ["0SRD0J9"], "F"),
    ("K35.80", [], ["0DTJ4ZZ"], "M"),
    ("E11.65", [], [], "M"),
    ("I10", [], [], "F"),
    ("R07.9", [], [], "M"),
    ("N40.0", [], ["0VT08ZZ"], "M"),
    ("C61", [], ["0VT00ZZ"], "M"),
    ("F32.9", [], [], "F"),
]


def test_drgs_agree_with_drgpy(grouper):
    from drgpy.msdrg import DRGEngine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = DRGEngine(version="v43.1")
    for pdx, sdx, procs, sex in CROSS_CHECK:
        ours = group(
            grouper,
            sex=sex,
            principal={"code": pdx, "poa": "Y"},
            secondary=[{"code": c, "poa": "Y"} for c in sdx],
            procedures=procs,
        )
        theirs = reference.get_drg(
            [c.replace(".", "") for c in [pdx, *sdx]], procs, gender=sex
        )
        assert (pdx, sdx, procs, ours["drg"]) == (pdx, sdx, procs, theirs)


def test_cli_group_reads_and_writes_json_lines(icd10cm, tmp_path):
    lines = [
        json.dumps(claim(id="a1")),
        json.dumps(
            claim(
                id="a2", principal="V00.01XA", secondary=[{"code": "E11", "poa": "Y"}]
            )
        ),
        "not json",
        json.dumps(claim(id="a3", sex="?")),
        "",
    ]
    source = tmp_path / "claims.jsonl"
    source.write_text("\n".join(lines))
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["coding", "group", str(source), "--out", str(target)])
    assert result.exit_code == 1, result.output
    assert "4 claims, 2 grouped, 2 refused" in result.output
    out = [json.loads(x) for x in target.read_text().splitlines()]
    assert [o["id"] for o in out] == ["a1", "a2", None, "a3"]
    assert out[0]["drg"] == "321" and out[0]["mdc"] == "05"
    assert set(out[0]) >= {"id", "drg", "mdc", "drg_title", "relative_weight", "edits"}
    rules = {(e["rule"], e["edit"]) for e in out[1]["edits"]}
    assert {("R-COD-2", "HEADER_CODE"), ("R-COD-4", "E_CODE_AS_PDX")} <= rules
    assert out[2]["error"].startswith("not JSON") and out[2]["line"] == 3
    assert out[3]["error"] == "sex: '?'; give M, F or U"
