"""FHIR search parameters: each a filter on the visible queryset, declared with its
FHIR type and modifiers (search.SearchParam)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.kernel.text import prefix_upper_bound, search_key
from recordroom.mpi.models import IdentifierKind, PatientAddress, PatientName
from recordroom.mpi.services import identifier_lookup, identifiers_in_scope, ssn_lookup

from . import dates
from .dates import Invalid
from .mapping import ENCOUNTER_ACCOUNT_SUFFIX
from .search import Filter, SearchParam

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"

__all__ = ["Filter", "Invalid", "SearchParam"]


# --- search parameter parsing -----------------------------------------------------


def date_filter(field_name: str, value: str, param: str, *, is_datetime: bool) -> Q:
    column = dates.instant(field_name) if is_datetime else dates.day(field_name)
    return dates.condition(column, value, param)


def date_param(column: dates.Column, missing: str) -> SearchParam:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(dates.condition(column, value, param))

    return SearchParam("date", f, missing=Q(**{f"{missing}__isnull": True}))


def _token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, _, code = value.partition("|")
        return (system or None), code
    return None, value


def _ref_id(value: str, resource: str, param: str = "") -> str:
    """The id in `id`, `Type/id` or `[base]/Type/id`; another type is refused."""
    head, _, rid = value.rstrip("/").rpartition("/")
    kind = head.rpartition("/")[2]
    if head and kind != resource:
        raise Invalid(f"{param or resource} must reference a {resource}, not "
                      f"{value!r}", field=param or None)  # fmt: skip
    return rid


def as_uuid(value: str, param: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(f"{param} must be a resource id, not {value!r}",
                      field=param) from None  # fmt: skip


def patient_identifier(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    # Only identifiers the reader may see: another facility's MRN must not find
    # (and so confirm) a patient's care there.
    system, code = _token(value)
    # `value` has no index; `lookup` (identifier_lookup of the value, for every
    # kind but SSN) has. An SSN is found only by the whole number under the SSN
    # system (its keyed hash); a masked one ("***-**-1234") finds nobody, or
    # the last four digits would list every patient who shares them.
    if system == SSN_SYSTEM:
        digits = re.sub(r"\D", "", code)
        if len(digits) != 9:
            raise Invalid(f"an SSN identifier needs all nine digits, got {len(digits)}",
                          field=param)  # fmt: skip
        idents = identifiers_in_scope(user).filter(kind=IdentifierKind.SSN,
                                                   lookup=ssn_lookup(digits))  # fmt: skip
        return qs.filter(pk__in=idents.values("patient_id"))
    idents = identifiers_in_scope(user).filter(
        lookup=identifier_lookup(code), value=code
    )
    idents = idents.exclude(kind=IdentifierKind.SSN)
    if system:
        idents = idents.filter(system=system)
    return qs.filter(pk__in=idents.values("patient_id"))


def key_prefix(field_name: str, key: str) -> Q:
    # A range, not LIKE 'key%': SQLite's LIKE cannot use the index on a BINARY
    # column, so `startswith` read every name (kernel.text.prefix_upper_bound).
    return Q(**{f"{field_name}__gte": key,
                f"{field_name}__lt": prefix_upper_bound(key)})  # fmt: skip


def _key(value: str, param: str) -> str:
    key = search_key(value)
    if not key:
        raise Invalid(f"{param} needs letters or digits, not {value!r}", field=param)
    return key


def _name_rows(cond: Q) -> Q:
    return Q(Exists(PatientName.objects.filter(cond, patient=OuterRef("pk"))))


def _patient_name(part: str) -> SearchParam:
    """FHIR string search on a patient's names (every name, past ones too):
    case- and accent-insensitive, matching the start; :exact matches the whole
    string as stored; :contains anywhere."""
    cols = {"family": ("family",), "given": ("given",)}.get(part, ("family", "given"))

    def either(make: Any) -> Q:
        q = Q()
        for col in cols:
            q |= make(col)
        return q

    def starts(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        key = _key(value, param)
        return qs.filter(either(lambda c: key_prefix(f"names__{c}_key", key)))

    def exact(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(_name_rows(either(lambda c: Q(**{c: value}))))

    def contains(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        key = _key(value, param)
        return qs.filter(_name_rows(either(lambda c: Q(**{f"{c}_key__contains": key}))))

    present = either(lambda c: ~Q(**{c: ""}))
    return SearchParam("string", starts, missing=~_name_rows(present),
                       exact=exact, contains=contains)  # fmt: skip


def _postal_code() -> SearchParam:
    def rows(cond: Q) -> Q:
        return Q(Exists(PatientAddress.objects.filter(cond, patient=OuterRef("pk"))))

    return SearchParam(
        "string",
        lambda qs, v, p, u: qs.filter(rows(Q(postal_code__istartswith=v))),
        missing=~rows(~Q(postal_code="")),
        exact=lambda qs, v, p, u: qs.filter(rows(Q(postal_code=v))),
        contains=lambda qs, v, p, u: qs.filter(rows(Q(postal_code__icontains=v))),
    )


def token(column: str, system: str, blank: str = "") -> SearchParam:
    """A code in one column, of the code system we answer it in: `code`, or
    `system|code` (another system, or `|code` for none, finds nothing). `blank`
    is the column's value when the sender gave none."""

    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        asked, code = value.partition("|")[::2] if "|" in value else (system, value)
        return qs.filter(**{column: code}) if asked == system else qs.none()

    return SearchParam("token", f, missing=Q(**{column: blank})
                       | Q(**{f"{column}__isnull": True}))  # fmt: skip


HL7 = "http://hl7.org/fhir/"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
GENDER = HL7 + "administrative-gender"


def _by_id(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    return qs.filter(pk=as_uuid(value, param))


PATIENT_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "identifier": patient_identifier,
    "name": _patient_name("name"),
    "family": _patient_name("family"),
    "given": _patient_name("given"),
    "birthdate": date_param(dates.day("birth_date"), "birth_date"),
    "gender": token("sex", GENDER, blank="unknown"),
    "address-postalcode": _postal_code(),
}


def _encounter_identifier(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    # A visit number is its facility's: the system names the facility.
    system, code = _token(value)
    qs = qs.filter(account_number=code)
    if system is None:
        return qs
    facility_system = system.removesuffix(ENCOUNTER_ACCOUNT_SUFFIX)
    if facility_system == system:
        return qs.none()
    return qs.filter(facility__mrn_system=facility_system)


def reference(column: str, target: str) -> SearchParam:
    """A reference to `target` held in `column` (`id`, `Type/id` or a full URL);
    chains (`patient.identifier`) search `target`'s own parameters."""

    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(**{column: as_uuid(_ref_id(value, target, param), param)})

    return SearchParam("reference", f, missing=Q(**{f"{column}__isnull": True}),
                       target=target, column=column)  # fmt: skip


def instant_param(column: str) -> SearchParam:
    return date_param(dates.instant(column), column)


ENCOUNTER_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("patient_id", "Patient"),
    # Encounter.period: a visit without a discharge is still open.
    "date": date_param(dates.period("admit_at", "discharge_at"), "admit_at"),
    "class": token("encounter_class", TERMINOLOGY + "v3-ActCode"),
    "status": token("status", HL7 + "encounter-status"),
    "identifier": _encounter_identifier,
}


def _document_type(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    system, code = _token(value)
    qs = qs.filter(doc_type__code=code)
    return qs.filter(doc_type__system=system) if system else qs


def _document_status(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    if value == "entered-in-error":
        return qs.filter(status="entered-in-error")
    if value == "current":
        return qs.exclude(status="entered-in-error")
    return qs.none()


DOCUMENT_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("patient_id", "Patient"),
    "type": _document_type,
    "category": token("doc_type__category", "urn:recordroom:document-category"),
    "date": instant_param("created_at"),
    "status": _document_status,
    "encounter": reference("encounter_id", "Encounter"),
}


def _code(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    system, code = _token(value)
    qs = qs.filter(code=code)
    return qs.filter(code_system=system) if system else qs


CONDITION_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("patient_id", "Patient"),
    "encounter": reference("encounter_id", "Encounter"),
    "code": _code,
    "category": token("category", TERMINOLOGY + "condition-category"),
    "clinical-status": token("clinical_status", TERMINOLOGY + "condition-clinical"),
    "recorded-date": instant_param("recorded_at"),
}

PROCEDURE_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "patient": reference("patient_id", "Patient"),
    "encounter": reference("encounter_id", "Encounter"),
    "code": _code,
    # Procedure.performed[x]: a period, or one moment when it has no end.
    "date": date_param(
        dates.period("performed_start", "performed_end", open_end=False),
        "performed_start",
    ),
    "status": token("status", HL7 + "event-status"),
}


def _npi(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    system, code = _token(value)
    if system and system != "http://hl7.org/fhir/sid/us-npi":
        return qs.none()  # other identifiers are kept but not indexed
    return qs.filter(npi=code)


def string(*columns: str) -> SearchParam:
    """A FHIR string on columns of the row itself: starts with (any case), :exact,
    :contains."""

    def any_of(lookup: str, value: str) -> Q:
        q = Q()
        for c in columns:
            q |= Q(**{f"{c}{lookup}": value})
        return q

    return SearchParam(
        "string",
        lambda qs, v, p, u: qs.filter(any_of("__istartswith", v)),
        missing=~any_of("__gt", ""),
        exact=lambda qs, v, p, u: qs.filter(any_of("", v)),
        contains=lambda qs, v, p, u: qs.filter(any_of("__icontains", v)),
    )


PRACTITIONER_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "identifier": _npi,
    "name": string("family", "given"),
    "family": string("family"),
    "given": string("given"),
}

ORGANIZATION_PARAMS: dict[str, Filter | SearchParam] = {
    "_id": _by_id,
    "identifier": _npi,
    "name": string("name"),
}


def micros(x: Any) -> int:
    """Audit events keep microseconds since 1970."""
    return int(x.timestamp() * 1_000_000)


EVENT_TIME = date_param(dates.instant("ts", micros), "ts")


def _audit_patient(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    return qs.filter(patient_id=str(as_uuid(_ref_id(value, "Patient"), param)))


AUDIT_PARAMS: dict[str, Filter | SearchParam] = {
    "patient": _audit_patient,
    "date": EVENT_TIME,
    "agent": lambda qs, v, p, u: qs.filter(Q(username=v) | Q(user_id=v)),
}


def _visible_events(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Only events about patients the reader may see (provenance is chart content)."""
    from recordroom.mpi.services import visible_patients

    ids = {p for p in qs.values_list("patient_id", flat=True).distinct()[:1000] if p}
    seen = visible_patients(user).filter(pk__in=list(ids)).values_list("pk", flat=True)
    return qs.filter(patient_id__in=[str(p) for p in seen])


def _provenance_target(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    from .provenance import BY_FHIR

    kind, _, rid = value.rpartition("/")
    if kind not in BY_FHIR:
        raise Invalid(
            f"target must be one of {', '.join(f'{k}/<id>' for k in BY_FHIR)}, not "
            f"{value!r}",
            field=param,
        )
    rows = qs.filter(object_type=BY_FHIR[kind], object_id=str(as_uuid(rid, param)))
    return _visible_events(rows, user)


PROVENANCE_PARAMS: dict[str, Filter | SearchParam] = {
    "target": _provenance_target,
    "patient": lambda qs, v, p, u: _visible_events(_audit_patient(qs, v, p, u), u),
}

PARAM_TYPES = {"_id": "token", "identifier": "token", "name": "string",
               "family": "string", "given": "string", "birthdate": "date",
               "gender": "token", "address-postalcode": "string",
               "patient": "reference", "date": "date", "class": "token",
               "status": "token", "type": "token", "category": "token",
               "encounter": "reference", "code": "token",
               "clinical-status": "token", "recorded-date": "date",
               "agent": "reference", "target": "reference",
               "subject": "reference"}  # fmt: skip
