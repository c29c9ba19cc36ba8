"""Reading FHIR R4 JSON values (strings, dates, codes, references) with errors that
name the element, as a FHIRPath expression, and the offending value."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from recordroom.kernel.errors import ValidationFailed

# Every resource type of FHIR R4 (4.0.1): anything else is not FHIR at all.
R4_TYPES = frozenset(
    """
Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment
AppointmentResponse AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure
Bundle CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem
ChargeItemDefinition Claim ClaimResponse ClinicalImpression CodeSystem Communication
CommunicationRequest CompartmentDefinition Composition ConceptMap Condition Consent
Contract Coverage CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue
Device DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement
DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter
Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan
Invoice Library Linkage List Location Measure MeasureReport Media Medication
MedicationAdministration MedicationDispense MedicationKnowledge MedicationRequest
MedicationStatement MedicinalProduct MedicinalProductAuthorization
MedicinalProductContraindication MedicinalProductIndication
MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical
MedicinalProductUndesirableEffect MessageDefinition MessageHeader MolecularSequence
NamingSystem NutritionOrder Observation ObservationDefinition OperationDefinition
OperationOutcome Organization OrganizationAffiliation Parameters Patient
PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner
PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse
RelatedPerson RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy
ResearchSubject RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter
ServiceRequest Slot SpecimenDefinition Specimen StructureDefinition StructureMap
Subscription Substance SubstanceNucleicAcid SubstancePolymer SubstanceProtein
SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification
SupplyDelivery SupplyRequest Task TerminologyCapabilities TestReport TestScript
ValueSet VerificationResult VisionPrescription
""".split()
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2})?$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class Rejected(ValidationFailed):
    """A resource we cannot keep as sent; `field` is the FHIRPath of the element."""

    def __init__(self, message: str, expression: str = "") -> None:
        super().__init__(message, field=expression or None)


class Unresolved(Rejected):
    """A reference to something not (yet) here: a folder import retries it after
    the other files, since the file it needs may come later."""


def text(value: Any, expr: str, max_len: int = 200) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Rejected(f"{expr} must be a string, got {type(value).__name__}", expr)
    if len(value) > max_len:
        raise Rejected(f"{expr} is {len(value)} characters; at most {max_len}", expr)
    return value.strip()


def obj(value: Any, expr: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{expr} must be an object, got {type(value).__name__}", expr)
    return value


def items(value: Any, expr: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Rejected(f"{expr} must be an array, got {type(value).__name__}", expr)
    return value


def full_date(value: Any, expr: str) -> date | None:
    """A FHIR date; a partial one (year or year-month) is kept out, not guessed."""
    raw = text(value, expr, 40)
    if not raw:
        return None
    if _PARTIAL_DATE.match(raw):
        return None
    if "T" in raw:
        moment = date_time(raw, expr)
        return moment.date() if moment else None
    if not _DATE.match(raw):
        raise Rejected(f"{expr} {raw!r} is not a date (YYYY-MM-DD)", expr)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Rejected(f"{expr} {raw!r} is not a calendar date", expr) from None


def date_time(value: Any, expr: str) -> datetime | None:
    """A FHIR dateTime or instant in UTC. A bare date is the start of that day (UTC);
    a time without a zone is refused, as the specification requires one."""
    raw = text(value, expr, 40)
    if not raw or _PARTIAL_DATE.match(raw):
        return None
    if _DATE.match(raw):
        day = full_date(raw, expr)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"{expr} {raw!r} is not a FHIR dateTime", expr) from None
    if parsed.tzinfo is None:
        raise Rejected(
            f"{expr} {raw!r} has a time but no time zone; FHIR requires one", expr
        )
    return parsed.astimezone(UTC)


def period(value: Any, expr: str) -> tuple[datetime | None, datetime | None]:
    p = obj(value, expr)
    start = date_time(p.get("start"), f"{expr}.start")
    end = date_time(p.get("end"), f"{expr}.end")
    if start and end and end < start:
        raise Rejected(f"{expr} ends ({end:%Y-%m-%d %H:%M}) before it starts", expr)
    return start, end


def date_period(value: Any, expr: str) -> tuple[date | None, date | None]:
    start, end = period(value, expr)
    return (start.date() if start else None, end.date() if end else None)


def codings(value: Any, expr: str) -> list[dict[str, str]]:
    out = []
    for i, c in enumerate(items(obj(value, expr).get("coding"), f"{expr}.coding")):
        c = obj(c, f"{expr}.coding[{i}]")
        out.append(
            {
                k: text(c.get(k), f"{expr}.coding[{i}].{k}", 300)
                for k in ("system", "code", "display")
                if c.get(k) is not None
            }
        )
    return out


def concept(value: Any, expr: str) -> dict[str, Any]:
    """The first coding (for search) and all of them, with the text."""
    cc = obj(value, expr)
    all_codings = codings(cc, expr)
    first = all_codings[0] if all_codings else {}
    return {
        "code_system": first.get("system", ""),
        "code": first.get("code", "")[:64],
        "display": first.get("display", ""),
        "codings": all_codings,
        "text": text(cc.get("text"), f"{expr}.text", 300),
    }


def codeable(value: Any, expr: str) -> dict[str, Any]:
    """A CodeableConcept as sent (its codings and text), checked."""
    cc = obj(value, expr)
    out: dict[str, Any] = {"coding": codings(cc, expr),
                           "text": text(cc.get("text"), f"{expr}.text", 300)}  # fmt: skip
    return {k: x for k, x in out.items() if x}


def codeables(value: Any, expr: str) -> list[dict[str, Any]]:
    return [codeable(c, f"{expr}[{i}]") for i, c in enumerate(items(value, expr))]


def first_code(value: Any, expr: str, system: str | None = None) -> str:
    for c in codings(value, expr):
        if system is None or c.get("system") == system:
            return c.get("code", "")
    return ""


def reference(value: Any, expr: str, types: tuple[str, ...]) -> str | None:
    """A reference normalised to 'Type/id' or 'urn:uuid:...'; None when there is no
    literal reference (display only, or a contained '#id')."""
    ref = text(obj(value, expr).get("reference"), f"{expr}.reference", 400)
    if not ref or ref.startswith("#"):
        return None
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        return ref
    parts = ref.split("?")[0].rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or parts[-2] not in R4_TYPES or not _ID.match(parts[-1]):
        raise Rejected(f"{expr}.reference {ref!r} is not a FHIR reference", expr)
    kind = parts[-2]
    if kind not in types:
        raise Rejected(
            f"{expr}.reference {ref!r} must point at {' or '.join(types)}", expr
        )
    return f"{kind}/{parts[-1]}"


def as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def identifiers(res: dict[str, Any], expr: str) -> list[dict[str, str]]:
    out = []
    for i, ident in enumerate(items(res.get("identifier"), expr)):
        ident = obj(ident, f"{expr}[{i}]")
        value = text(ident.get("value"), f"{expr}[{i}].value", 100)
        if value:
            out.append(
                {"system": text(ident.get("system"), f"{expr}[{i}].system"),
                 "value": value}
            )  # fmt: skip
    return out


def identifier_key(ident: dict[str, str]) -> str:
    """The key a business identifier is recognised by: "system|value"."""
    return f"{ident['system']}|{ident['value']}"[:300]


def telecoms(res: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(items(res.get("telecom"), expr)):
        t = obj(t, f"{expr}[{i}]")
        value = text(t.get("value"), f"{expr}[{i}].value")
        if not value:
            continue
        start, end = date_period(t.get("period"), f"{expr}[{i}].period")
        out.append({
            "system": text(t.get("system"), f"{expr}[{i}].system", 10) or "phone",
            "use": text(t.get("use"), f"{expr}[{i}].use", 10) or "home",
            "value": value, "period_start": start, "period_end": end,
        })  # fmt: skip
    return out


def addresses(res: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    out = []
    for i, a in enumerate(items(res.get("address"), expr)):
        a = obj(a, f"{expr}[{i}]")
        e = f"{expr}[{i}]"
        lines = [text(x, f"{e}.line", 200) for x in items(a.get("line"), f"{e}.line")]
        start, end = date_period(a.get("period"), f"{e}.period")
        country = text(a.get("country"), f"{e}.country", 60)
        out.append({
            "use": text(a.get("use"), f"{e}.use", 10) or "home",
            "line1": lines[0] if lines else "",
            "line2": ", ".join(lines[1:])[:200],
            "city": text(a.get("city"), f"{e}.city", 100),
            "state": text(a.get("state"), f"{e}.state", 60)[:2].upper(),
            "postal_code": text(a.get("postalCode"), f"{e}.postalCode", 10),
            "country": country[:2].upper() if country else "US",
            "period_start": start, "period_end": end,
        })  # fmt: skip
    return out


Resolver = Callable[[str | None, str, tuple[str, ...], bool], Any]
