"""Code-set releases: ICD-10-CM from simple-icd-10-cm, ICD-10-PCS, POA exempt and
DRG weight files from CMS's formats, each beside the ones before it (R-COD-1,
R-COD-2, R-COD-8)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.coding import codesets, loaders
from recordroom.coding.models import Code, CodeSetVersion, DrgWeight, Kind, System
from recordroom.kernel.errors import Conflict, ValidationFailed
from tests import factories

from .conftest import FIXTURES


def test_r_cod_1_icd10cm_release_in_force_april_to_september(icd10cm):
    assert icd10cm.label == "FY2026 April update"
    assert (icd10cm.effective_from, icd10cm.effective_to) == (
        date(2026, 4, 1),
        date(2026, 9, 30),
    )
    assert codesets.in_force(System.ICD10CM, date(2026, 4, 1)) == icd10cm
    assert codesets.in_force(System.ICD10CM, date(2026, 9, 30)) == icd10cm
    assert codesets.in_force(System.ICD10CM, date(2026, 3, 31)) is None
    assert codesets.in_force(System.ICD10CM, date(2026, 10, 1)) is None


def test_r_cod_2_billable_and_header_codes_stored_without_dot(icd10cm):
    rows = Code.objects.filter(version=icd10cm)
    by_code = {
        c.code: c
        for c in rows.filter(code__in=["E11", "E119", "S72001", "S72001A", "I214"])
    }
    assert by_code["E119"].display == "E11.9" and by_code["E119"].billable
    assert by_code["E11"].kind == Kind.CATEGORY and not by_code["E11"].billable
    assert not by_code["S72001"].billable  # needs its 7th character
    assert by_code["S72001A"].billable and by_code["S72001A"].kind == Kind.CODE
    assert by_code["S72001A"].title.endswith("initial encounter for closed fracture")
    assert by_code["I214"].parent == "I21" and by_code["I214"].block == "I20-I25"
    assert by_code["I214"].chapter == "9"
    # the whole tabular: 22 chapters, and some 74,000 codes that may be reported
    assert rows.filter(kind=Kind.CHAPTER).count() == 22
    assert 70_000 < rows.filter(billable=True).count() < 80_000


def test_r_cod_1_tabular_notes_kept(icd10cm):
    e11 = Code.objects.get(version=icd10cm, code="E11", kind=Kind.CATEGORY)
    assert "type 1 diabetes mellitus (E10.-)" in e11.notes["excludes1"]
    assert "insulin (Z79.4)" in e11.notes["use_additional_code"]
    assert "diabetes NOS" in e11.notes["includes"]
    i214 = Code.objects.get(version=icd10cm, code="I214")
    assert "Non-Q wave myocardial infarction NOS" in i214.notes["inclusion_terms"]
    s72 = Code.objects.get(version=icd10cm, code="S72", kind=Kind.CATEGORY)
    assert (
        s72.notes["seventh_characters"]["A"] == "initial encounter for closed fracture"
    )


def test_r_cod_1_loading_a_release_again_is_refused(icd10cm):
    with pytest.raises(Conflict, match="never overwritten"):
        loaders.load_icd10cm(actor=factories.SYSTEM)


def test_r_cod_1_new_release_leaves_coded_history_alone(icd10cm):
    """A later release (here the same files, in force from FY2027) is read for
    discharges from its first day; earlier discharges keep theirs."""
    before = Code.objects.filter(version=icd10cm).count()
    later = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.ICD10PCS,
        path=FIXTURES / "icd10pcs_tables_2026.xml",
    ).version
    assert later.effective_from == date(2025, 10, 1)
    newer = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.ICD10PCS,
        path=FIXTURES / "icd10pcs_order_2026.txt",
        effective_from=date(2026, 10, 1),
        label="FY2027",
    ).version
    assert codesets.in_force(System.ICD10PCS, date(2026, 9, 30)) == later
    assert codesets.in_force(System.ICD10PCS, date(2026, 10, 1)) == newer
    assert Code.objects.filter(version=icd10cm).count() == before
    assert Code.objects.filter(version=later).count() == 42 + 2
    assert CodeSetVersion.objects.filter(system=System.ICD10PCS).count() == 2
    events = AuditEvent.objects.filter(action="coding.codes_load")
    assert {json.loads(e.detail)["label"] for e in events} >= {"FY2026", "FY2027"}


def test_r_cod_1_pcs_codes_built_from_table_rows(db):
    loaded = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.ICD10PCS,
        path=FIXTURES / "icd10pcs_tables_2026.xml",
    ).version
    codes = dict(
        Code.objects.filter(version=loaded, billable=True).values_list("code", "title")
    )
    # table 027: 2 body parts x 3 approaches x 3 devices x 2 qualifiers; 0VT: 4 + 2
    assert len(codes) == 36 + 4 + 2
    assert codes["02703DZ"] == (
        "Dilation Coronary Artery, One Artery, Percutaneous, Intraluminal Device"
    )
    assert "0VT00ZZ" in codes and "0VT08ZZ" in codes
    assert "0VT57ZZ" not in codes  # the scrotum row has no natural-opening approach
    table = Code.objects.get(version=loaded, code="027")
    assert table.kind == Kind.TABLE and not table.billable


def test_r_cod_2_pcs_order_file_fixed_width(db):
    loaded = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.ICD10PCS,
        path=FIXTURES / "icd10pcs_order_2026.txt",
    ).version
    rows = {c.code: c for c in Code.objects.filter(version=loaded)}
    assert set(rows) == {"027", "02703DZ", "02703ZZ", "0VT", "0VT00ZZ", "0VT08ZZ"}
    assert not rows["027"].billable and rows["02703DZ"].billable
    assert rows["0VT08ZZ"].title == (
        "Resection of Prostate, Via Natural or Artificial Opening Endoscopic"
    )
    assert (
        rows["0VT08ZZ"].notes["short_title"]
        == "Resection of Prostate, Via Opening Endo"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("<ICD10PCS.tabular></ICD10PCS.tabular>", "not an ICD-10-PCS tables file"),
        ("<ICD10PCS.tabular><pcsTable>", "not well-formed"),
        ("00001 0270 not fixed width", "fixed-width"),
        ("00001 02I03DZ 1 Dilation", "not an ICD-10-PCS code"),
    ],
)
def test_r_cod_8_bad_pcs_file_refused_by_name(db, tmp_path, content, message):
    path = tmp_path / "icd10pcs_order_2026.txt"
    path.write_text(content)
    with pytest.raises(ValidationFailed, match=message):
        loaders.load_file(actor=factories.SYSTEM, system=System.ICD10PCS, path=path)
    assert not CodeSetVersion.objects.filter(system=System.ICD10PCS).exists()


def test_r_cod_1_file_without_its_year_needs_dates(db, tmp_path):
    path = tmp_path / "pcs.txt"
    path.write_text((FIXTURES / "icd10pcs_order_2026.txt").read_text())
    with pytest.raises(ValidationFailed, match="--effective-from"):
        loaders.load_file(actor=factories.SYSTEM, system=System.ICD10PCS, path=path)


def test_r_cod_5_poa_exempt_list_and_drg_weights_load(db):
    poa = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.POA_EXEMPT,
        path=FIXTURES / "POAexemptCodes_FY2026.txt",
    ).version
    assert set(Code.objects.filter(version=poa).values_list("code", flat=True)) == {
        "Z87891",
        "Z7984",
        "Y92009",
        "V0001XA",
    }
    weights = loaders.load_file(
        actor=factories.SYSTEM,
        system=System.MSDRG,
        path=FIXTURES / "table5_fy2026.txt",
    ).version
    w = {d.drg: d for d in DrgWeight.objects.filter(version=weights)}
    assert str(w["321"].weight) == "3.2000" and str(w["321"].gmlos) == "3.5"
    assert w["280"].title.startswith("Acute Myocardial Infarction")


def test_r_cod_3_excludes1_references_parsed():
    parsed = codesets.parse_excludes(
        [
            "type 1 diabetes mellitus (E10.-)",
            "gestational diabetes (O24.4-)",
            "neonatal diabetes mellitus (P70.2)",
            "transitory endocrine disorders (P70-P74)",
        ]
    )
    assert codesets.Excluded(prefix="E10") in parsed
    assert codesets.Excluded(prefix="O244") in parsed
    assert codesets.Excluded(prefix="P702") in parsed
    assert codesets.Excluded(low="P70", high="P74") in parsed
    assert codesets.Excluded(low="P70", high="P74").covers("P72.1".replace(".", ""))
    assert not codesets.Excluded(prefix="E10").covers("E119")
