"""Patient search finds people the way registrars mistype them: a surname that sounds
alike, a nickname, day and month swapped, an MRN without its leading zeros; exact
matches first, each tolerant one saying why; paged with a total; facility scope
kept. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import PatientName
from recordroom.mpi.search import PatientQuery, search_page
from recordroom.records.chart import find_patient_page
from tests import factories
from tests.api.conftest import api_for


def tolerant(user, **kw):
    return search_page(user=user, query=PatientQuery(tolerant=True, **kw))


def families(page):
    return [(h.legal_name.family, h.legal_name.given) for h in page.hits]


@pytest.fixture
def registrar(db, facility):
    return factories.user("desk1", "him_specialist", facilities=[facility])


def test_a_surname_that_sounds_alike_is_found_after_the_exact_ones(facility, registrar):
    factories.patient(facility=facility, family="Smyth", given="Anna")
    factories.patient(facility=facility, family="Smith", given="Anna")
    factories.patient(facility=facility, family="Jones", given="Anna")
    page = tolerant(registrar, name="smith, anna")
    assert families(page) == [("Smith", "Anna"), ("Smyth", "Anna")]
    assert page.hits[0].reasons == []
    assert page.hits[1].reasons == ["Smyth sounds like Smith"]
    assert page.total == 2 and not page.more
    # without tolerance, as a lookup that must be exact
    exact = search_page(user=registrar, query=PatientQuery(name="smith, anna"))
    assert families(exact) == [("Smith", "Anna")]


def test_a_nickname_finds_the_formal_name_and_back(facility, registrar):
    factories.patient(facility=facility, family="Okonkwo", given="Jonathan")
    factories.patient(facility=facility, family="Okonkwo", given="Mary")
    page = tolerant(registrar, name="Jon Okonkwo")
    assert families(page) == [("Okonkwo", "Jonathan")]  # "jon" is a prefix: exact
    factories.patient(facility=facility, family="Abara", given="Jon")
    page = tolerant(registrar, name="abara, jonathan")
    assert families(page) == [("Abara", "Jon")]
    assert page.hits[0].reasons == ["Jon is a nickname of Jonathan"]
    factories.patient(facility=facility, family="Ibe", given="William")
    assert tolerant(registrar, name="bill ibe").hits[0].reasons == [
        "Bill is a nickname of William"
    ]


def test_day_and_month_swapped_in_the_birth_date(facility, registrar):
    factories.patient(facility=facility, family="Novak", given="Eva",
                      birth_date=date(1984, 3, 7))  # fmt: skip
    page = tolerant(registrar, name="novak", birth_date=date(1984, 7, 3))
    assert families(page) == [("Novak", "Eva")]
    assert page.hits[0].reasons == [
        "birth date day/month swapped (1984-03-07 on file, 1984-07-03 typed)"
    ]
    only_date = tolerant(registrar, birth_date=date(1984, 7, 3))
    assert families(only_date) == [("Novak", "Eva")]
    # 13 can only be a day: nothing to swap, nothing found
    assert tolerant(registrar, name="novak", birth_date=date(1984, 3, 13)).hits == []


def test_an_mrn_without_its_leading_zeros(facility, registrar):
    p = factories.patient(facility=facility, family="Haddad", mrn="00012345")
    page = tolerant(registrar, identifier="12345")
    assert [h.patient.pk for h in page.hits] == [p.pk]
    assert page.hits[0].reasons == ["MRN 00012345 typed without leading zeros (12345)"]
    assert tolerant(registrar, identifier="00012345").hits[0].reasons == []


def test_results_show_address_phone_and_last_visit(facility, registrar):
    p = factories.patient(facility=facility, family="Lindgren", given="Sara")
    factories.encounter(patient=p, facility=facility)
    page = find_patient_page(
        user=registrar, query=PatientQuery(name="lindgren", tolerant=True)
    )
    hit = page.hits[0]
    assert hit.address == "12 Elm St, Springfield, IL 62701"
    assert hit.phone == "217-555-0100"
    assert hit.last_visit is not None


def test_last_visit_is_the_newest_admission_at_the_users_facilities(
    facility, registrar
):
    other = factories.facility("SOUTH")
    p = factories.patient(facility=facility, family="Lindgren", given="Sara")
    factories.encounter(patient=p, facility=facility, days_ago=40)
    newest = factories.encounter(patient=p, facility=facility, days_ago=5)
    factories.encounter(patient=p, facility=facility, days_ago=20)
    factories.encounter(patient=p, facility=other, days_ago=1)  # not disclosed
    page = find_patient_page(
        user=registrar, query=PatientQuery(name="lindgren", tolerant=True)
    )
    assert page.hits[0].last_visit == newest.admit_at


def test_pages_exact_then_tolerant_with_a_total(facility, registrar):
    for n in range(3):
        factories.patient(facility=facility, family="Smith", given=f"Ann{n}")
    for n in range(2):
        factories.patient(facility=facility, family="Smyth", given=f"Ann{n}")
    first = tolerant(registrar, name="smith", limit=2)
    assert first.more and first.total is None  # known on the last page
    assert [h.exact for h in first.hits] == [True, True]
    second = tolerant(registrar, name="smith", limit=2, offset=2)
    assert families(second) == [("Smith", "Ann2"), ("Smyth", "Ann0")]
    assert [h.exact for h in second.hits] == [True, False]
    third = tolerant(registrar, name="smith", limit=2, offset=4)
    assert families(third) == [("Smyth", "Ann1")] and not third.more
    assert third.total == 5
    # a page that ends exactly where the exact matches end still knows more follow
    exact_end = tolerant(registrar, name="smith", limit=3)
    assert [h.exact for h in exact_end.hits] == [True] * 3 and exact_end.more
    with pytest.raises(ValidationFailed, match="offset -1 is negative"):
        tolerant(registrar, name="smith", offset=-1)


def test_facility_scope_still_applies_to_tolerant_matches(
    facility, other_facility, registrar
):
    factories.patient(facility=other_facility, family="Smyth", given="Anna")
    assert tolerant(registrar, name="smith").hits == []


def test_names_saved_by_any_path_get_their_sound(facility):
    p = factories.patient(facility=facility, family="Smith")
    alias = PatientName.objects.create(patient=p, family="Schmidt",
                                       family_key="schmidt", use="alias")  # fmt: skip
    assert alias.family_sound and p.names.get(use="legal").family_sound == "SM0"


def test_the_api_pages_with_reasons_and_a_total(facility, registrar):
    factories.patient(facility=facility, family="Smyth", given="Anna")
    api = api_for(registrar)
    body = api.get("/patients", name="smith", limit=1).json()
    assert body["total"] == 1 and body["more"] is False
    item = body["items"][0]
    assert item["exact"] is False and item["reasons"] == ["Smyth sounds like Smith"]
    assert item["phone"] == "217-555-0100"
    exact_only = api.get("/patients", name="smith", tolerant="false").json()
    assert exact_only["total"] == 0 and exact_only["items"] == []
