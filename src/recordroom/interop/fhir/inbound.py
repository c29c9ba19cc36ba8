"""FHIR R4 resources in: what Recordroom keeps of each supported type, checked, as
the fields of our rows. Pure: references are resolved through the caller's Context."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from recordroom.kernel.labels import BY_CODE
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.models import Facility, IdentifierKind, NameUse, Sex
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn
from recordroom.records.models import (
    ConditionCategory,
    DocumentStatus,
    EncounterClass,
    EncounterStatus,
)

from . import values as v
from .mapping import IDENTIFIER_KIND, NPI_SYSTEM, SSN_SYSTEM, V2_0203
from .values import Rejected

# Dependencies first: a bundle is applied in this order.
STORED_TYPES = (
    "Organization",
    "Practitioner",
    "Patient",
    "Encounter",
    "Condition",
    "Procedure",
    "Binary",
    "DocumentReference",
)
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
ENCOUNTER_CLASSES = {
    **{c: c for c in EncounterClass.values},
    "ACUTE": EncounterClass.INPATIENT,
    "NONAC": EncounterClass.INPATIENT,
    "PRENC": EncounterClass.OUTPATIENT,
}
ENCOUNTER_STATUSES = {
    **{s: s for s in EncounterStatus.values},
    "arrived": EncounterStatus.IN_PROGRESS,
    "triaged": EncounterStatus.IN_PROGRESS,
    "onleave": EncounterStatus.IN_PROGRESS,
}
DOC_STATUSES = {
    "preliminary": DocumentStatus.PRELIMINARY,
    "final": DocumentStatus.FINAL,
    "amended": DocumentStatus.AMENDED,
    "entered-in-error": DocumentStatus.ENTERED_IN_ERROR,
}


class Context(Protocol):
    facility: Facility | None  # the receiving facility

    def resolve(
        self, ref: str | None, expr: str, types: tuple[str, ...], required: bool
    ) -> UUID | None: ...

    def facility_of(self, organization_id: UUID | None) -> Facility | None: ...

    def facility_by_system(self, system: str) -> Facility | None: ...


@dataclass
class DocumentIn:
    fields: dict[str, Any]
    doc_type: dict[str, Any]
    content: bytes | None = None
    media_type: str = ""
    filename: str = ""
    binary_ref: str | None = None
    labels: list[str] = field(default_factory=list)


def _identifiers(res: dict[str, Any], expr: str) -> list[dict[str, str]]:
    out = []
    for i, ident in enumerate(v.items(res.get("identifier"), expr)):
        ident = v.obj(ident, f"{expr}[{i}]")
        value = v.text(ident.get("value"), f"{expr}[{i}].value", 100)
        if value:
            out.append(
                {"system": v.text(ident.get("system"), f"{expr}[{i}].system"),
                 "value": value}
            )  # fmt: skip
    return out


def _telecoms(res: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(v.items(res.get("telecom"), expr)):
        t = v.obj(t, f"{expr}[{i}]")
        value = v.text(t.get("value"), f"{expr}[{i}].value")
        if not value:
            continue
        start, end = v.date_period(t.get("period"), f"{expr}[{i}].period")
        out.append({
            "system": v.text(t.get("system"), f"{expr}[{i}].system", 10) or "phone",
            "use": v.text(t.get("use"), f"{expr}[{i}].use", 10) or "home",
            "value": value, "period_start": start, "period_end": end,
        })  # fmt: skip
    return out


def _addresses(res: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    out = []
    for i, a in enumerate(v.items(res.get("address"), expr)):
        a = v.obj(a, f"{expr}[{i}]")
        e = f"{expr}[{i}]"
        lines = [
            v.text(x, f"{e}.line", 200) for x in v.items(a.get("line"), f"{e}.line")
        ]
        start, end = v.date_period(a.get("period"), f"{e}.period")
        country = v.text(a.get("country"), f"{e}.country", 60)
        out.append({
            "use": v.text(a.get("use"), f"{e}.use", 10) or "home",
            "line1": lines[0] if lines else "",
            "line2": ", ".join(lines[1:])[:200],
            "city": v.text(a.get("city"), f"{e}.city", 100),
            "state": v.text(a.get("state"), f"{e}.state", 60)[:2].upper(),
            "postal_code": v.text(a.get("postalCode"), f"{e}.postalCode", 10),
            "country": country[:2].upper() if country else "US",
            "period_start": start, "period_end": end,
        })  # fmt: skip
    return out


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
                f"{e}: no receiving facility for identifier {value!r}; import with "
                "--facility CODE", e,
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
        addresses=_addresses(res, "Patient.address"),
        telecoms=_telecoms(res, "Patient.telecom"),
    )


def practitioner(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    idents = _identifiers(res, "Practitioner.identifier")
    npi = next((i["value"] for i in idents if i["system"] == NPI_SYSTEM
                and not npi_problem(i["value"])), None)  # fmt: skip
    names = v.items(res.get("name"), "Practitioner.name")
    name = v.obj(names[0], "Practitioner.name[0]") if names else {}
    given = v.items(name.get("given"), "Practitioner.name[0].given")
    family = v.text(name.get("family"), "Practitioner.name[0].family", 100)
    if not family and name.get("text"):
        family = v.text(name.get("text"), "Practitioner.name[0].text", 100)
    if not family and not given:
        raise Rejected("Practitioner.name: a practitioner needs a name",
                       "Practitioner.name")  # fmt: skip
    quals = v.items(res.get("qualification"), "Practitioner.qualification")
    credentials = ""
    if quals:
        q = v.obj(quals[0], "Practitioner.qualification[0]")
        credentials = v.concept(q.get("code"), "Practitioner.qualification[0].code")[
            "text"][:20]  # fmt: skip
    return {
        "npi": npi,
        "identifiers": [i for i in idents if i["value"] != npi],
        "family": family,
        "given": " ".join(v.text(g, "Practitioner.name[0].given", 100) for g in given)[
            :100
        ],
        "credentials": credentials,
        "active": res.get("active") is not False,
    }


def organization(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    idents = _identifiers(res, "Organization.identifier")
    name = v.text(res.get("name"), "Organization.name", 200)
    if not name:
        raise Rejected("Organization.name: an organization needs a name",
                       "Organization.name")  # fmt: skip
    npi = next((i["value"] for i in idents if i["system"] == NPI_SYSTEM), "")
    kinds = v.items(res.get("type"), "Organization.type")
    return {
        "name": name,
        "npi": npi[:10],
        "identifiers": idents,
        "kind": v.first_code(kinds[0], "Organization.type[0]")[:20] if kinds else "",
        "telecoms": [
            {k: x[k] for k in ("system", "use", "value")}
            for x in _telecoms(res, "Organization.telecom")
        ],  # fmt: skip
        "addresses": v.items(res.get("address"), "Organization.address"),
        "active": res.get("active") is not False,
    }


def _subject(res: dict[str, Any], ctx: Context, rtype: str) -> UUID:
    ref = v.reference(res.get("subject"), f"{rtype}.subject", ("Patient",))
    if ref is None:
        raise Rejected(
            f"{rtype}.subject must reference the Patient: a record without its "
            "patient cannot be filed in a chart", f"{rtype}.subject",
        )  # fmt: skip
    pid = ctx.resolve(ref, f"{rtype}.subject", ("Patient",), True)
    assert pid is not None
    return pid


def _encounter_ref(res: dict[str, Any], ctx: Context, rtype: str) -> UUID | None:
    key = "context" if rtype == "DocumentReference" else "encounter"
    ref = v.reference(res.get(key), f"{rtype}.{key}", ("Encounter",))
    return ctx.resolve(ref, f"{rtype}.{key}", ("Encounter",), False)


def _provider(value: Any, ctx: Context, expr: str) -> UUID | None:
    ref = v.reference(value, expr, ("Practitioner", "PractitionerRole", "Organization",
                                    "Patient", "RelatedPerson", "Device"))  # fmt: skip
    if ref is None or not ref.startswith(("Practitioner/", "urn:")):
        return None
    return ctx.resolve(ref, expr, ("Practitioner",), False)


def encounter(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    klass = v.obj(res.get("class"), "Encounter.class")
    code = v.text(klass.get("code"), "Encounter.class.code", 20)
    if code not in ENCOUNTER_CLASSES:
        raise Rejected(
            f"Encounter.class {code!r} is not one of "
            f"{', '.join(sorted(ENCOUNTER_CLASSES))} (v3 ActCode)", "Encounter.class",
        )  # fmt: skip
    status = v.text(res.get("status"), "Encounter.status", 20)
    start, end = v.period(res.get("period"), "Encounter.period")
    if status == "unknown":
        status = EncounterStatus.FINISHED if end else EncounterStatus.IN_PROGRESS
    if status not in ENCOUNTER_STATUSES:
        raise Rejected(f"Encounter.status {status!r} is not an R4 encounter status",
                       "Encounter.status")  # fmt: skip
    org_ref = v.reference(res.get("serviceProvider"), "Encounter.serviceProvider",
                          ("Organization",))  # fmt: skip
    org_id = ctx.resolve(org_ref, "Encounter.serviceProvider", ("Organization",), False)
    facility = ctx.facility_of(org_id) or ctx.facility
    if facility is None:
        raise Rejected(
            "Encounter.serviceProvider: the visit is not at one of our facilities; "
            "import with --facility CODE", "Encounter.serviceProvider",
        )  # fmt: skip
    account = ""
    for ident in _identifiers(res, "Encounter.identifier"):
        account = ident["value"][:40]
        break
    attending = None
    for i, part in enumerate(v.items(res.get("participant"), "Encounter.participant")):
        part = v.obj(part, f"Encounter.participant[{i}]")
        attending = _provider(part.get("individual"), ctx,
                              f"Encounter.participant[{i}].individual")  # fmt: skip
        if attending:
            break
    hosp = v.obj(res.get("hospitalization"), "Encounter.hospitalization")
    disposition = v.first_code(hosp.get("dischargeDisposition"),
                               "Encounter.hospitalization.dischargeDisposition")  # fmt: skip
    return {
        "patient_id": _subject(res, ctx, "Encounter"),
        "facility": facility,
        "service_provider_id": org_id,
        "account_number": account,
        "encounter_class": ENCOUNTER_CLASSES[code],
        "status": ENCOUNTER_STATUSES[status],
        "admit_at": start,
        "discharge_at": end,
        "attending_id": attending,
        "discharge_disposition": disposition if len(disposition) == 2 else "",
        "types": [v.obj(t, "Encounter.type") for t in v.items(res.get("type"), "Encounter.type")],
    }  # fmt: skip


def _moment(
    res: dict[str, Any], stem: str, rtype: str
) -> tuple[datetime | None, datetime | None]:
    if f"{stem}Period" in res:
        return v.period(res[f"{stem}Period"], f"{rtype}.{stem}Period")
    at = v.date_time(res.get(f"{stem}DateTime"), f"{rtype}.{stem}DateTime")
    return at, None


def condition(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if "code" not in res:
        raise Rejected("Condition.code: a condition needs its code", "Condition.code")
    cats = [v.first_code(c, "Condition.category") for c in
            v.items(res.get("category"), "Condition.category")]  # fmt: skip
    category = next((c for c in cats if c in ConditionCategory.values),
                    ConditionCategory.ENCOUNTER_DIAGNOSIS)  # fmt: skip
    onset, _ = _moment(res, "onset", "Condition")
    abatement, _ = _moment(res, "abatement", "Condition")
    return {
        **v.concept(res.get("code"), "Condition.code"),
        "patient_id": _subject(res, ctx, "Condition"),
        "encounter_id": _encounter_ref(res, ctx, "Condition"),
        "category": category,
        "clinical_status": v.first_code(res.get("clinicalStatus"), "Condition.clinicalStatus")[:20],
        "verification_status": v.first_code(res.get("verificationStatus"),
                                            "Condition.verificationStatus")[:20],
        "onset_at": onset,
        "abatement_at": abatement,
        "recorded_at": v.date_time(res.get("recordedDate"), "Condition.recordedDate"),
        "recorder_id": _provider(res.get("recorder"), ctx, "Condition.recorder"),
    }  # fmt: skip


def procedure(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    start, end = _moment(res, "performed", "Procedure")
    performer = None
    for i, p in enumerate(v.items(res.get("performer"), "Procedure.performer")):
        performer = _provider(v.obj(p, "Procedure.performer").get("actor"), ctx,
                              f"Procedure.performer[{i}].actor")  # fmt: skip
        if performer:
            break
    return {
        **v.concept(res.get("code"), "Procedure.code"),
        "patient_id": _subject(res, ctx, "Procedure"),
        "encounter_id": _encounter_ref(res, ctx, "Procedure"),
        "status": v.text(res.get("status"), "Procedure.status", 20) or "completed",
        "performed_start": start,
        "performed_end": end,
        "performer_id": performer,
    }


def binary(res: dict[str, Any]) -> tuple[bytes, str]:
    data = _base64(res.get("data"), "Binary.data")
    if data is None:
        raise Rejected("Binary.data: a Binary needs its content", "Binary.data")
    return data, v.text(res.get("contentType"), "Binary.contentType", 100)


def _base64(value: Any, expr: str) -> bytes | None:
    raw = "".join(v.text(value, expr, 200_000_000).split())
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(f"{expr} is not valid base64", expr) from None


def document_reference(res: dict[str, Any], ctx: Context) -> DocumentIn:
    rtype = "DocumentReference"
    if "type" not in res:
        raise Rejected(
            f"{rtype}.type: a document needs its type (LOINC)", f"{rtype}.type"
        )
    doc_type = v.concept(res.get("type"), f"{rtype}.type")
    cats = v.items(res.get("category"), f"{rtype}.category")
    doc_type["category"] = (v.first_code(cats[0], f"{rtype}.category[0]")
                            if cats else "")[:40] or "clinical-note"  # fmt: skip
    status = v.text(res.get("status"), f"{rtype}.status", 20)
    doc_status = v.text(res.get("docStatus"), f"{rtype}.docStatus", 20) or "final"
    if status == "entered-in-error":
        doc_status = "entered-in-error"
    if doc_status not in DOC_STATUSES:
        raise Rejected(f"{rtype}.docStatus {doc_status!r} is not one of "
                       f"{', '.join(DOC_STATUSES)}", f"{rtype}.docStatus")  # fmt: skip
    context = v.obj(res.get("context"), f"{rtype}.context")
    encounters = v.items(context.get("encounter"), f"{rtype}.context.encounter")
    enc = None
    if encounters:
        ref = v.reference(encounters[0], f"{rtype}.context.encounter[0]",
                          ("Encounter", "EpisodeOfCare"))  # fmt: skip
        if ref and ref.startswith(("Encounter/", "urn:")):
            enc = ctx.resolve(
                ref, f"{rtype}.context.encounter[0]", ("Encounter",), False
            )
    start, end = v.period(context.get("period"), f"{rtype}.context.period")
    created = v.date_time(res.get("date"), f"{rtype}.date")
    author = None
    for i, a in enumerate(v.items(res.get("author"), f"{rtype}.author")):
        author = author or _provider(a, ctx, f"{rtype}.author[{i}]")
    # Only sensitivity codes are labels here; confidentiality (N, R, V) is not.
    labels = [code for s in v.items(res.get("securityLabel"), f"{rtype}.securityLabel")
              if (code := v.first_code(s, f"{rtype}.securityLabel")) in BY_CODE]  # fmt: skip
    doc = DocumentIn(
        fields={
            "patient_id": _subject(res, ctx, rtype),
            "encounter_id": enc,
            "title": v.text(res.get("description"), f"{rtype}.description", 200),
            "service_start": start or created,
            "service_end": end,
            "author_id": author,
            "status": DOC_STATUSES[doc_status],
        },
        doc_type=doc_type,
        labels=labels,
    )
    contents = v.items(res.get("content"), f"{rtype}.content")
    if contents:
        att = v.obj(v.obj(contents[0], f"{rtype}.content[0]").get("attachment"),
                    f"{rtype}.content[0].attachment")  # fmt: skip
        doc.media_type = v.text(att.get("contentType"), "attachment.contentType", 100)
        doc.filename = v.text(att.get("title"), "attachment.title", 200)
        doc.content = _base64(att.get("data"), f"{rtype}.content[0].attachment.data")
        url = v.text(att.get("url"), f"{rtype}.content[0].attachment.url", 400)
        # Content held by another server (an absolute URL) is not fetched: the
        # document is kept as metadata, as an index entry of the record.
        if doc.content is None and (url.startswith(("urn:", "Binary/"))):
            doc.binary_ref = url
    if doc.fields["service_start"] is None:
        raise Rejected(f"{rtype}.date or context.period.start: a document needs the "
                       "date of service", f"{rtype}.date")  # fmt: skip
    return doc
