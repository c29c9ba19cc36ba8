"""Registering a patient: a user scoped to some facilities may not create an MRN at
another; the system, the CLI and interfaces have no scope (R-SEC-1, least privilege)."""

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied
from recordroom.mpi.models import Patient, PatientIdentifier
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient
from tests import factories


def _data(*identifiers: IdentifierIn) -> PatientIn:
    return PatientIn(names=[NameIn(family="Lindqvist", given="Maja")],
                     identifiers=list(identifiers))  # fmt: skip


def _counts() -> tuple[int, int, int]:
    return (
        Patient.objects.count(),
        PatientIdentifier.objects.count(),
        AuditEvent.objects.count(),
    )


def test_an_mrn_at_a_facility_outside_the_users_scope_is_refused_naming_it(
    him, facility, other_facility
):
    before = _counts()
    data = _data(
        IdentifierIn(kind="MR", value="N1", facility=facility),
        IdentifierIn(kind="MR", value="S1", facility=other_facility),
    )
    with pytest.raises(PermissionDenied) as refused:
        register_patient(actor=factories.actor(him), data=data)
    assert refused.value.message == (
        "cannot register MRN 'S1': facility SOUTH (South General Hospital) is outside "
        "your facilities; register the patient at one of yours or ask an "
        "administrator for access to SOUTH"
    )
    assert refused.value.field == "identifiers.1.facility"
    assert _counts() == before  # nothing written, not even an audit event


def test_any_identifier_tied_to_such_a_facility_is_refused(him, other_facility):
    data = _data(IdentifierIn(kind="MB", value="W-77", system="urn:payer",
                              facility=other_facility))  # fmt: skip
    with pytest.raises(PermissionDenied, match="cannot register Insurance member id"):
        register_patient(actor=factories.actor(him), data=data)


def test_an_mrn_at_the_users_own_facility_is_registered(him, facility):
    patient = register_patient(
        actor=factories.actor(him),
        data=_data(IdentifierIn(kind="MR", value="N1", facility=facility)),
    )
    assert patient.identifiers.get().facility == facility


def test_identifiers_without_a_facility_need_no_scope(him):
    patient = register_patient(
        actor=factories.actor(him),
        data=_data(IdentifierIn(kind="EID", value="E-1", system="urn:empi")),
    )
    assert patient.identifiers.get().value == "E-1"


def test_a_user_with_every_facility_registers_anywhere(db, other_facility):
    manager = factories.user("him9", "him_specialist", all_facilities=True)
    register_patient(
        actor=factories.actor(manager),
        data=_data(IdentifierIn(kind="MR", value="S1", facility=other_facility)),
    )
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    "actor",
    [factories.SYSTEM, Actor(channel="cli", name="cli:root"),
     Actor(channel="hl7", name="adt-feed")],
)  # fmt: skip
def test_the_system_the_cli_and_interfaces_have_no_scope(db, other_facility, actor):
    register_patient(
        actor=actor,
        data=_data(IdentifierIn(kind="MR", value="S1", facility=other_facility)),
    )
    assert Patient.objects.count() == 1


def test_a_user_with_no_facility_registers_no_mrn(db, facility):
    nowhere = factories.user("new1", "him_specialist")
    with pytest.raises(PermissionDenied, match="facility NORTH"):
        register_patient(
            actor=factories.actor(nowhere),
            data=_data(IdentifierIn(kind="MR", value="N1", facility=facility)),
        )
    assert Patient.objects.count() == 0
