"""Patient searches by name, paged in name order straight off the name index.

Paging by id would read every match to sort it (12,678 "Smith"s at 1M patients:
~300 ms); in name order a page reads about as many name rows as it shows. The
other Patient parameters become conditions on each name row's patient, so the
planner can still start from the birth-date or identifier index when that is
narrower. The cursor (`_after`) is the last name row's (family key, given key,
patient id), opaque to clients."""

from __future__ import annotations

import base64
import heapq
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.kernel.text import search_key
from recordroom.mpi.models import PatientAddress, PatientName
from recordroom.mpi.services import visible_patients

from .params import (
    GENDER,
    Invalid,
    as_uuid,
    date_filter,
    key_prefix,
    patient_identifier,
)

NAME_PARAMS = ("name", "family", "given")
# What a name-ordered page can also filter by; anything else (modifiers, chains,
# _lastUpdated) pages by id instead.
PAGED_PARAMS = (*NAME_PARAMS, "_id", "birthdate", "gender", "address-postalcode",
                "identifier")  # fmt: skip
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
    family, given = key_prefix("family_key", key), key_prefix("given_key", key)
    return {"family": family, "given": given}.get(param, family | given)


def _patient_condition(param: str, value: str, user: Any) -> Q:
    if param == "_id":
        return Q(patient_id=as_uuid(value, param))
    if param == "birthdate":
        return date_filter("patient__birth_date", value, param, is_datetime=False)
    if param == "gender":
        system, bar, code = value.rpartition("|")
        if bar and system != GENDER:
            return Q(pk__in=[])  # another code system: nobody
        return Q(patient__sex=code)
    if param == "address-postalcode":
        return Q(Exists(PatientAddress.objects.filter(
            patient=OuterRef("patient_id"), postal_code__istartswith=value)))  # fmt: skip
    if param == "identifier":
        from recordroom.mpi.models import Patient

        ids = patient_identifier(Patient.objects.all(), value, param, user)
        return Q(patient_id__in=ids.values("pk"))
    raise Invalid(f"unknown Patient parameter {param!r}", field=param)


def _streams(
    user: Any, used: list[tuple[str, str]]
) -> list[tuple[QuerySet[Any], tuple[str, str]]]:
    """The name-row queries a page merges, each with the key columns it is read
    in, so that each walks an index in order: a `name` search is two (rows whose
    family name matches, by family then given; rows whose given name matches, by
    given then family); a `given` search is read by given name."""
    rows = PatientName.objects.all()
    lead = next(((p, v) for p, v in used if p == "name"), None)
    for param, value in used:
        if (param, value) == lead:
            continue
        if param in NAME_PARAMS:
            rows = rows.filter(_name_condition(param, value))
        else:
            rows = rows.filter(_patient_condition(param, value, user))
    if user is not None and user.facility_ids() is not None:
        rows = rows.filter(
            Exists(visible_patients(user).filter(pk=OuterRef("patient_id")))
        )
    by_family, by_given = ("family_key", "given_key"), ("given_key", "family_key")
    if lead is not None:
        key = search_key(lead[1])
        if not key:
            raise Invalid(
                f"name needs letters or digits, not {lead[1]!r}", field="name"
            )
        return [(rows.filter(key_prefix("family_key", key)), by_family),
                (rows.filter(key_prefix("given_key", key)), by_given)]  # fmt: skip
    if any(p == "family" for p, _ in used):
        return [(rows, by_family)]
    return [(rows, by_given)]


def _after(
    qs: QuerySet[Any], cols: tuple[str, str], cursor: tuple[str, str, Any]
) -> QuerySet[Any]:
    a, b = cols
    k1, k2, pid = cursor
    return qs.filter(Q(**{f"{a}__gt": k1}) | Q(**{a: k1, f"{b}__gt": k2})
                     | Q(**{a: k1, b: k2, "patient_id__gt": pid}))  # fmt: skip


def _decode(token: str) -> tuple[str, str, Any]:
    try:
        k1, k2, pid = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(k1), str(k2), as_uuid(str(pid), "_after")
    except (ValueError, TypeError, Invalid):
        raise Invalid(f"_after {token[:40]!r} is not a cursor from a previous page; "
                      "start again without it", field="_after") from None  # fmt: skip


def _encode(k1: str, k2: str, pid: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([k1, k2, str(pid)]).encode()).decode()


def _total(
    streams: list[tuple[QuerySet[Any], tuple[str, str]]], accurate: bool
) -> int | None:
    """Patients matching, counted to TOTAL_CAP (None past it) or exactly. Each
    stream is read to at most TOTAL_CAP + 1 rows and the ids united here: a UNION in
    SQL would read every match before the LIMIT."""
    ids: set[Any] = set()
    for qs, _ in streams:
        rows = qs.order_by().values_list("patient_id", flat=True)
        if accurate:
            ids |= set(rows.distinct())
            continue
        found = list(rows[: TOTAL_CAP * 3 + 1])
        ids |= set(found)
        if len(ids) > TOTAL_CAP or len(found) > TOTAL_CAP * 3:
            return None
    return len(ids)


Row = tuple[str, str, Any]


def _key(row: Row) -> tuple[str, str, str]:
    return row[0], row[1], str(row[2])


def _up_to(qs: QuerySet[Any], cols: tuple[str, str], cursor: Row) -> QuerySet[Any]:
    a, b = cols
    k1, k2, pid = cursor
    return qs.filter(Q(**{f"{a}__lt": k1}) | Q(**{a: k1, f"{b}__lt": k2})
                     | Q(**{a: k1, b: k2, "patient_id__lte": pid}))  # fmt: skip


def _shown_before(
    streams: list[tuple[QuerySet[Any], tuple[str, str]]], cursor: Row, ids: list[Any]
) -> set[Any]:
    """Which of `ids` have a matching name up to the cursor (the row the last page
    ended on): a patient shows at their first matching name, so those were on an
    earlier page."""
    out: set[Any] = set()
    for qs, cols in streams:
        rows = _up_to(qs.filter(patient_id__in=ids), cols, cursor)
        out |= set(rows.order_by().values_list("patient_id", flat=True).distinct())
    return out


def page(user: Any, used: list[tuple[str, str]], count: int, after: str | None,
         accurate_total: bool) -> NamePage:  # fmt: skip
    """A page of patient ids in name order: each stream is read in its index order
    from the cursor on, and the streams merged by (matched key, other key, id).
    A patient with several matching names (two names, or a family and a given name
    that both match) shows once, at the first, on whichever page that falls."""
    streams = _streams(user, used)
    total = _total(streams, accurate_total)
    cursor = _decode(after) if after else None
    limit = (count + 1) * 3
    while True:
        batches, full = [], []
        for qs, cols in streams:
            if cursor is not None:
                qs = _after(qs, cols, cursor)
            rows = list(qs.order_by(*cols, "patient_id")
                        .values_list(*cols, "patient_id")[:limit])  # fmt: skip
            batches.append(rows)
            if len(rows) == limit:
                full.append(_key(rows[-1]))
        # Past the last row read of a stream cut short, its unread rows could
        # sort first: merge no further than that.
        bound = min(full) if full else None
        seen: dict[Any, Row] = {}
        for row in heapq.merge(*batches, key=_key):
            if bound is not None and _key(row) > bound:
                break
            seen.setdefault(row[2], row)
        if cursor is not None and seen:
            for pid in _shown_before(streams, cursor, list(seen)):
                del seen[pid]
        if len(seen) > count or bound is None:
            break
        limit *= 4
    ids = list(seen)[:count]
    more = len(seen) > count
    token = _encode(*seen[ids[-1]]) if more and ids else None
    return NamePage(ids, token, total)
