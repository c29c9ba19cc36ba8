"""Facilities: creating one (audited) and listing them, for the CLI and the admin."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.models import Facility, validate_timezone

_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")


def default_mrn_system(code: str) -> str:
    """The MRN system a facility gets when none is given (replace it with the OID
    the facility's assigning authority uses, if it has one, before interfaces run)."""
    return f"urn:recordroom:facility:{code.lower()}:mrn"


def create_facility(
    *,
    actor: Actor,
    code: str,
    name: str,
    timezone: str,
    mrn_system: str = "",
    npi: str = "",
) -> Facility:
    """Create a facility, the assigning authority of its MRNs; audited.

    Args:
        code: short upper-case code users and interfaces name it by (NORTH).
        name: its name as letters and pages show it.
        timezone: IANA zone its dates are shown and counted in (America/Chicago).
        mrn_system: identifier system URI of its MRNs (default: one derived from
            the code).
        npi: its organisational NPI, if any.
    """
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise ValidationFailed(
            f"facility code {code!r} is not valid: use up to 20 letters, digits, "
            "'-' or '_' (e.g. NORTH)",
            field="code",
        )
    name = name.strip()
    if not name:
        raise ValidationFailed("a facility name is required", field="name")
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="timezone") from None
    npi = npi.strip()
    if npi and (problem := npi_problem(npi)):
        raise ValidationFailed(problem, field="npi")
    mrn_system = mrn_system.strip() or default_mrn_system(code)
    with transaction.atomic():
        if Facility.objects.filter(code=code).exists():
            raise Conflict(f"facility {code} already exists")
        taken = Facility.objects.filter(mrn_system=mrn_system).first()
        if taken is not None:
            raise Conflict(
                f"MRN system {mrn_system} already belongs to facility {taken.code}"
            )
        facility = Facility.objects.create(
            code=code, name=name, timezone=timezone, mrn_system=mrn_system, npi=npi
        )
        record(
            actor=actor,
            action=actions.FACILITY_CREATED.name,
            obj=facility,
            detail={
                "code": code,
                "name": name,
                "timezone": timezone,
                "mrn_system": mrn_system,
            },
        )
    return facility


def list_facilities() -> list[Facility]:
    """Every facility, by code."""
    return list(Facility.objects.order_by("code"))


def facility_codes() -> list[str]:
    return [f.code for f in list_facilities()]
