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
from recordroom.mpi.models import Facility
from recordroom.records.models import (
    ConditionCategory,
    DocumentStatus,
    EncounterClass,
    EncounterStatus,
)

from . import values as v
from .facility_in import named_facility
from .mapping import FACILITY_SYSTEM, NPI_SYSTEM
from .patient_in import patient
from .values import Rejected

__all__ = ["STORED_TYPES", "Context", "DocumentIn", "binary", "condition",
           "document_reference", "encounter", "organization", "patient",
           "practitioner", "procedure"]  # fmt: skip

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

    def facility_by_system(
        self, system: str, expr: str = "Patient.identifier"
    ) -> Facility | None: ...

    def facility_by_code(self, code: str, expr: str) -> Facility | None: ...

    def not_kept(self, ref: str) -> bool: ...

    @property
    def facility_advice(self) -> str: ...


@dataclass
class DocumentIn:
    fields: dict[str, Any]
    doc_type: dict[str, Any]
    content: bytes | None = None
    media_type: str = ""
    filename: str = ""
    binary_ref: str | None = None
    labels: list[str] = field(default_factory=list)


def practitioner(res: dict[str, Any], ctx: Context) -> dict[str, Any]:
    idents = v.identifiers(res, "Practitioner.identifier")
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
    idents = v.identifiers(res, "Organization.identifier")
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
            for x in v.telecoms(res, "Organization.telecom")
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
    idents = v.identifiers(res, "Encounter.identifier")
    named = ctx.facility_of(org_id) or named_facility(res, idents, ctx)
    facility = named or ctx.facility
    if facility is None:
        raise Rejected(
            "Encounter.serviceProvider: the visit names none of our facilities and no "
            "receiving facility is set; name it in Encounter.serviceProvider or "
            f"Encounter.location (an identifier with system {FACILITY_SYSTEM} and the "
            f"facility code, or an Organization of ours), or {ctx.facility_advice}",
            "Encounter.serviceProvider",
        )  # fmt: skip
    account = idents[0]["value"][:40] if idents else ""
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
        "reasons": v.codeables(res.get("reasonCode"), "Encounter.reasonCode"),
        "facility_named": named is not None,  # else an update keeps the visit's own
        # Every visit number sent, for recognising a visit another route numbered
        # by a different one of its identifiers first.
        "accounts": [i["value"][:40] for i in idents],
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
        **_business_identifiers(res, "Condition"),
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
        **_business_identifiers(res, "Procedure"),
        "patient_id": _subject(res, ctx, "Procedure"),
        "encounter_id": _encounter_ref(res, ctx, "Procedure"),
        "status": v.text(res.get("status"), "Procedure.status", 20) or "completed",
        "performed_start": start,
        "performed_end": end,
        "performer_id": performer,
        "reasons": v.codeables(res.get("reasonCode"), "Procedure.reasonCode"),
        "reason_references": _reasons(res, ctx),
    }


REASON_TYPES = ("Condition", "Observation", "Procedure", "DiagnosticReport",
                "DocumentReference")  # fmt: skip


def _reasons(res: dict[str, Any], ctx: Context) -> list[dict[str, str]]:
    """Procedure.reasonReference: a Condition is resolved to ours; a reason of a
    type not kept here (an Observation, a report) is kept as its display."""
    out = []
    for i, item in enumerate(v.items(res.get("reasonReference"),
                                     "Procedure.reasonReference")):  # fmt: skip
        e = f"Procedure.reasonReference[{i}]"
        ref = v.reference(item, e, REASON_TYPES)
        display = v.text(v.obj(item, e).get("display"), f"{e}.display", 300)
        if ref and (ref.startswith("Condition/")
                    or (ref.startswith("urn:") and not ctx.not_kept(ref))):  # fmt: skip
            out.append({"reference": f"Condition/{ctx.resolve(ref, e, ('Condition',), True)}"})
        elif display or ref:
            out.append({"display": display or ref or ""})
    return out


def _business_identifiers(res: dict[str, Any], rtype: str) -> dict[str, Any]:
    """The identifiers as sent, and the key of the first with a system (a value
    without its namespace identifies nothing across senders)."""
    idents = v.identifiers(res, f"{rtype}.identifier")
    keyed = [i for i in idents if i["system"]]
    key = v.identifier_key(keyed[0]) if keyed else ""
    return {"identifiers": idents, "identifier_key": key}


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
