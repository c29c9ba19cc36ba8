"""FHIR search parameters: parsing each into a filter on the visible queryset."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.kernel.errors import RecordroomError
from recordroom.kernel.text import search_key
from recordroom.mpi.services import identifiers_in_scope


class Invalid(RecordroomError):
    code = "invalid"
    status = 400


# --- search parameter parsing -----------------------------------------------------


def _date_filter(field_name: str, value: str, param: str, *, is_datetime: bool) -> Q:
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


def _patient_identifier(
    qs: QuerySet[Any], value: str, param: str, user: Any
) -> QuerySet[Any]:
    # Only identifiers the reader may see: another facility's MRN must not find
    # (and so confirm) a patient's care there.
    system, code = _token(value)
    idents = identifiers_in_scope(user).filter(value=code)
    if system:
        idents = idents.filter(system=system)
    return qs.filter(pk__in=idents.values("patient_id"))


def _patient_name(part: str) -> Filter:
    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        # FHIR string search: case- and accent-insensitive, matching the start.
        key = search_key(value)
        if not key:
            raise Invalid(f"{param} needs letters or digits, not {value!r}",
                          field=param)  # fmt: skip
        family = Q(names__family_key__startswith=key)
        given = Q(names__given_key__startswith=key)
        if part == "family":
            return qs.filter(family)
        if part == "given":
            return qs.filter(given)
        return qs.filter(family | given)

    return f


PATIENT_PARAMS: dict[str, Filter] = {
    "_id": lambda qs, v, p, u: qs.filter(pk=as_uuid(v, p)),
    "identifier": _patient_identifier,
    "name": _patient_name("name"),
    "family": _patient_name("family"),
    "given": _patient_name("given"),
    "birthdate": lambda qs, v, p, u: qs.filter(
        _date_filter("birth_date", v, p, is_datetime=False)
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
    "date": lambda qs, v, p, u: qs.filter(_date_filter("admit_at", v, p,
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
    "date": lambda qs, v, p, u: qs.filter(_date_filter("created_at", v, p,
                                                    is_datetime=True)),
    "status": _document_status,
    "encounter": lambda qs, v, p, u: qs.filter(
        encounter_id=as_uuid(_ref_id(v, "Encounter"), p)
    ),
}  # fmt: skip

PARAM_TYPES = {"_id": "token", "identifier": "token", "name": "string",
               "family": "string", "given": "string", "birthdate": "date",
               "gender": "token", "address-postalcode": "string",
               "patient": "reference", "date": "date", "class": "token",
               "status": "token", "type": "token", "category": "token",
               "encounter": "reference"}  # fmt: skip
