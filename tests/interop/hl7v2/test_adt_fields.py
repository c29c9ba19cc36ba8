"""ADT fields are kept or refused, never dropped (R-INT-5): the HL7 null `""`
deletes a value and an empty field leaves it; every PID-3 identifier, PID-14
business phones, addresses of any country with their type, every PV1-2 patient
class, and an attending who is not in the provider table."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.patient import Patient as FhirPatient

from recordroom.accounts.services import create_token
from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage
from recordroom.mpi.models import Patient
from recordroom.mpi.services import reveal_ssn
from recordroom.records.models import Encounter
from tests import factories
from tests.web.conftest import signed_in

from .messages import err, pv1

PID = {
    3: "M1001^^^NORTH^MR",
    5: "DOE^JANE^Q",
    7: "19800131",
    8: "F",
    11: "1 Main St^^Springfield^IL^62701^USA^H",
    13: "^PRN^PH^^^217^5550100",
    14: "^WPN^PH^^^217^5550199^22",
    19: "123-45-6789",
    29: "",
}


def message(event: str, control: str, visit: str | None = None, **fields: str):
    """An ADT message whose PID holds PID (above) with `fields` (f7="" for an empty
    PID-7, f7='""' for its null) in place."""
    values = {**PID, **{int(k[1:]): v for k, v in fields.items()}}
    seg = ["PID", "1"] + [values.get(n, "") for n in range(2, max(values) + 1)]
    segs = [
        "MSH|^~\\&|REGAPP|NORTH|RR|RR|20250102083000||"
        f"ADT^{event}^ADT_A01|{control}|P|2.5.1",
        f"EVN|{event}|20250102083000",
        "|".join(seg),
    ]
    if visit is not None:
        segs.append(visit)
    return ("\r".join(segs) + "\r").encode()


def fhir_read(user, path: str) -> dict:
    """A FHIR read as an API client with `user`'s token, checked as R4(B)."""
    _, token = create_token(actor=factories.SYSTEM, username=user.username)
    headers = {"Authorization": f"Bearer {token}"}
    body = Client().get(f"/fhir/R4/{path}", headers=headers).json()
    {"Patient": FhirPatient, "Encounter": FhirEncounter}[path.split("/")[0]](**body)
    return body


def chart(user, patient) -> str:
    return signed_in(user).get(f"/patients/{patient.pk}").content.decode()


def applied(raw: bytes):
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    return ack


@pytest.fixture
def patient(facility):
    applied(message("A04", "R1", f29="20241201"))
    return Patient.objects.get()


def current(patient, related: str) -> list:
    return list(getattr(patient, related).filter(period_end__isnull=True))


# --- "" deletes, an empty field keeps ------------------------------------------


def test_r_int_5_an_empty_field_changes_nothing(patient):
    empty = {f"f{n}": "" for n in (7, 8, 11, 13, 14, 19, 29)}
    applied(message("A08", "R2", **empty))
    patient.refresh_from_db()
    assert (patient.birth_date, patient.deceased_date, patient.sex) == (
        date(1980, 1, 31), date(2024, 12, 1), "female")  # fmt: skip
    assert [a.city for a in current(patient, "addresses")] == ["Springfield"]
    phones = {(t.use, t.value) for t in current(patient, "telecoms")}
    assert phones == {("home", "2175550100"), ("work", "2175550199 x22")}
    assert [i.last4 for i in patient.identifiers.filter(kind="SS")] == ["6789"]
    assert not AuditEvent.objects.filter(action="patient.update").exists()


@pytest.mark.parametrize(
    ("field", "check"),
    [
        ("f29", lambda p: p.deceased_date is None),  # a date: death
        ("f7", lambda p: p.birth_date is None),  # a date: birth
        ("f8", lambda p: p.sex == "unknown"),  # required: its unknown
        ("f11", lambda p: current(p, "addresses") == []),
        ("f13", lambda p: [t.use for t in current(p, "telecoms")] == ["work"]),
        ("f14", lambda p: [t.use for t in current(p, "telecoms")] == ["home"]),
        ("f19", lambda p: not p.identifiers.filter(kind="SS", period_end=None)),
    ],
)
def test_r_int_5_hl7_null_deletes_the_value(patient, field, check):
    applied(message("A08", "R2", **{field: '""'}))
    patient.refresh_from_db()
    assert check(patient)
    # what was deleted is kept as history (ended), and audited
    assert AuditEvent.objects.filter(action="patient.update").exists()
    if field == "f19":
        ended = patient.identifiers.get(kind="SS")
        assert (reveal_ssn(ended), ended.period_end) == ("123456789", date.today())


def test_r_int_5_death_date_is_kept_and_checked(facility):
    applied(message("A04", "R1", f29="20250105083000"))
    assert Patient.objects.get().deceased_date == date(2025, 1, 5)
    ack = handle(message("A08", "R2", f29="19700101"))
    assert ack.code == "AE" and ack.location == "PID-29"
    assert "before the birth date" in ack.text


@pytest.fixture
def admitted(facility):
    provider = factories.provider()
    applied(message("A01", "V0", pv1(attending=provider.npi, admitting=provider.npi)))
    # the discharge of an admission comes with A03, or (corrected) A08
    applied(message("A08", "V1", pv1(disposition="01", discharge="20250104")))
    return Encounter.objects.get()


@pytest.mark.parametrize(
    ("changes", "field", "cleared"),
    [
        ({"location": '""'}, "location", ""),
        ({"attending": '""'}, "attending", None),
        ({"admitting": '""'}, "admitting", None),
        ({"discharge": '""'}, "discharge_at", None),
        ({"disposition": '""'}, "discharge_disposition", ""),
    ],
)
def test_r_int_5_a08_null_deletes_a_visit_field(admitted, changes, field, cleared):
    assert getattr(admitted, field) not in ("", None)
    keep = {"attending": admitted.attending.npi, "admitting": admitted.attending.npi,
            "disposition": "01", "discharge": "20250104"}  # fmt: skip
    applied(message("A08", "V2", pv1(**{**keep, **changes})))
    admitted.refresh_from_db()
    assert getattr(admitted, field) == cleared
    # an A08 with empty PV1 fields leaves the visit as it is
    applied(message("A08", "V3", pv1(location="", admit="")))
    admitted.refresh_from_db()
    assert admitted.location == ("" if field == "location" else "4E, 401, A")
    assert admitted.admit_at.isoformat().startswith("2025-01-02")


def test_r_int_5_a08_corrects_the_discharge_time_and_refuses_deleting_admission(
    admitted,
):
    applied(message("A08", "V2", pv1(discharge="20250106120000")))
    admitted.refresh_from_db()
    assert admitted.discharge_at.date() == date(2025, 1, 6)
    ack = handle(message("A08", "V3", pv1(admit='""')))
    assert ack.code == "AE" and ack.location == "PV1-44"


# --- every PID-3 identifier -----------------------------------------------------

PID_3 = "~".join(
    [
        "M1001^^^NORTH^MR",
        "S555^^^SOUTH^MR",  # an MRN of another facility of ours
        "E123^^^EPI^PI",  # the EHR's internal id
        "P77^^^&2.16.840.1.113883.19.5&ISO^PT",  # an external id, OID authority
        "A900^^^NORTH^AN",  # an account number
        "X42^^^LAB^MR",  # another system's MRN
        "123456789^^^USSSA^SS",
    ]
)


def test_r_int_5_every_pid_3_repetition_is_kept(facility, other_facility):
    applied(message("A04", "P1", f3=PID_3, f19=""))
    patient = Patient.objects.get()
    got = {(i.kind, i.type_code, i.value, i.system, i.facility_id)
           for i in patient.identifiers.all()}  # fmt: skip
    north, south = facility.pk, other_facility.pk
    assert got == {
        ("MR", "", "M1001", facility.mrn_system, north),
        ("MR", "MR", "S555", other_facility.mrn_system, south),
        ("OT", "PI", "E123", "urn:recordroom:hl7:authority:EPI", None),
        ("OT", "PT", "P77", "urn:oid:2.16.840.1.113883.19.5", None),
        ("OT", "AN", "A900", "urn:recordroom:hl7:authority:NORTH", north),
        ("OT", "MR", "X42", "urn:recordroom:hl7:authority:LAB", None),
        ("SS", "", "***-**-6789", "http://hl7.org/fhir/sid/us-ssn", None),
    }
    # the MRN of the other facility finds the same chart
    again = message("A08", "P2", f3="S555^^^SOUTH^MR", f5="DOE^JANET")
    applied(again)
    assert Patient.objects.count() == 1
    assert patient.names.get(period_end=None).given == "JANET"


def test_r_int_5_a08_adds_identifiers_and_replaces_a_changed_one(facility):
    applied(message("A04", "P1", f3="M1001^^^NORTH^MR~E123^^^EPI^PI"))
    applied(message("A08", "P2", f3="M1001^^^NORTH^MR~E124^^^EPI^PI~Q1^^^EPI^PT"))
    patient = Patient.objects.get()
    others = {(i.value, i.period_end) for i in patient.identifiers.filter(kind="OT")}
    assert others == {("E123", date.today()), ("E124", None), ("Q1", None)}
    # back to the first value: it is current again, the second ended
    applied(message("A08", "P3", f3="M1001^^^NORTH^MR~E123^^^EPI^PI"))
    now = patient.identifiers.filter(kind="OT", type_code="PI", period_end=None)
    assert [i.value for i in now] == ["E123"]


def test_r_int_5_an_mrn_of_another_patient_in_pid_3_is_refused(
    facility, other_facility
):
    applied(message("A04", "P1", f3="M2002^^^NORTH^MR~S555^^^SOUTH^MR",
                    f5="ROE^RICHARD", f19=""))  # fmt: skip
    ack = handle(message("A08", "P2", f3="M1001^^^NORTH^MR~S555^^^SOUTH^MR"))
    assert ack.code == "AE" and ack.location == "PID-3"
    assert "already belongs to another patient" in ack.text


def test_r_int_5_two_ssns_are_refused_not_one_dropped(facility):
    ack = handle(message("A04", "P1", f3="M1001^^^NORTH^MR~987654321^^^USSSA^SS"))
    assert ack.code == "AE" and ack.location == "PID-3"
    assert "another SSN than PID-19" in ack.text
    assert not Patient.objects.exists()


def test_r_int_5_pid_3_identifiers_on_the_chart_and_fhir(facility, other_facility, him):
    applied(message("A04", "P1", f3=PID_3, f19=""))
    patient = Patient.objects.get()
    section = (
        chart(him, patient).split('id="demographics"')[1].split('id="encounters"')[0]
    )
    assert "E123" in section and "PI patient internal identifier" in section
    # and on the identity desk's merge review, beside another chart
    applied(message("A04", "P2", f3="M2002^^^NORTH^MR", f5="ROE^RICHARD", f19=""))
    other = Patient.objects.exclude(pk=patient.pk).get()
    merge = signed_in(him).get(f"/identity/merge?left={patient.pk}&right={other.pk}")
    assert "Other (PT patient external identifier) P77" in merge.content.decode()
    body = fhir_read(him, f"Patient/{patient.pk}")
    types = {
        i["value"]: [c["code"] for c in i["type"]["coding"]] for i in body["identifier"]
    }
    assert types["E123"] == ["PI", "OT"] and types["P77"] == ["PT", "OT"]
    assert types["A900"] == ["AN", "OT"]
    assert "S555" not in types  # SOUTH's MRN: outside him's facilities


# --- PID-14, addresses --------------------------------------------------------


def test_r_int_5_pid_14_business_phone_is_a_work_phone(facility):
    applied(message("A04", "T1", f14="^WPN^PH^^^312^5550123~^WPN^FX^^^312^5550124"))
    patient = Patient.objects.get()
    got = {(t.system, t.use, t.value) for t in patient.telecoms.all()}
    assert got == {
        ("phone", "home", "2175550100"),
        ("phone", "work", "3125550123"),
        ("fax", "work", "3125550124"),
    }
    # a new home number leaves the business one as it is
    applied(message("A08", "T2", f13="^PRN^PH^^^217^5550111", f14=""))
    now = {(t.use, t.value) for t in current(patient, "telecoms")}
    assert now == {("home", "2175550111"), ("work", "3125550123"),
                   ("work", "3125550124")}  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("1 Main St^^Los Angeles^California^90001^USA^H",
         ("home", "H", "Los Angeles", "CA", "90001", "US")),
        ("10 Downing St^^London^^SW1A 2AA^GBR^M",
         ("home", "M", "London", "", "SW1A 2AA", "GB")),
        ("1 Rue de Rivoli^^Paris^Île-de-France^75001^France^B",
         ("work", "B", "Paris", "Île-de-France", "75001", "FR")),
        ("100 Queen St W^^Toronto^ON^M5H 2N2^CA^O",
         ("work", "O", "Toronto", "ON", "M5H 2N2", "CA")),
        ("PO Box 5^^Springfield^il^62701-1234^^C",
         ("temp", "C", "Springfield", "IL", "62701-1234", "US")),
        ("1000&Hospital Lane^Ste. 123^Ann Arbor^MI^99999^USA^P",
         ("home", "P", "Ann Arbor", "MI", "99999", "US")),
        # the type as a word, as some senders write it
        ("123 Fake St^^Kyoto^Kyoto-fu^600-8216^JP^HOME",
         ("home", "H", "Kyoto", "Kyoto-fu", "600-8216", "JP")),
    ],
)  # fmt: skip
def test_r_int_5_addresses_of_any_country_with_their_type(facility, sent, stored):
    applied(message("A04", "D1", f11=sent))
    address = Patient.objects.get().addresses.get()
    got = (address.use, address.type_code, address.city, address.state,
           address.postal_code, address.country)  # fmt: skip
    assert got == stored


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        ("1 Main St^^Springfield^Kalifornia^62701^USA", "'Kalifornia' is not a US"),
        ("1 Main St^^Springfield^IL^62701^ZZZ", "'ZZZ' is not an ISO 3166"),
        ("1 Main St^^Springfield^IL^62701^USA^Q", "'Q' is not in HL7 table 0190"),
    ],
)
def test_r_int_5_an_address_we_cannot_store_is_refused(facility, sent, words):
    ack = handle(message("A04", "D1", f11=sent))
    assert ack.code == "AE" and ack.location == "PID-11" and words in ack.text
    assert err(ack)[2] == "PID^1^11"
    assert not Patient.objects.exists()


def test_r_int_5_addresses_on_fhir_patient_read(facility, him):
    applied(message("A04", "D1", f11="10 Downing St^^London^^SW1A 2AA^GBR^M"))
    patient = Patient.objects.get()
    body = fhir_read(him, f"Patient/{patient.pk}")
    (address,) = body["address"]
    assert address["country"] == "GB" and address["postalCode"] == "SW1A 2AA"
    assert address["type"] == "postal" and "state" not in address


# --- PV1-2 and PV1-7 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cls"),
    [("E", "EMER"), ("I", "IMP"), ("O", "AMB"), ("P", "IMP"), ("R", "AMB"),
     ("B", "IMP"), ("C", "AMB"), ("N", "NA"), ("U", "UNK")],
)  # fmt: skip
def test_r_int_5_every_patient_class_of_table_0004_is_recorded(facility, code, cls):
    applied(message("A01", "C1", pv1(code)))
    visit = Encounter.objects.get()
    assert (visit.patient_class, visit.encounter_class) == (code, cls)


def test_r_int_5_a08_patient_class_unknown_and_null(admitted):
    applied(message("A08", "C2", pv1("B")))
    admitted.refresh_from_db()
    assert (admitted.patient_class, admitted.encounter_class) == ("B", "IMP")
    applied(message("A08", "C3", pv1('""')))
    admitted.refresh_from_db()
    assert (admitted.patient_class, admitted.encounter_class) == ("U", "UNK")


def test_r_int_5_fhir_encounter_class_of_unknown_is_a_null_flavor(facility, him):
    applied(message("A01", "C1", pv1("U", attending="9999999999^WELBY^MARCUS")))
    visit = Encounter.objects.get()
    body = fhir_read(him, f"Encounter/{visit.pk}")
    assert body["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
        "code": "UNK",
        "display": "unknown",
    }
    (attending,) = body["participant"]
    assert attending["individual"] == {
        "display": "MARCUS WELBY",
        "identifier": {"value": "9999999999"},
    }


def test_r_int_5_unknown_attending_is_kept_as_a_name_with_a_warning(facility):
    visit = pv1(attending="9999999999^WELBY^MARCUS^J^^DR^MD")
    ack = applied(message("A01", "W1", visit))
    encounter = Encounter.objects.get()
    assert encounter.attending is None
    assert encounter.unlisted_providers == {
        "attending": {"id": "9999999999", "family": "WELBY", "given": "MARCUS",
                      "middle": "J", "prefix": "DR", "degree": "MD"}
    }  # fmt: skip
    words = "PV1-7 attending 9999999999 (WELBY, MARCUS) is not in the provider table"
    assert words in ack.text
    row = InterfaceMessage.objects.get()
    assert row.status == "processed" and words in row.warnings and row.error == ""
    event = AuditEvent.objects.get(action="interface.message")
    assert words in json.loads(event.detail)["warnings"][0]
    # once the provider is known, an A08 names them and the kept name goes
    known = factories.provider()
    applied(message("A08", "W2", pv1(attending=known.npi)))
    encounter.refresh_from_db()
    assert (encounter.attending, encounter.unlisted_providers) == (known, {})
    assert InterfaceMessage.objects.get(control_id="W2").error == ""


def test_r_int_5_unknown_attending_shows_on_the_chart(facility, him):
    applied(message("A01", "W1", pv1(attending="9999999999^WELBY^MARCUS")))
    patient = Patient.objects.get()
    section = chart(him, patient).split('id="encounters"')[1].split('id="documents"')[0]
    assert "MARCUS WELBY" in section and "not in the provider list" in section


def test_r_int_5_unknown_admitting_and_the_warning_on_the_interfaces_page(
    facility, him
):
    visit = pv1(admitting="1234^HOUSE^GREGORY")
    applied(message("A01", "W1", visit))
    encounter = Encounter.objects.get()
    assert (encounter.admitting, encounter.unlisted_providers) == (
        None,
        {"admitting": {"id": "1234", "family": "HOUSE", "given": "GREGORY"}},
    )
    row = InterfaceMessage.objects.get()
    page = signed_in(him).get(f"/interfaces/{row.pk}").content.decode()
    assert "<dt>Note</dt>" in page
    assert "PV1-17 admitting 1234 (HOUSE, GREGORY) is not in the provider" in page


def test_r_int_5_a_visit_without_a_patient_class_is_recorded_as_unknown(facility):
    ack = applied(message("A01", "C1", pv1("")))
    visit = Encounter.objects.get()
    assert (visit.patient_class, visit.encounter_class) == ("", "UNK")
    assert "PV1-2 (patient class) is empty; visit V5001 is recorded" in ack.text
