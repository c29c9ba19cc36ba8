"""Which of our facilities a write files a visit at: the one the resource names
(serviceProvider, location, visit number system), else the one the request names
(FACILITY_HEADER) or the import's receiving facility."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.mpi.models import Facility

from . import values as v
from .mapping import ENCOUNTER_ACCOUNT_SUFFIX, FACILITY_SYSTEM

if TYPE_CHECKING:
    from .inbound import Context

FACILITY_HEADER = "X-Recordroom-Facility"
CLI_FACILITY_ADVICE = "import with --facility CODE"
HTTP_FACILITY_ADVICE = (
    f"send the request header {FACILITY_HEADER} with the facility code"
)
WRITE_DOCUMENTATION = (
    "Writes (create, update, transaction, batch) file each visit at the facility the "
    "resource names: Encounter.serviceProvider (an Organization of ours, or an "
    f"identifier with system {FACILITY_SYSTEM} and the facility code), "
    f"Encounter.location (the same identifier), or a visit number whose system is the "
    f"facility's MRN system followed by {ENCOUNTER_ACCOUNT_SUFFIX}. Otherwise the "
    f"request header {FACILITY_HEADER}: <facility code> names the receiving "
    "facility (a client of one facility needs none). A resend of a visit, condition "
    "or procedure is recognised by its identifiers, else by patient, code or class, "
    "and time, and is not stored twice."
)


def acting_at(actor: Actor, code: str) -> Actor:
    """The actor of a request that names its facility (FACILITY_HEADER); writes
    file there what does not name a facility itself.

    Raises:
        ValidationFailed: no facility with that code.
        PermissionDenied: the facility is not one of the caller's.
    """
    code = code.strip()
    if not code:
        return actor
    found = Facility.objects.filter(code=code).first()
    if found is None:
        raise ValidationFailed(f"{FACILITY_HEADER} {code!r} is not a facility here",
                               field=FACILITY_HEADER)  # fmt: skip
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and found.pk not in scope:
        raise PermissionDenied(f"{FACILITY_HEADER} {code!r} is not one of your "
                               "facilities", field=FACILITY_HEADER)  # fmt: skip
    return replace(actor, facility_id=found.pk)



def named_facility(
    res: dict[str, Any], idents: list[dict[str, str]], ctx: Context
) -> Facility | None:
    """The facility the visit itself names: serviceProvider or a location by our
    facility identifier (as we export them), or its visit number's system (ours are
    the facility's MRN system + /account)."""
    places = [("Encounter.serviceProvider", res.get("serviceProvider"))]
    for i, loc in enumerate(v.items(res.get("location"), "Encounter.location")):
        place = v.obj(loc, f"Encounter.location[{i}]").get("location")
        places.append((f"Encounter.location[{i}].location", place))
    for expr, ref in places:
        ident = v.obj(v.obj(ref, expr).get("identifier"), f"{expr}.identifier")
        if v.text(ident.get("system"), f"{expr}.identifier.system") == FACILITY_SYSTEM:
            code = v.text(ident.get("value"), f"{expr}.identifier.value", 20)
            return ctx.facility_by_code(code, f"{expr}.identifier")
    for ident in idents:
        if ident["system"].endswith(ENCOUNTER_ACCOUNT_SUFFIX):
            system = ident["system"].removesuffix(ENCOUNTER_ACCOUNT_SUFFIX)
            found = ctx.facility_by_system(system, "Encounter.identifier")
            if found is not None:
                return found
    return None
