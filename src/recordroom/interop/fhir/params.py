"""FHIR search parameters: parsing each into a filter on the visible queryset."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.kernel.errors import RecordroomError
from recordroom.kernel.text import prefix_upper_bound, search_key
from recordroom.mpi.models import IdentifierKind
from recordroom.mpi.services import identifier_lookup, identifiers_in_scope, ssn_lookup

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"


class Invalid(RecordroomError):
    code = "invalid"
    status = 400


# --- search parameter parsing -----------------------------------------------------


def date_filter(field_name: str, value: str, param: str, *, is_datetime: bool) -> Q:
    prefix = value[:2] if value[:2] in ("eq", "ge", "le", "gt", "lt") else "eq"
    text = value[2:] if value[:2] == prefix else value
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(
            f"{param} must be a date YYYY-MM-DD with an optional eq/ge/le/gt/lt "
            f"prefix, not {value!r}", field=param,
        ) from None  # fmt: skip
    if not is_datetime:
        lookup = {"eq": "", "ge": "__gte", "le": "__lte", "gt": "__gt",
                  "lt": "__lt"}[prefix]  # fmt: skip
        return Q(**{field_name + lookup: day})
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day, time.max), tz)
    return {
        "eq": Q(**{f"{field_name}__range": (start, end)}),
        "ge": Q(**{f"{field_name}__gte": start}),
        "gt": Q(**{f"{field_name}__gt": end}),
        "le": Q(**{f"{field_name}__lte": end}),
        "lt": Q(**{f"{field_name}__lt": start}),
    }[prefix]


def _token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, _, code = value.partition("|")
        return (system or None), code
    return None, value


def _ref_id(value: str, resource: str) -> str:
    return value.removeprefix(f"{resource}/")


def as_uuid(value: str, param: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(f"{param} must be a resource id, not {value!r}",
                      field=param) from None  # fmt: skip


# Each filter: (queryset, value, param name, user) -> queryset.
Filter = Callable[[QuerySet[Any], str, str, Any], QuerySet[Any]]


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


def _patient_name(part: str) -> Filter:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        # FHIR string search: case- and accent-insensitive, matching the start.
        key = search_key(value)
        if not key:
            raise Invalid(f"{param} needs letters or digits, not {value!r}",
                          field=param)  # fmt: skip
        family = key_prefix("names__family_key", key)
        given = key_prefix("names__given_key", key)
        if part == "family":
            return qs.filter(family)
        if part == "given":
            return qs.filter(given)
        return qs.filter(family | given)

    return f


PATIENT_PARAMS: dict[str, Filter] = {
    "_id": lambda qs, v, p, u: qs.filter(pk=as_uuid(v, p)),
    "identifier": patient_identifier,
    "name": _patient_name("name"),
    "family": _patient_name("family"),
    "given": _patient_name("given"),
    "birthdate": lambda qs, v, p, u: qs.filter(
        date_filter("birth_date", v, p, is_datetime=False)
    ),
    "gender": lambda qs, v, p, u: qs.filter(sex=v),
    "address-postalcode": lambda qs, v, p, u: qs.filter(
        addresses__postal_code__startswith=v
    ),
}


def _encounter_identifier(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    _, code = _token(value)
    return qs.filter(account_number=code)


ENCOUNTER_PARAMS: dict[str, Filter] = {
    "_id": lambda qs, v, p, u: qs.filter(pk=as_uuid(v, p)),
    "patient": lambda qs, v, p, u: qs.filter(patient_id=as_uuid(_ref_id(v, "Patient"), p)),
    "date": lambda qs, v, p, u: qs.filter(date_filter("admit_at", v, p,
                                                    is_datetime=True)),
    "class": lambda qs, v, p, u: qs.filter(encounter_class=_token(v)[1]),
    "status": lambda qs, v, p, u: qs.filter(status=v),
    "identifier": _encounter_identifier,
}  # fmt: skip


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


DOCUMENT_PARAMS: dict[str, Filter] = {
    "_id": lambda qs, v, p, u: qs.filter(pk=as_uuid(v, p)),
    "patient": lambda qs, v, p, u: qs.filter(patient_id=as_uuid(_ref_id(v, "Patient"), p)),
    "type": _document_type,
    "category": lambda qs, v, p, u: qs.filter(doc_type__category=_token(v)[1]),
    "date": lambda qs, v, p, u: qs.filter(date_filter("created_at", v, p,
                                                    is_datetime=True)),
    "status": _document_status,
    "encounter": lambda qs, v, p, u: qs.filter(
        encounter_id=as_uuid(_ref_id(v, "Encounter"), p)
    ),
}  # fmt: skip


def _code(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    system, code = _token(value)
    qs = qs.filter(code=code)
    return qs.filter(code_system=system) if system else qs


def _ref(field_name: str, resource: str) -> Filter:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(**{field_name: as_uuid(_ref_id(value, resource), param)})

    return f


def _dates(field_name: str) -> Filter:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        return qs.filter(date_filter(field_name, value, param, is_datetime=True))

    return f


def _by_id(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    return qs.filter(pk=as_uuid(value, param))


CONDITION_PARAMS: dict[str, Filter] = {
    "_id": _by_id,
    "patient": _ref("patient_id", "Patient"),
    "encounter": _ref("encounter_id", "Encounter"),
    "code": _code,
    "category": lambda qs, v, p, u: qs.filter(category=_token(v)[1]),
    "clinical-status": lambda qs, v, p, u: qs.filter(clinical_status=_token(v)[1]),
    "recorded-date": _dates("recorded_at"),
}

PROCEDURE_PARAMS: dict[str, Filter] = {
    "_id": _by_id,
    "patient": _ref("patient_id", "Patient"),
    "encounter": _ref("encounter_id", "Encounter"),
    "code": _code,
    "date": _dates("performed_start"),
    "status": lambda qs, v, p, u: qs.filter(status=v),
}


def _npi(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    system, code = _token(value)
    if system and system != "http://hl7.org/fhir/sid/us-npi":
        return qs.none()  # other identifiers are kept but not indexed
    return qs.filter(npi=code)


PRACTITIONER_PARAMS: dict[str, Filter] = {
    "_id": _by_id,
    "identifier": _npi,
    "name": lambda qs, v, p, u: qs.filter(
        Q(family__istartswith=v) | Q(given__istartswith=v)
    ),
    "family": lambda qs, v, p, u: qs.filter(family__istartswith=v),
    "given": lambda qs, v, p, u: qs.filter(given__istartswith=v),
}

ORGANIZATION_PARAMS: dict[str, Filter] = {
    "_id": _by_id,
    "identifier": _npi,
    "name": lambda qs, v, p, u: qs.filter(name__icontains=v),
}


def _audit_date(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
    # Events keep microseconds since 1970: translate the day bounds.
    q = date_filter("ts", value, param, is_datetime=True)
    field_name, bound = q.children[0]  # type: ignore[misc]
    if isinstance(bound, tuple):
        bound = tuple(int(b.timestamp() * 1_000_000) for b in bound)
    else:
        bound = int(bound.timestamp() * 1_000_000)
    return qs.filter(**{field_name: bound})


def _audit_patient(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    return qs.filter(patient_id=str(as_uuid(_ref_id(value, "Patient"), param)))


AUDIT_PARAMS: dict[str, Filter] = {
    "patient": _audit_patient,
    "date": _audit_date,
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


PROVENANCE_PARAMS: dict[str, Filter] = {
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
