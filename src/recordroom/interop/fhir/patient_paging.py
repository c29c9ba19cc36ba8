"""Patient searches by name, paged in name order straight off the name index.

Paging by id would read every match to sort it (12,678 "Smith"s at 1M patients:
~300 ms); in name order a page reads about as many name rows as it shows. The
other Patient parameters become conditions on each name row's patient, so the
planner can still start from the birth-date or identifier index when that is
narrower. The cursor (`_after`) is the last name row's (family key, given key,
patient id), opaque to clients."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.kernel.text import search_key
from recordroom.mpi.models import PatientAddress, PatientName
from recordroom.mpi.services import visible_patients

from .params import Invalid, _date_filter, _key_prefix, _patient_identifier, as_uuid

NAME_PARAMS = ("name", "family", "given")
TOTAL_CAP = 200


@dataclass
class NamePage:
    patient_ids: list[Any]
    next_token: str | None
    total: int | None  # None: more than TOTAL_CAP (Bundle.total left out)


def _name_condition(param: str, value: str) -> Q:
    key = search_key(value)
    if not key:
        raise Invalid(f"{param} needs letters or digits, not {value!r}", field=param)
    family, given = _key_prefix("family_key", key), _key_prefix("given_key", key)
    return {"family": family, "given": given}.get(param, family | given)


def _patient_condition(param: str, value: str, user: Any) -> Q:
    if param == "_id":
        return Q(patient_id=as_uuid(value, param))
    if param == "birthdate":
        return _date_filter("patient__birth_date", value, param, is_datetime=False)
    if param == "gender":
        return Q(patient__sex=value)
    if param == "address-postalcode":
        return Q(Exists(PatientAddress.objects.filter(
            patient=OuterRef("patient_id"), postal_code__startswith=value)))  # fmt: skip
    if param == "identifier":
        from recordroom.mpi.models import Patient

        ids = _patient_identifier(Patient.objects.all(), value, param, user)
        return Q(patient_id__in=ids.values("pk"))
    raise Invalid(f"unknown Patient parameter {param!r}", field=param)


def name_rows(user: Any, used: list[tuple[str, str]]) -> QuerySet[PatientName]:
    rows = PatientName.objects.all()
    for param, value in used:
        if param in NAME_PARAMS:
            rows = rows.filter(_name_condition(param, value))
        else:
            rows = rows.filter(_patient_condition(param, value, user))
    if user is not None and user.facility_ids() is not None:
        rows = rows.filter(
            Exists(visible_patients(user).filter(pk=OuterRef("patient_id")))
        )
    return rows


def _decode(token: str) -> tuple[str, str, Any]:
    try:
        family, given, pid = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(family), str(given), as_uuid(str(pid), "_after")
    except (ValueError, TypeError, Invalid):
        raise Invalid(f"_after {token[:40]!r} is not a cursor from a previous page; "
                      "start again without it", field="_after") from None  # fmt: skip


def _encode(family: str, given: str, pid: Any) -> str:
    return base64.urlsafe_b64encode(
        json.dumps([family, given, str(pid)]).encode()
    ).decode()


def page(user: Any, used: list[tuple[str, str]], count: int, after: str | None,
         accurate_total: bool) -> NamePage:  # fmt: skip
    rows = name_rows(user, used)
    total: int | None
    if accurate_total:
        total = rows.order_by().values("patient_id").distinct().count()
    else:
        capped = (
            rows.order_by().values("patient_id").distinct()[: TOTAL_CAP + 1].count()
        )
        total = capped if capped <= TOTAL_CAP else None
    ordered = rows.order_by("family_key", "given_key", "patient_id")
    if after:
        f, g, pid = _decode(after)
        ordered = ordered.filter(Q(family_key__gt=f) | Q(family_key=f, given_key__gt=g)
                                 | Q(family_key=f, given_key=g, patient_id__gt=pid))  # fmt: skip
    seen: dict[Any, tuple[str, str, Any]] = {}
    # A patient with two matching names shows once, at the first (within a page).
    for f, g, pid in ordered.values_list("family_key", "given_key", "patient_id")[
        : (count + 1) * 3
    ]:
        if pid not in seen:
            seen[pid] = (f, g, pid)
        if len(seen) > count:
            break
    ids = list(seen)
    more = len(ids) > count
    ids = ids[:count]
    token = _encode(*seen[ids[-1]]) if more and ids else None
    return NamePage(ids, token, total)
