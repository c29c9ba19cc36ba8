"""The merge rules stop only real conflicts: a typo or a nickname of the first name
is one name, a shared full SSN or identifier outweighs the twin guard, an SSN typo
is said not refused, Jr against no suffix is one person, a sex difference is no
twin. A manager may merge past a guard with a reason (audited); a specialist not."""

from __future__ import annotations

import json
from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import Conflict, PermissionDenied
from recordroom.mpi.merge import merge_blockers, merge_patients
from recordroom.mpi.merge_rules import judge
from recordroom.mpi.models import Patient, PatientIdentifier, PatientMerge, PatientName
from tests import factories

BORN = date(1984, 6, 12)


@pytest.fixture
def specialist(db, facility):
    return factories.actor(
        factories.user("spec1", "him_specialist", facilities=[facility])
    )


@pytest.fixture
def manager(db, facility):
    return factories.actor(factories.user("mgr1", "him_manager", facilities=[facility]))


def _two(facility, first, second, *, ssn=("900-12-3456", "900-12-3456"), sex=None):
    sex = sex or ("male", "male")
    a = factories.patient(facility=facility, family="Whitaker", given=first,
                          birth_date=BORN, ssn=ssn[0], sex=sex[0])  # fmt: skip
    b = factories.patient(facility=facility, family="Whitaker", given=second,
                          birth_date=BORN, ssn=ssn[1], sex=sex[1])  # fmt: skip
    return a, b


# The demo's true duplicates that "twins are two people" refused (issue 12).
@pytest.mark.parametrize(
    ("first", "second"),
    [("Aaron", "Aqron"), ("Jimmy", "Jmmy"), ("Carolyn", "Crolyn"), ("Luis", "Lius"),
     ("Michael", "Mike"), ("John", "Jack")],
)  # fmt: skip
def test_a_typo_or_nickname_sharing_the_ssn_is_merged_not_held_as_twins(
    facility, specialist, first, second
):
    a, b = _two(facility, first, second)
    assert merge_blockers(a, b) == []
    merge_patients(actor=specialist, survivor=a, retired=b, reason="same man")
    assert Patient.objects.get(pk=b.pk).merged_into_id == a.pk


@pytest.mark.parametrize(
    ("first", "second"), [("Aqron", "Aaron"), ("Lius", "Luis"), ("Mike", "Michael")]
)
def test_a_typo_or_nickname_is_one_name_even_without_an_ssn(facility, first, second):
    a, b = _two(facility, first, second, ssn=(None, None))
    assert merge_blockers(a, b) == []


# Different names, not one mistyped: Mary/Mark (y and k are not neighbours), and
# Chris/Christina, which the old prefix comparison took for one name.
@pytest.mark.parametrize(
    ("first", "second"),
    [("Mary", "Mark"), ("Ella", "Emma"), ("Chris", "Christina"), ("Chidi", "Chika")],
)
def test_twins_without_a_shared_ssn_are_refused(facility, specialist, first, second):
    a, b = _two(facility, first, second, ssn=("900-12-3456", None))
    verdict = judge(a, b)
    assert [x.rule for x in verdict.blockers] == ["twins"]
    assert verdict.blockers[0].text == (
        f"same birth date and surname, different first names ({first} and {second}): "
        "twins are two people"
    )
    with pytest.raises(Conflict, match="twins are two people"):
        merge_patients(actor=specialist, survivor=a, retired=b, reason="alike")


def test_a_shared_full_ssn_outweighs_the_twin_guard_and_says_so(facility):
    a, b = _two(facility, "Mary", "Mark")
    verdict = judge(a, b)
    assert verdict.blockers == []
    assert any("share a full SSN or an identifier" in n for n in verdict.notes)


def test_a_shared_identifier_history_outweighs_the_twin_guard(facility):
    a, b = _two(facility, "Mary", "Mark", ssn=(None, None))
    assert [x.rule for x in judge(a, b).blockers] == ["twins"]
    for p in (a, b):  # both carried the old system's patient number, one ended
        PatientIdentifier.objects.create(
            patient=p, kind="OT", type_code="PI", system="urn:oldhis:pi", value="P77",
            lookup="P77", period_end=date(2020, 1, 1) if p is a else None,
        )  # fmt: skip
    assert judge(a, b).blockers == []


@pytest.mark.parametrize(
    ("other", "words"),
    [("900-12-3457", "one digit"), ("900-21-3456", "two digits transposed"),
     ("900-12-3465", "two digits transposed")],
)  # fmt: skip
def test_an_ssn_typo_is_not_two_people_but_the_comparison_says_it(
    facility, other, words
):
    a, b = _two(facility, "Aaron", "Aaron", ssn=("900-12-3456", other))
    verdict = judge(a, b)
    assert verdict.blockers == []
    last4 = other[-4:]
    assert verdict.notes == [f"the SSNs differ by {words} (…3456 / …{last4}): a keying "
                             "error, not two people; check which is right"]  # fmt: skip


def test_two_really_different_ssns_are_still_refused(facility):
    a, b = _two(facility, "Aaron", "Aaron", ssn=("900-12-3456", "900-98-7654"))
    assert [x.rule for x in judge(a, b).blockers] == ["two-ssns"]


@pytest.mark.parametrize(
    ("suffixes", "refused"),
    [(("Jr", ""), False), (("", "Sr."), False), (("Jr.", "JR"), False),
     (("Jr", "Sr"), True), (("II", "III"), True), (("3rd", "III"), False)],
)  # fmt: skip
def test_only_two_different_explicit_generations_conflict(facility, suffixes, refused):
    a, b = _two(facility, "Aaron", "Aaron")
    for p, suffix in zip((a, b), suffixes, strict=True):
        PatientName.objects.filter(patient=p).update(suffix=suffix)
    rules = [x.rule for x in judge(a, b).blockers]
    assert rules == (["generation"] if refused else [])


def test_only_the_recorded_sex_differing_is_no_twin(facility):
    a, b = _two(facility, "Robin", "Robin", ssn=(None, None), sex=("male", "female"))
    verdict = judge(a, b)
    assert verdict.blockers == []
    assert verdict.notes == ["the recorded sex differs (male / female): choose which "
                             "survives; it is not a rule against the merge"]  # fmt: skip


def test_a_manager_overrides_a_guard_with_a_reason_audited(
    facility, specialist, manager
):
    a, b = _two(facility, "Mary", "Mark", ssn=("900-12-3456", None))
    with pytest.raises(Conflict, match="an HIM manager may override"):
        merge_patients(actor=manager, survivor=a, retired=b, reason="one person")
    with pytest.raises(PermissionDenied, match="only an HIM manager may override"):
        merge_patients(actor=specialist, survivor=a, retired=b, reason="one person",
                       override="I am sure")  # fmt: skip
    assert not PatientMerge.objects.exists()
    merge = merge_patients(actor=manager, survivor=a, retired=b, reason="one person",
                           override="registrar keyed Mark; ID card says Mary")  # fmt: skip
    merge.refresh_from_db()
    assert merge.override_reason == "registrar keyed Mark; ID card says Mary"
    assert merge.overridden == ["same birth date and surname, different first names "
                                "(Mary and Mark): twins are two people"]  # fmt: skip
    event = AuditEvent.objects.filter(action="patient.merge").first()
    assert json.loads(event.detail)["override"] == {
        "rules": merge.overridden,
        "reason": "registrar keyed Mark; ID card says Mary",
    }
    assert event.username == "mgr1"


def test_no_one_overrides_a_merge_into_itself(facility, manager):
    a = factories.patient(facility=facility, family="Whitaker", given="Aaron")
    with pytest.raises(Conflict, match="cannot be merged into itself"):
        merge_patients(actor=manager, survivor=a, retired=a, reason="x", override="y")
