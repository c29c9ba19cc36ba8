import re
from datetime import date

import pytest

from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.search import PatientQuery, search_patients
from recordroom.mpi.services import NameIn, PatientIn
from tests import factories


def _names(hits):
    return [h.legal_name.family for h in hits]


def test_partial_name_is_case_and_accent_insensitive(db, facility, him, patient):
    factories.patient(facility=facility, family="Nunn", given="Alice")
    hits = search_patients(user=him, query=PatientQuery(name="nun"))
    assert sorted(_names(hits)) == ["Nunn", "Núñez"]
    hits = search_patients(user=him, query=PatientQuery(name="NUÑEZ, jos"))
    assert _names(hits) == ["Núñez"]
    hits = search_patients(user=him, query=PatientQuery(name="jose nunez"))
    assert _names(hits) == ["Núñez"]


def test_name_plus_birth_date_narrows(db, facility, him):
    factories.patient(
        facility=facility, family="Garcia", given="Maria", birth_date=date(1970, 1, 1)
    )
    factories.patient(
        facility=facility, family="Garcia", given="Maria", birth_date=date(1991, 5, 6)
    )
    hits = search_patients(
        user=him, query=PatientQuery(name="garcia maria", birth_date=date(1991, 5, 6))
    )
    assert [h.patient.birth_date for h in hits] == [date(1991, 5, 6)]


def test_mrn_and_ssn_last_four(db, facility, him):
    p = factories.patient(
        facility=facility, family="Lee", mrn="N-555", ssn="123-45-6789"
    )
    assert [
        h.patient.pk
        for h in search_patients(user=him, query=PatientQuery(identifier="n555"))
    ] == [p.pk]
    assert [
        h.patient.pk for h in search_patients(user=him, query=PatientQuery(ssn="6789"))
    ] == [p.pk]
    assert [
        h.patient.pk
        for h in search_patients(user=him, query=PatientQuery(ssn="123456789"))
    ] == [p.pk]
    assert search_patients(user=him, query=PatientQuery(ssn="123456780")) == []


def test_previous_name_finds_the_chart(db, facility, him):
    from recordroom.mpi.services import NameIn, change_legal_name

    p = factories.patient(facility=facility, family="Baker", given="Jane")
    change_legal_name(
        actor=factories.SYSTEM, patient=p, new=NameIn(family="Carter", given="Jane")
    )
    hits = search_patients(user=him, query=PatientQuery(name="baker"))
    assert [h.patient.pk for h in hits] == [p.pk]
    assert hits[0].legal_name.family == "Carter"


def test_facility_scope_hides_other_facilities_patients(
    db, facility, other_facility, him
):
    factories.patient(facility=other_facility, family="Hidden")
    assert search_patients(user=him, query=PatientQuery(name="hidden")) == []


def test_empty_query_is_refused_with_a_reason(db, him):
    with pytest.raises(ValidationFailed, match="give a name"):
        search_patients(user=him, query=PatientQuery())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"deceased_date": date(2999, 1, 1)}, "deceased date 2999-01-01 is in the future"),
        ({"deceased_date": date(1970, 1, 1)}, "is before the birth date 1980-04-02"),
        (
            {"names_extra": NameIn(family="Old", use="previous",
                                   period_start=date(2010, 1, 1),
                                   period_end=date(2000, 1, 1))},
            "name period ends (2000-01-01) before it starts (2010-01-01)",
        ),
    ],
)  # fmt: skip
def test_impossible_dates_are_refused(db, facility, changes, message):
    from recordroom.mpi.services import PatientIn, build_patient

    extra = changes.pop("names_extra", None)
    data = PatientIn(
        names=[NameIn(family="Date"), *([extra] if extra else [])],
        birth_date=date(1980, 4, 2),
        **changes,
    )
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        build_patient(data)


def test_mrns_at_facilities_outside_the_scope_are_not_shown(
    db, facility, other_facility, him
):
    from recordroom.mpi.services import IdentifierIn, get_patient, register_patient

    p = register_patient(
        actor=factories.SYSTEM,
        data=PatientIn(
            names=[NameIn(family="Both", given="Sites")],
            identifiers=[
                IdentifierIn(kind="MR", value="N-1", facility=facility),
                IdentifierIn(kind="MR", value="S-1", facility=other_facility),
                IdentifierIn(kind="SS", value="900-12-3456"),
            ],
        ),
    )
    (hit,) = search_patients(user=him, query=PatientQuery(name="both"))
    assert [m.value for m in hit.mrns] == ["N-1"]
    shown = get_patient(user=him, patient_id=p.pk).identifiers.all()
    assert sorted(i.value for i in shown) == ["***-**-3456", "N-1"]


def test_facility_time_zone_must_be_an_iana_name(db):
    from django.core.exceptions import ValidationError as DjangoValidationError

    from recordroom.mpi.models import Facility

    bad = Facility(code="X", name="X", mrn_system="urn:x", timezone="Mars/Olympus")
    with pytest.raises(DjangoValidationError, match="not an IANA time zone name"):
        bad.full_clean()
