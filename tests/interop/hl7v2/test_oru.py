"""ORU^R01 results in the styles lab and radiology systems send them (an Epic
Beaker chemistry panel and CBC, a Cerner radiology report, the NIST LRI CBC):
filed to the patient PID names and the visit PV1-19 names, once per filler order
number and sender, and corrected as a new version with the earlier one kept."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle, reprocess
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.mpi.models import Patient
from recordroom.records.models import ResultObservation, ResultReport, ResultVersion
from recordroom.records.results import observations_of
from tests import factories

from .messages import adt, pv1

SAMPLES = (
    Path(os.environ.get("RECORDROOM_CONFORMANCE_DATA",
                        Path(__file__).resolve().parents[4].parent / "shared/testdata"))
    / "hl7v2"
)  # fmt: skip

PID = "PID|1||M1001^^^NORTH^MR||DOE^JANE^Q||19800131|F"


def obr(n: int, placer: str, filler: str, code: str, status: str, *,
        section: str = "", when: str = "20250104063000", issued: str = "",
        orderer: str = "", interpreter: str = "") -> str:  # fmt: skip
    fields = ["OBR", str(n), placer, filler, code] + [""] * 28
    fields[7], fields[16], fields[22] = when, orderer, issued
    fields[24], fields[25], fields[32] = section, status, interpreter
    return "|".join(fields)


# An Epic Beaker style basic metabolic panel: ORC/OBR, NTE on the order and on a
# value, numeric values with ranges and flags, a CBC in a second OBR group.
BMP = (
    "ORC|RE|ORD1001^EPIC|LAB555^BEAKER||CM",
    obr(
        1,
        "ORD1001^EPIC",
        "LAB555^BEAKER",
        "80048^BASIC METABOLIC PANEL^EAP^24321-2^Basic metabolic panel^LN",
        "{status}",
        issued="20250104091500",
        orderer="1234567893^KILDARE^JAMES",
    ),
    "NTE|1|L|Specimen slightly hemolyzed.",
    "OBX|1|NM|2345-7^Glucose^LN||{glucose}|mg/dL^mg/dL^UCUM|70-99|{flag}|||{obx}|||"
    "20250104063000|||||||||Beaker Core Lab^^^^^CLIA^XX^^^05D0123456",
    "OBX|2|NM|2823-3^Potassium^LN||3.1|mmol/L^^UCUM|3.5-5.1|L|||{obx}",
    "NTE|1|L|Repeat collection advised.",
    "OBX|3|NM|2951-2^Sodium^LN||139|mmol/L|136-145|N|||{obx}",
)
CBC = (
    obr(
        2,
        "ORD1002^EPIC",
        "LAB556^BEAKER",
        "CBC^CBC WITH DIFF^EAP^58410-2^CBC panel^LN",
        "F",
        section="HM",
    ),
    "OBX|1|NM|6690-2^WBC^LN||14.2|10*3/uL|4.0-11.0|H|||F",
    "OBX|2|NM|718-7^Hemoglobin^LN||6.9|g/dL|12.0-16.0|LL|||F",
)


def oru(control: str, *groups: tuple[str, ...], visit: str = "V5001",
        pid: str = PID, sending: str = "BEAKER") -> bytes:  # fmt: skip
    segs = [
        f"MSH|^~\\&|{sending}|NORTH|RR|RR|20250104091500||ORU^R01^ORU_R01|{control}"
        "|P|2.5.1",
        pid,
        pv1(visit=visit) if visit else "PV1|1|I",
    ]
    for group in groups:
        segs += group
    return ("\r".join(segs) + "\r").encode()


def bmp(status: str = "F", obx: str = "F", glucose: str = "182",
        flag: str = "H") -> tuple[str, ...]:  # fmt: skip
    return tuple(s.format(status=status, obx=obx, glucose=glucose, flag=flag)
                 for s in BMP)  # fmt: skip


@pytest.fixture
def admitted(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"


def values(report: ResultReport) -> dict[str, tuple[str, str, list[str]]]:
    return {o.display: (o.value_display(), o.units, o.abnormal_flags)
            for o in observations_of(report)}  # fmt: skip


def test_a_beaker_panel_and_cbc_are_filed_to_the_patient_and_visit(admitted):
    ack = handle(oru("R1", bmp(), CBC))
    assert ack.code == "AA" and ack.text == "", ack.text
    bmp_report, cbc = ResultReport.objects.order_by("filler_number")
    assert bmp_report.patient == Patient.objects.get()
    assert bmp_report.encounter.account_number == "V5001"
    assert (bmp_report.code, bmp_report.code_system, bmp_report.display) == (
        "24321-2", "http://loinc.org", "Basic metabolic panel")  # fmt: skip
    assert [c["code"] for c in bmp_report.codings] == ["24321-2", "80048"]  # both kept
    assert (bmp_report.category, bmp_report.status, cbc.category) == ("LAB", "final",
                                                                      "HM")  # fmt: skip
    assert (bmp_report.placer_number, bmp_report.filler_number, bmp_report.source) == (
        "ORD1001", "LAB555", "hl7v2:BEAKER")  # fmt: skip
    assert bmp_report.notes == "Specimen slightly hemolyzed."
    assert bmp_report.effective_at.isoformat() == "2025-01-04T11:30:00+00:00"  # NY
    assert bmp_report.issued_at.isoformat() == "2025-01-04T14:15:00+00:00"
    assert values(bmp_report) == {
        "Glucose": ("182", "mg/dL", ["H"]),
        "Potassium": ("3.1", "mmol/L", ["L"]),
        "Sodium": ("139", "mmol/L", ["N"]),
    }
    glucose, potassium, _ = observations_of(bmp_report)
    assert glucose.value_number == Decimal("182") and glucose.reference_range == "70-99"
    assert glucose.units_system == "http://unitsofmeasure.org" and glucose.abnormal
    assert potassium.notes == "Repeat collection advised."
    assert glucose.performer_name == "Beaker Core Lab"  # OBX-23
    assert values(cbc) == {"WBC": ("14.2", "10*3/uL", ["H"]),
                           "Hemoglobin": ("6.9", "g/dL", ["LL"])}  # fmt: skip
    message = InterfaceMessage.objects.get(control_id="R1")
    audit = AuditEvent.objects.get(action="interface.message",
                                   object_id=str(message.pk))  # fmt: skip
    assert [r["filler"] for r in json.loads(audit.detail)["results"]] == [
        "LAB555", "LAB556"]  # fmt: skip
    assert AuditEvent.objects.filter(action="result.create").count() == 2


def test_sn_values_keep_comparators_ratios_and_ranges(admitted):
    group = (
        obr(1, "", "SN1^LAB", "SERO^Serology panel^L", "F", section="SR"),
        "OBX|1|SN|5196-1^HBsAg^LN||<^0.5|IU/mL|<0.5|N|||F",
        "OBX|2|SN|5334-8^Rubella IgG titer^LN||^1^:^128||<1:8|A|||F",
        "OBX|3|SN|2093-3^Cholesterol^LN||>^400|mg/dL|<200|HH|||F",
        "OBX|4|SN|5811-5^Specific gravity^LN||^10^-^20|/[HPF]|0-5|H|||F",
        "OBX|5|SN|33914-3^eGFR^LN||>=^60|mL/min/{1.73_m2}|>=60|N|||F",
    )
    assert handle(oru("S1", group)).code == "AA"
    report = ResultReport.objects.get()
    assert [o.value_display() for o in observations_of(report)] == [
        "<0.5", "1:128", ">400", "10-20", ">=60"]  # fmt: skip
    titer = observations_of(report)[1]
    assert (titer.value_number, titer.value_separator, titer.value_number2) == (
        Decimal(1), ":", Decimal(128))  # fmt: skip
    assert report.category == "SR"


def test_radiology_report_text_with_escapes_and_impression(admitted):
    """A Cerner style radiology report: TX lines (escapes decoded), FT with line
    breaks, the impression (&IMP) as the conclusion, a coded finding."""
    group = (
        obr(
            1,
            "PL77^CERNER",
            "RAD-2001^RADNET",
            "71046^XR CHEST 2 VIEWS^CPT4^36643-5^XR Chest 2 Views^LN",
            "F",
            section="RAD",
            interpreter="{npi}&KILDARE&JAMES",
        ),
        "OBX|1|TX|&GDT^Report Body||Lungs clear \\T\\ no effusion.||||||F",
        "OBX|2|TX|&GDT^Report Body||Heart size 12\\S\\14 cm, normal.||||||F",
        "OBX|3|FT|&GDT^Report Body||Line one\\.br\\Line two||||||F",
        "OBX|4|TX|&IMP^Radiology Impression||No acute disease.||||||F",
        "OBX|5|CWE|18782-3^Study observation^LN||263654008^Abnormal^SCT|||A|||F",
    )
    provider = factories.provider(family="Kildare", given="James")
    group = tuple(s.replace("{npi}", provider.npi) for s in group)
    assert handle(oru("X1", group)).code == "AA"
    report = ResultReport.objects.get()
    assert (report.category, report.code, report.display) == ("RAD", "36643-5",
                                                              "XR Chest 2 Views")  # fmt: skip
    assert report.conclusion == "No acute disease."
    assert (report.performer, report.performer_name) == (provider, "JAMES KILDARE")
    texts = [o.value_text for o in observations_of(report)]
    assert texts == ["Lungs clear & no effusion.", "Heart size 12^14 cm, normal.",
                     "Line one\nLine two", "No acute disease.", "Abnormal"]  # fmt: skip
    finding = observations_of(report)[-1]
    assert (finding.value_code, finding.value_code_system, finding.abnormal_flags) == (
        "263654008", "http://snomed.info/sct", ["A"])  # fmt: skip


def test_the_same_result_resent_is_not_filed_again(admitted):
    assert handle(oru("R1", bmp())).code == "AA"
    again = handle(oru("R2", bmp()))  # a new control id, the same result
    assert again.code == "AA"
    assert again.text == ("result LAB555 was received before with the same content; "
                          "not filed again")  # fmt: skip
    report = ResultReport.objects.get()
    assert report.version == 1 and ResultVersion.objects.count() == 1
    assert ResultObservation.objects.count() == 3


def test_a_correction_is_a_new_version_and_the_first_is_kept(admitted):
    assert handle(oru("R1", bmp())).code == "AA"
    ack = handle(oru("R2", bmp(status="C", obx="C", glucose="128", flag="H")))
    assert ack.code == "AA", ack.text
    report = ResultReport.objects.get()
    assert (report.version, report.status) == (2, "corrected")
    assert values(report)["Glucose"] == ("128", "mg/dL", ["H"])
    assert observations_of(report)[0].status == "corrected"
    first = ResultObservation.objects.get(report=report, report_version=1,
                                          code="2345-7")  # fmt: skip
    assert first.value_number == Decimal("182") and first.status == "final"
    versions = list(report.versions.values_list("number", "status", "message"))
    assert versions == [(1, "final", "R1"), (2, "corrected", "R2")]
    event = AuditEvent.objects.get(action="result.version")
    assert json.loads(event.detail)["before"] == "final"
    # a final report changed again without "C" is amended, still versioned
    assert handle(oru("R3", bmp(glucose="130"))).code == "AA"
    report.refresh_from_db()
    assert (report.version, report.status) == (3, "amended")


def test_a_preliminary_after_the_final_is_refused_and_changes_nothing(admitted):
    assert handle(oru("R1", bmp())).code == "AA"
    ack = handle(oru("R2", bmp(status="P", obx="P", glucose="90")))
    assert ack.code == "AE"
    assert "LAB555 is final; a preliminary version" in ack.text
    report = ResultReport.objects.get()
    assert report.version == 1 and values(report)["Glucose"][0] == "182"


def test_preliminary_then_final_are_two_versions(admitted):
    assert handle(oru("R1", bmp(status="P", obx="P"))).code == "AA"
    assert ResultReport.objects.get().status == "preliminary"
    assert handle(oru("R2", bmp())).code == "AA"
    report = ResultReport.objects.get()
    assert (report.version, report.status) == (2, "final")


def test_an_unknown_patient_is_an_error_not_a_new_chart(facility):
    ack = handle(oru("R1", bmp()))
    assert ack.code == "AE" and ack.location == "PID-3" and "'M1001'" in ack.text
    assert Patient.objects.count() == 0 and ResultReport.objects.count() == 0
    assert handle(adt("A04", "ADT1", visit=pv1())).code == "AA"
    assert reprocess(ack.message.pk).code == "AA"
    assert ResultReport.objects.get().encounter.account_number == "V5001"


def test_an_unknown_visit_number_is_kept_and_said(admitted):
    ack = handle(oru("R1", bmp(), visit="V9999"))
    assert ack.code == "AA"
    assert ack.text == ("visit V9999 (PV1-19) is not one of this patient's visits at "
                        "NORTH; results filed to the chart without a visit")  # fmt: skip
    report = ResultReport.objects.get()
    assert report.encounter is None and report.visit_number == "V9999"


@pytest.mark.parametrize(
    ("group", "location", "words"),
    [
        ((obr(1, "", "F1^LAB", "GLU^Glucose", "F", section="LAB"),
          "OBX|1|NM|2345-7^Glucose^LN||12,5|mg/dL||||F"), "OBX-5", "not a number"),
        ((obr(1, "", "F1^LAB", "GLU^Glucose", "F", section="LAB"),
          "OBX|1|ED|PDF^Report||^application^pdf^Base64^aGVsbG8=||||||F"), "OBX-2",
         "'ED' (OBX 1) is not one a result is filed with"),
        ((obr(1, "", "", "GLU^Glucose", "F"),
          "OBX|1|NM|2345-7^Glucose^LN||12|mg/dL||||F"), "OBR-3", "filler order"),
        ((obr(1, "", "F1^LAB", "GLU^Glucose", "F", section="ZZZ"),), "OBR-24",
         "'ZZZ' is not in HL7 table 0074"),
        ((obr(1, "", "F1^LAB", "GLU^Glucose", "Q"),), "OBR-25",
         "'Q' is not one of"),
        (("OBX|1|NM|2345-7^Glucose^LN||12|mg/dL||||F",), "OBX", "before any OBR"),
        ((obr(1, "", "F1^LAB", "GLU^Glucose", "F", section="LAB"),
          "OBX|1|NM|2345-7^Glucose^LN||12|mg/dL|||||Q"), "OBX-11", "'Q' (OBX 1)"),
    ],
)  # fmt: skip
def test_a_result_that_cannot_be_filed_as_sent_is_an_error(
    admitted, group, location, words
):
    good = (obr(9, "", "OK1^LAB", "GLU^Glucose", "F"),
            "OBX|1|NM|2345-7^Glucose^LN||90|mg/dL||||F")  # fmt: skip
    ack = handle(oru("E1", group, good))
    assert ack.code == "AE" and ack.location == location and words in ack.text
    assert ResultReport.objects.count() == 0  # the good group is not filed either
    assert InterfaceMessage.objects.get(control_id="E1").status == MessageStatus.ERROR


def test_the_nist_lri_cbc_sample(facility):
    path = SAMPLES / "LRI_2.0-NG_CBC_Typ_Message.hl7"
    if not path.exists():
        pytest.skip(f"sample not found: {path}")
    lab = factories.facility("NIST MPI")
    factories.patient(facility=lab, family="Jones", given="William", mrn="PATID1234")
    raw = path.read_bytes()
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    report = ResultReport.objects.get()
    assert (report.code, report.filler_number, report.source) == (
        "57021-8", "R-991133", "hl7v2:NIST Lab Filler")  # fmt: skip
    obs = observations_of(report)
    assert len(obs) == 28
    assert obs[0].text == "Erythrocytes [#/volume] in Blood"  # OBX-3.9 original text
    assert {o.performer_name for o in obs} == {"Century Hospital"}  # OBX-23
    wbc = next(o for o in obs if o.code == "26464-8")
    assert (wbc.value_display(), wbc.units, wbc.reference_range, wbc.abnormal_flags) == (
        "105600", "{cells}/uL", "4300 to 10800", ["HH"])  # fmt: skip
    assert sum(o.abnormal for o in obs) == 9  # 4 HH, 1 L, 4 A


def test_a_coded_value_that_repeats_keeps_every_repetition(admitted):
    group = (
        obr(1, "", "MB1^LAB", "600-7^Bacteria identified^LN", "F", section="MB"),
        "OBX|1|CWE|600-7^Bacteria identified^LN||3092008^Staphylococcus aureus^SCT"
        "~40886007^Klebsiella oxytoca^SCT|||A|||F",
    )
    assert handle(oru("M1", group)).code == "AA"
    (value,) = observations_of(ResultReport.objects.get())
    assert (value.value_code, value.value_code_system) == ("3092008",
                                                            "http://snomed.info/sct")  # fmt: skip
    assert value.value_text == "Staphylococcus aureus\nKlebsiella oxytoca"
