"""Results served over FHIR (read-only): DiagnosticReport and Observation, their
search parameters, the rows a reader may see, and the mapping to FHIR R4 / US Core.
Only a report's current version is served; its earlier versions stay in the record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Q, QuerySet

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound
from recordroom.mpi.services import visible_patients
from recordroom.records.access import (
    readable_observations,
    readable_results,
    require_result,
)
from recordroom.records.models import (
    IMAGING_SECTIONS,
    ResultCategory,
    ResultObservation,
    ResultReport,
)
from recordroom.records.results import current_observations, visible_results

from .mapping import _concept, _drop_empty, _iso, _ref, practitioner_ref
from .params import (
    Filter,
    Invalid,
    SearchParam,
    _by_id,
    _code,
    _token,
    as_uuid,
    instant_param,
    reference,
)

V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
UCUM = "http://unitsofmeasure.org"
FILLER_SYSTEM = "urn:recordroom:result-filler:"  # + whose numbering, URL-quoted
QUANTITY_COMPARATORS = {"<", "<=", ">=", ">"}


# --- rows a reader may see ------------------------------------------------------------


def report_queryset(user: Any) -> QuerySet[Any]:
    """Reports of visible patients at the reader's facilities, without those whose
    labels the reader may not read (a read of one is refused by its labels)."""
    rows = visible_results(user).filter(patient__in=visible_patients(user))
    return readable_results(rows, user).select_related("performer")


def observation_queryset(user: Any) -> QuerySet[Any]:
    """The values of the current version of each report the reader may see."""
    rows = ResultObservation.objects.filter(
        report__patient__in=visible_patients(user),
        report_version=F("report__version"),
    )
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        rows = rows.filter(report__facility_id__in=scope)
    return readable_observations(rows, user).select_related("report")


def _visible_report(actor: Actor, rid: Any, what: str, shown: str) -> ResultReport:
    """A report in the reader's scope; one whose labels the reader lacks is refused
    (403 naming them), as a document is; out of scope reads as absent."""
    user = actor.user
    rows = visible_results(user).filter(patient__in=visible_patients(user))
    try:
        report = rows.select_related("patient", "encounter", "performer").get(pk=rid)
    except ObjectDoesNotExist:
        raise NotFound(f"no {what} with id '{shown}' at your facilities") from None
    require_result(user, report)
    return report


def read_report(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        key = as_uuid(rid, "id")
    except Invalid:
        raise NotFound(f"no DiagnosticReport with id '{rid}'") from None
    report = _visible_report(actor, key, "DiagnosticReport", rid)
    return map_reports(actor.user, [report])[0], report.patient_id


def read_observation(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        key = as_uuid(rid, "id")
    except Invalid:
        raise NotFound(f"no Observation with id '{rid}'") from None
    row = ResultObservation.objects.filter(
        pk=key, report_version=F("report__version")
    ).first()
    if row is None:
        raise NotFound(f"no Observation with id '{rid}' at your facilities")
    row.report = _visible_report(actor, row.report_id, "Observation", rid)
    return observation(row), row.report.patient_id


# --- search parameters ----------------------------------------------------------------


def _report_category(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    system, code = _token(value)
    if system not in (None, V2_0074) or code.upper() not in ResultCategory.values:
        return qs.none()
    return qs.filter(category=code.upper())


def _observation_category(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    system, code = _token(value)
    if system not in (None, OBSERVATION_CATEGORY):
        return qs.none()
    if code == "imaging":
        return qs.filter(report__category__in=IMAGING_SECTIONS)
    if code == "laboratory":
        return qs.exclude(report__category__in=IMAGING_SECTIONS)
    return qs.none()


def _report_identifier(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    system, code = _token(value)
    if system and system.startswith(FILLER_SYSTEM):
        return qs.filter(filler_number=code)
    return qs.filter(Q(filler_number=code) | Q(placer_number=code))


def _status(field: str) -> Filter:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(**{f"{field}__in": value.split(",")})

    return f


# `subject` comes with `patient` (search.py), as FHIR defines it for these types
DIAGNOSTIC_REPORT_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("patient_id", "Patient"),
    "encounter": reference("encounter_id", "Encounter"),
    "code": _code,
    "category": _report_category,
    "date": instant_param("effective_at"),
    "status": _status("status"),
    "identifier": _report_identifier,
}

OBSERVATION_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("report__patient_id", "Patient"),
    "encounter": reference("report__encounter_id", "Encounter"),
    "code": _code,
    "category": _observation_category,
    "date": instant_param("effective_at"),
    "status": _status("status"),
}


# --- mapping ----------------------------------------------------------------------------


def map_reports(user: Any, rows: list[Any]) -> list[dict[str, Any]]:
    results = current_observations(rows)
    return [diagnostic_report(r, results[r.pk]) for r in rows]


def map_observations(user: Any, rows: list[Any]) -> list[dict[str, Any]]:
    return [observation(o) for o in rows]


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": V2_0074, "code": code,
                        "display": ResultCategory(code).label}]}  # fmt: skip


def _identifiers(r: ResultReport) -> list[dict[str, Any]]:
    out = []
    for kind, value, system in (
        ("PLAC", r.placer_number, ""),
        ("FILL", r.filler_number, FILLER_SYSTEM + quote(r.source, safe=":@")),
    ):
        if value:
            out.append(_drop_empty({
                "type": {"coding": [{"system": V2_0203, "code": kind}]},
                "system": system, "value": value,
            }))  # fmt: skip
    return out


def _performer(r: ResultReport) -> list[dict[str, Any]]:
    if r.performer is not None:
        return [practitioner_ref(r.performer)]
    return [{"display": r.performer_name}] if r.performer_name else []


def diagnostic_report(
    r: ResultReport, results: list[ResultObservation]
) -> dict[str, Any]:
    """A DiagnosticReport of the report's current version and its values."""
    return _drop_empty(
        {
            "resourceType": "DiagnosticReport",
            "id": str(r.pk),
            "meta": {"versionId": str(r.version), "lastUpdated": _iso(r.updated_at)},
            "identifier": _identifiers(r),
            "status": r.status,
            "category": [_category(r.category)],
            "code": _concept(r) or {"text": "result"},
            "subject": _ref("Patient", r.patient_id),
            "encounter": _ref("Encounter", r.encounter_id),
            "effectiveDateTime": _iso(r.effective_at),
            "issued": _iso(r.issued_at),
            "performer": _performer(r),
            "result": [{"reference": f"Observation/{o.pk}"} for o in results],
            "conclusion": r.conclusion,
        }
    )


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(value: Decimal, o: ResultObservation) -> dict[str, Any]:
    unit = {"unit": o.units, "system": o.units_system, "code": o.units}
    if o.units_system != UCUM:
        unit = {"unit": o.units}
    return _drop_empty({"value": _number(value), **unit})


def _value(o: ResultObservation) -> dict[str, Any]:
    """value[x]: a quantity (with its comparator), a ratio or range (an SN pair), a
    code, or text."""
    if o.value_number is not None and o.value_number2 is not None:
        first, second = _quantity(o.value_number, o), _quantity(o.value_number2, o)
        if o.value_separator == "-" and not o.value_comparator:
            return {"valueRange": {"low": first, "high": second}}
        if o.value_separator in (":", "/") and not o.value_comparator:
            return {"valueRatio": {"numerator": {"value": first["value"]},
                                   "denominator": {"value": second["value"]}}}  # fmt: skip
        return {"valueString": o.value_display()}
    if o.value_number is not None:
        if o.value_comparator and o.value_comparator not in QUANTITY_COMPARATORS:
            return {"valueString": o.value_display()}
        quantity = _quantity(o.value_number, o)
        if o.value_comparator:
            quantity["comparator"] = o.value_comparator
        return {"valueQuantity": quantity}
    if o.value_code:
        coding = _drop_empty({"system": o.value_code_system, "code": o.value_code,
                              "display": o.value_text})  # fmt: skip
        return {"valueCodeableConcept": {"coding": [coding], "text": o.value_text}}
    if o.value_text:
        return {"valueString": o.value_text}
    return {}


def observation(o: ResultObservation) -> dict[str, Any]:
    r = o.report
    kind = "imaging" if r.category in IMAGING_SECTIONS else "laboratory"
    flags = [f for f in o.abnormal_flags or [] if f]
    return _drop_empty(
        {
            "resourceType": "Observation",
            "id": str(o.pk),
            "meta": {"lastUpdated": _iso(o.updated_at)},
            "status": o.status,
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": kind}]}],
            "code": _concept(o) or {"text": "result"},
            "subject": _ref("Patient", r.patient_id),
            "encounter": _ref("Encounter", r.encounter_id),
            "effectiveDateTime": _iso(o.effective_at),
            "issued": _iso(r.issued_at),
            **_value(o),
            "interpretation": [
                {"coding": [{"system": INTERPRETATION, "code": f}]} for f in flags
            ],
            "referenceRange": [{"text": o.reference_range}]
            if o.reference_range
            else [],
            "performer": [{"display": o.performer_name}] if o.performer_name else [],
            "note": [{"text": o.notes}] if o.notes else [],
        }
    )
