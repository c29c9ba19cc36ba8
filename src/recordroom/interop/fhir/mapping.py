"""Pure mapping from our models to FHIR R4 JSON (dicts). No queries of their own:
callers pass what is in scope (identifiers, names, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from recordroom.kernel.labels import BY_CODE
from recordroom.mpi.models import (
    IdentifierKind,
    NameUse,
    Patient,
    PatientIdentifier,
    PatientName,
)
from recordroom.records.models import (
    Condition,
    Document,
    DocumentStatus,
    DocumentVersion,
    Encounter,
    Organization,
    Procedure,
    Provider,
)

from .us_core import demographics_out

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0203_CODES = {"MR", "SS", "MB", "DL"}  # ours that are v2-0203 codes too
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
DISPOSITION_SYSTEM = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
ENCOUNTER_ACCOUNT_SUFFIX = "/account"
FACILITY_SYSTEM = "urn:recordroom:facility"  # an identifier whose value is our code
IDENTIFIER_KIND = "urn:recordroom:identifier-kind"

NAME_USE = {
    NameUse.LEGAL: "official",
    NameUse.PREVIOUS: "old",
    NameUse.MAIDEN: "maiden",
    NameUse.ALIAS: "nickname",
}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _period(start: Any, end: Any) -> dict[str, str] | None:
    period = {k: _iso(v) for k, v in (("start", start), ("end", end)) if v is not None}
    return {k: v for k, v in period.items() if v} or None


def _drop_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, "", [], {})}


def identifier(ident: PatientIdentifier) -> dict[str, Any] | None:
    """One identifier; an SSN shows only its last four digits (masked)."""
    period = _period(ident.period_start, ident.period_end)
    label = IdentifierKind(ident.kind).label
    kind: dict[str, Any] = {"text": label}
    if ident.type_code and ident.kind == IdentifierKind.OTHER:
        # the sender's type (HL7 v2 PID-3.5 is table 0203, as FHIR's), then ours
        kind["coding"] = [
            {"system": V2_0203, "code": ident.type_code},
            {"system": IDENTIFIER_KIND, "code": ident.kind, "display": label},
        ]
    elif ident.kind in V2_0203_CODES:
        kind["coding"] = [{"system": V2_0203, "code": ident.kind, "display": label}]
    else:  # ours, so a round trip keeps the kind
        kind["coding"] = [
            {"system": IDENTIFIER_KIND, "code": ident.kind, "display": label}
        ]
    if ident.kind == IdentifierKind.SSN:
        if not ident.last4:
            return None
        value = f"***-**-{ident.last4}"
        return _drop_empty({"type": kind, "system": SSN_SYSTEM, "value": value,
                            "period": period})  # fmt: skip
    return _drop_empty(
        {"type": kind, "system": ident.system, "value": ident.value, "period": period}
    )


def human_name(name: PatientName) -> dict[str, Any]:
    given = [p for p in (name.given, name.middle) if p]
    return _drop_empty(
        {
            "use": NAME_USE.get(NameUse(name.use), "usual"),
            "family": name.family,
            "given": given,
            "prefix": [name.prefix] if name.prefix else [],
            "suffix": [name.suffix] if name.suffix else [],
            "period": _period(name.period_start, name.period_end),
        }
    )


def patient(
    p: Patient,
    *,
    identifiers: Iterable[PatientIdentifier],
    names: Iterable[PatientName],
    addresses: Iterable[Any] = (),
    telecoms: Iterable[Any] = (),
    replaces: Iterable[Any] = (),
    see_also: Iterable[Any] = (),
) -> dict[str, Any]:
    """A Patient; `identifiers` must already be limited to the reader's scope.
    A merged record is inactive and `replaced-by` its survivor; a survivor
    `replaces` the records merged into it."""
    idents = [i for i in (identifier(x) for x in identifiers) if i]
    links = [{"other": {"reference": f"Patient/{pk}"}, "type": "replaces"}
             for pk in replaces]  # fmt: skip
    links += [{"other": {"reference": f"Patient/{pk}"}, "type": "seealso"}
              for pk in see_also]  # fmt: skip
    if p.merged_into_id:
        links = [{"other": {"reference": f"Patient/{p.merged_into_id}"},
                  "type": "replaced-by"}]  # fmt: skip
    return _drop_empty(
        {
            "resourceType": "Patient",
            "id": str(p.pk),
            "meta": {"lastUpdated": _iso(p.updated_at)},
            "active": False if p.merged_into_id else None,
            "link": links,
            "identifier": idents,
            "name": [human_name(n) for n in names],
            "gender": p.sex,
            "birthDate": _iso(p.birth_date),
            **demographics_out(p),
            "address": [
                _drop_empty(
                    {
                        "use": a.use
                        if a.use in ("home", "work", "temp", "old", "billing")
                        else None,
                        "type": "postal" if a.type_code in ("M", "SH") else None,
                        "line": [x for x in (a.line1, a.line2) if x],
                        "city": a.city,
                        "state": a.state,
                        "postalCode": a.postal_code,
                        "country": a.country,
                        "period": _period(a.period_start, a.period_end),
                    }
                )
                for a in addresses
            ],  # fmt: skip
            "telecom": [
                _drop_empty(
                    {
                        "system": t.system,
                        "value": t.value,
                        "use": t.use,
                        "period": _period(t.period_start, t.period_end),
                    }
                )
                for t in telecoms
            ],
        }
    )


def practitioner_ref(provider: Provider) -> dict[str, Any]:
    display = f"{provider.given} {provider.family}".strip()
    if provider.credentials:
        display = f"{display}, {provider.credentials}"
    ref: dict[str, Any] = {
        "reference": f"Practitioner/{provider.pk}",
        "display": display,
    }
    if provider.npi:
        ref["identifier"] = {"system": NPI_SYSTEM, "value": provider.npi}
    return ref


def _unlisted_ref(xcn: dict[str, str]) -> dict[str, Any]:
    """A provider an interface named who is not in the provider table: by name and
    the identifier sent (no Practitioner resource to refer to)."""
    name = " ".join(xcn[k] for k in ("given", "family") if xcn.get(k))
    ref: dict[str, Any] = {"display": name or xcn.get("id", "")}
    if xcn.get("id"):
        ref["identifier"] = {"value": xcn["id"]}
    return ref


# Our classes that are no ActCode: the sender said unknown or not applicable.
NULL_FLAVOR_CLASSES = {"UNK": "unknown", "NA": "not applicable"}
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"


def _encounter_class(code: str) -> dict[str, str]:
    if code in NULL_FLAVOR_CLASSES:
        return {"system": NULL_FLAVOR, "code": code,
                "display": NULL_FLAVOR_CLASSES[code]}  # fmt: skip
    return {"system": ACT_CODE, "code": code}


def encounter(e: Encounter) -> dict[str, Any]:
    participants = []
    unlisted = e.unlisted_providers or {}
    for role, key, provider in (("ATND", "attending", e.attending),
                                ("ADM", "admitting", e.admitting)):  # fmt: skip
        if provider is not None:
            individual = practitioner_ref(provider)
        elif key in unlisted:
            individual = _unlisted_ref(unlisted[key])
        else:
            continue
        participants.append(
            {
                "type": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/"
                    "v3-ParticipationType",
                    "code": role,
                }]}],
                "individual": individual,
            }
        )  # fmt: skip
    hospitalization = None
    if e.discharge_disposition:
        hospitalization = {
            "dischargeDisposition": {
                "coding": [{"system": DISPOSITION_SYSTEM,
                            "code": e.discharge_disposition}]
            }
        }  # fmt: skip
    return _drop_empty(
        {
            "resourceType": "Encounter",
            "id": str(e.pk),
            "identifier": [
                {
                    "use": "official",
                    "system": e.facility.mrn_system + ENCOUNTER_ACCOUNT_SUFFIX,
                    "value": e.account_number,
                }
            ]
            if e.account_number
            else [],
            "status": e.status,
            "class": _encounter_class(e.encounter_class),
            "type": e.types,
            "subject": {"reference": f"Patient/{e.patient_id}"},
            "participant": participants,
            "period": _period(e.admit_at, e.discharge_at),
            "hospitalization": hospitalization,
            "serviceProvider": {"reference": f"Organization/{e.service_provider_id}"}
            if e.service_provider_id
            else facility_ref(e.facility),
            # The facility named in every visit, so an import (of our own export,
            # too) files it there and nowhere else.
            "location": [{"location": facility_ref(e.facility)}],
            "reasonCode": e.reasons,
        }
    )


def facility_ref(facility: Any) -> dict[str, Any]:
    """A logical reference to one of our facilities, by its code."""
    return {"identifier": {"system": FACILITY_SYSTEM, "value": facility.code},
            "display": facility.name}  # fmt: skip


def security_labels(codes: Iterable[str]) -> list[dict[str, Any]]:
    out = []
    for code in codes:
        label = BY_CODE.get(code)
        coding = {"system": ACT_CODE, "code": code}
        if label is not None:
            coding["display"] = label.display
        out.append({"coding": [coding]})
    return out


def document_reference(d: Document, version: DocumentVersion | None) -> dict[str, Any]:
    """A DocumentReference for a document and its current version (if any)."""
    status = "entered-in-error" if d.status == DocumentStatus.ENTERED_IN_ERROR else (
        "current")  # fmt: skip
    doc_status = {
        DocumentStatus.PRELIMINARY: "preliminary",
        DocumentStatus.FINAL: "final",
        DocumentStatus.AMENDED: "amended",
        DocumentStatus.CORRECTED: "amended",
    }.get(DocumentStatus(d.status))
    dt = d.doc_type
    attachment: dict[str, Any] = {"title": d.title or dt.display}
    if version is not None:
        attachment.update(
            contentType=version.media_type,
            size=version.size,
            url=f"Binary/{version.pk}",
            creation=_iso(version.created_at),
        )
    context = _drop_empty(
        {
            "encounter": [{"reference": f"Encounter/{d.encounter_id}"}]
            if d.encounter_id
            else [],
            "period": _period(d.service_start, d.service_end),
        }
    )
    return _drop_empty(
        {
            "resourceType": "DocumentReference",
            "id": str(d.pk),
            "status": status,
            "docStatus": doc_status,
            "type": {
                "coding": [{"system": dt.system, "code": dt.code,
                            "display": dt.display}],
                "text": dt.display,
            },  # fmt: skip
            "category": [{"text": dt.category, "coding": [{
                "system": "urn:recordroom:document-category", "code": dt.category}]}],
            "subject": {"reference": f"Patient/{d.patient_id}"},
            "date": _iso(d.created_at),
            "author": [practitioner_ref(d.author)] if d.author else [],
            "description": d.title,
            "securityLabel": security_labels(d.sensitivity or []),
            "content": [{"attachment": _drop_empty(attachment)}],
            "context": context,
        }
    )  # fmt: skip


def _concept(row: Any) -> dict[str, Any]:
    codings = row.codings or (
        [{"system": row.code_system, "code": row.code, "display": row.display}]
        if row.code
        else []
    )
    return _drop_empty({"coding": [_drop_empty(c) for c in codings], "text": row.text})


def _ref(kind: str, pk: Any) -> dict[str, str] | None:
    return {"reference": f"{kind}/{pk}"} if pk else None


def condition(c: Condition) -> dict[str, Any]:
    def status(system: str, code: str) -> dict[str, Any] | None:
        base = "http://terminology.hl7.org/CodeSystem/"
        return {"coding": [{"system": base + system, "code": code}]} if code else None

    return _drop_empty(
        {
            "resourceType": "Condition",
            "id": str(c.pk),
            "meta": {"lastUpdated": _iso(c.updated_at)},
            "clinicalStatus": status("condition-clinical", c.clinical_status),
            "verificationStatus": status("condition-ver-status", c.verification_status),
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                "code": c.category}]}],
            "identifier": c.identifiers,
            "code": _concept(c),
            "subject": _ref("Patient", c.patient_id),
            "encounter": _ref("Encounter", c.encounter_id),
            "onsetDateTime": _iso(c.onset_at),
            "abatementDateTime": _iso(c.abatement_at),
            "recordedDate": _iso(c.recorded_at),
            "recorder": _ref("Practitioner", c.recorder_id),
        }
    )  # fmt: skip


def procedure(p: Procedure) -> dict[str, Any]:
    performed: dict[str, Any] = {}
    if p.performed_end:
        performed["performedPeriod"] = _period(p.performed_start, p.performed_end)
    elif p.performed_start:
        performed["performedDateTime"] = _iso(p.performed_start)
    return _drop_empty(
        {
            "resourceType": "Procedure",
            "id": str(p.pk),
            "meta": {"lastUpdated": _iso(p.updated_at)},
            "identifier": p.identifiers,
            "status": p.status,
            "code": _concept(p),
            "subject": _ref("Patient", p.patient_id),
            "encounter": _ref("Encounter", p.encounter_id),
            **performed,
            "performer": [{"actor": _ref("Practitioner", p.performer_id)}]
            if p.performer_id
            else [],
            "reasonCode": p.reasons,
            "reasonReference": p.reason_references,
        }
    )


def practitioner(p: Provider) -> dict[str, Any]:
    idents = [{"system": NPI_SYSTEM, "value": p.npi}] if p.npi else []
    idents += [_drop_empty(i) for i in p.identifiers or []]
    given = p.given.split() if p.given else []
    return _drop_empty(
        {
            "resourceType": "Practitioner",
            "id": str(p.pk),
            "identifier": idents,
            "active": p.active,
            "name": [_drop_empty({"family": p.family, "given": given})],
            "qualification": [{"code": {"text": p.credentials}}]
            if p.credentials
            else [],
        }
    )


def organization(o: Organization) -> dict[str, Any]:
    idents = [{"system": NPI_SYSTEM, "value": o.npi}] if o.npi else []
    idents += [_drop_empty(i) for i in o.identifiers or [] if i.get("value") != o.npi]
    kind = (
        [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                      "code": o.kind}]}]
        if o.kind else []
    )  # fmt: skip
    return _drop_empty(
        {
            "resourceType": "Organization",
            "id": str(o.pk),
            "identifier": idents,
            "active": o.active,
            "type": kind,
            "name": o.name,
            "telecom": o.telecoms,
            "address": o.addresses,
        }
    )


def operation_outcome(
    code: str, diagnostics: str, expression: str | None = None,
    severity: str = "error",
) -> dict[str, Any]:  # fmt: skip
    issue: dict[str, Any] = {"severity": severity, "code": code,
                             "diagnostics": diagnostics}  # fmt: skip
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
