"""The Patient resource in: names (one legal name at a time, the rest history or
aliases), identifiers by kind and facility, contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recordroom.mpi.models import IdentifierKind, NameUse, Sex
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn

from . import values as v
from .mapping import IDENTIFIER_KIND, SSN_SYSTEM, V2_0203
from .us_core import demographics_in
from .values import Rejected

if TYPE_CHECKING:
    from .inbound import Context

PLACEHOLDER_FAMILY = "UNKNOWN"  # the HIM convention for a patient without a name

NAME_USES = {
    "official": NameUse.LEGAL,
    "usual": NameUse.ALIAS,
    "nickname": NameUse.ALIAS,
    "old": NameUse.PREVIOUS,
    "maiden": NameUse.MAIDEN,
    "anonymous": NameUse.ALIAS,
    "temp": NameUse.ALIAS,
}
GLOBAL_KINDS = {"SS": IdentifierKind.SSN, "DL": IdentifierKind.DRIVER,
                "MB": IdentifierKind.MEMBER}  # fmt: skip


def _names(res: dict[str, Any]) -> list[NameIn]:
    """Names with a family name; one without borrows the legal name's family (a
    nickname, "Jim"); a patient with no family name at all is UNKNOWN, as HIM
    registers an unnamed newborn or unidentified patient."""
    raw = []
    for i, n in enumerate(v.items(res.get("name"), "Patient.name")):
        e = f"Patient.name[{i}]"
        n = v.obj(n, e)
        given = [v.text(g, f"{e}.given", 100) for g in v.items(n.get("given"), e)]
        family = v.text(n.get("family"), f"{e}.family", 100)
        if not family and not given and n.get("text"):
            family = v.text(n.get("text"), f"{e}.text", 100)
        start, end = v.date_period(n.get("period"), f"{e}.period")
        use = NAME_USES.get(v.text(n.get("use"), f"{e}.use", 20), NameUse.LEGAL)
        prefix = v.items(n.get("prefix"), f"{e}.prefix")
        suffix = v.items(n.get("suffix"), f"{e}.suffix")
        raw.append(NameIn(
            family=family, given=given[0] if given else "",
            middle=" ".join(given[1:])[:100], use=use,
            prefix=v.text(prefix[0], f"{e}.prefix", 20) if prefix else "",
            suffix=v.text(suffix[0], f"{e}.suffix", 20) if suffix else "",
            period_start=start, period_end=end,
        ))  # fmt: skip
    legal = [n for n in raw if n.use == NameUse.LEGAL and n.family]
    if not legal:
        first = next((n for n in raw if n.family and n.use == NameUse.ALIAS), None)
        if first is not None:
            first.use = NameUse.LEGAL
            legal = [first]
    for extra in legal[1:]:
        extra.use = NameUse.ALIAS  # one legal name at a time
    family = legal[0].family if legal else PLACEHOLDER_FAMILY
    for n in raw:
        n.family = n.family or family
    if not legal:
        raw.insert(0, NameIn(family=PLACEHOLDER_FAMILY, use=NameUse.LEGAL))
    return raw


def patient(res: dict[str, Any], ctx: Context, fallback: tuple[str, str]) -> PatientIn:
    """A patient. Identifiers typed MR are medical record numbers of the facility
    whose system they carry, or, from elsewhere, received through the receiving
    facility; SSN, licence and member ids are enterprise-wide. `fallback` (system,
    value) identifies a patient sent with no identifier of a facility."""
    idents: list[IdentifierIn] = []
    for i, ident in enumerate(v.items(res.get("identifier"), "Patient.identifier")):
        e = f"Patient.identifier[{i}]"
        ident = v.obj(ident, e)
        value = v.text(ident.get("value"), f"{e}.value", 100)
        system = v.text(ident.get("system"), f"{e}.system")
        if not value:
            continue
        code = v.first_code(ident.get("type"), f"{e}.type", V2_0203)
        ours = v.first_code(ident.get("type"), f"{e}.type", IDENTIFIER_KIND)
        if ours in (IdentifierKind.ENTERPRISE, IdentifierKind.OTHER):
            facility = ctx.facility_by_system(system) or ctx.facility
            idents.append(IdentifierIn(kind=ours, value=value, system=system,
                                       facility=facility if ours == "OT" else None))  # fmt: skip
            continue
        if system == SSN_SYSTEM or code == "SS":
            if "*" in value:
                continue  # a masked SSN (as we send them) carries nothing
            idents.append(IdentifierIn(kind=IdentifierKind.SSN, value=value))
            continue
        if code in GLOBAL_KINDS:
            idents.append(IdentifierIn(kind=GLOBAL_KINDS[code], value=value,
                                       system=system or f"urn:recordroom:{code}"))  # fmt: skip
            continue
        facility = ctx.facility_by_system(system) or ctx.facility
        if facility is None:
            raise Rejected(
                f"{e}: identifier {value!r} names none of our facilities and no "
                f"receiving facility is set; {ctx.facility_advice}", e,
            )  # fmt: skip
        idents.append(IdentifierIn(
            kind=IdentifierKind.MRN if code == "MR" else IdentifierKind.OTHER,
            value=value, system=system or facility.mrn_system, facility=facility,
        ))  # fmt: skip
    if not any(i.facility for i in idents):
        if ctx.facility is None:
            raise Rejected("Patient.identifier: send at least one identifier (an MRN) "
                           "so the chart can be found", "Patient.identifier")  # fmt: skip
        idents.append(IdentifierIn(kind=IdentifierKind.OTHER, system=fallback[0],
                                   value=fallback[1][:100], facility=ctx.facility))  # fmt: skip
    gender = v.text(res.get("gender"), "Patient.gender", 10) or Sex.UNKNOWN
    if gender not in Sex.values:
        raise Rejected(f"Patient.gender {gender!r} is not one of {', '.join(Sex.values)}",
                       "Patient.gender")  # fmt: skip
    deceased = v.date_time(res.get("deceasedDateTime"), "Patient.deceasedDateTime")
    return PatientIn(
        names=_names(res),
        birth_date=v.full_date(res.get("birthDate"), "Patient.birthDate"),
        sex=gender,
        deceased_date=deceased.date() if deceased else None,
        identifiers=idents,
        addresses=v.addresses(res, "Patient.address"),
        telecoms=v.telecoms(res, "Patient.telecom"),
        us_core=demographics_in(res),
    )
