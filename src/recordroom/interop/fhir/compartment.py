"""A patient's compartment: `Patient/$everything`, and `_include` on searches.
Every resource returned goes through its type's visible queryset, so scope holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recordroom.accounts.scopes import allows, require_scope
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from . import dates
from .params import Invalid
from .registry import REGISTRY

# (type, search parameter) -> (included type, attribute of the row holding its id)
INCLUDES: dict[tuple[str, str], tuple[str, str]] = {
    ("Encounter", "patient"): ("Patient", "patient_id"),
    ("Encounter", "practitioner"): ("Practitioner", "attending_id"),
    ("Encounter", "service-provider"): ("Organization", "service_provider_id"),
    ("Condition", "patient"): ("Patient", "patient_id"),
    ("Condition", "encounter"): ("Encounter", "encounter_id"),
    ("Procedure", "patient"): ("Patient", "patient_id"),
    ("Procedure", "encounter"): ("Encounter", "encounter_id"),
    ("Procedure", "performer"): ("Practitioner", "performer_id"),
    ("DocumentReference", "patient"): ("Patient", "patient_id"),
    ("DocumentReference", "encounter"): ("Encounter", "encounter_id"),
    ("DocumentReference", "author"): ("Practitioner", "author_id"),
    ("DiagnosticReport", "patient"): ("Patient", "patient_id"),
    ("DiagnosticReport", "encounter"): ("Encounter", "encounter_id"),
    ("DiagnosticReport", "performer"): ("Practitioner", "performer_id"),
    ("Observation", "patient"): ("Patient", "patient_id"),
    ("Observation", "encounter"): ("Encounter", "encounter_id"),
}
# `subject` is `patient` on these types (search.declare): included alike.
INCLUDES.update({(t, "subject"): v for (t, p), v in list(INCLUDES.items())
                 if p == "patient"})  # fmt: skip
# What $everything gathers, by the field that ties each type to the patient.
COMPARTMENT = (
    ("Encounter", "patient_id", "admit_at"),
    ("Condition", "patient_id", "updated_at"),
    ("Procedure", "patient_id", "updated_at"),
    ("DocumentReference", "patient_id", "updated_at"),
    ("DiagnosticReport", "patient_id", "updated_at"),
    ("Observation", "report__patient_id", "updated_at"),
)
EVERYTHING_LIMIT = 5000
REVINCLUDE_LIMIT = 1000  # per page; past it the search is refused, never cut


def includes(
    actor: Actor, resource: str, values: list[str], rows: list[Any]
) -> list[dict[str, Any]]:
    """The resources `_include=Type:param` asks for, for the rows of one page."""
    out: list[dict[str, Any]] = []
    for value in values:
        source, _, param = value.partition(":")
        if source != resource or (source, param) not in INCLUDES:
            known = ", ".join(f"{t}:{p}" for t, p in INCLUDES if t == resource)
            raise Invalid(f"_include={value!r} is not supported; for {resource}: "
                          f"{known or 'none'}", field="_include")  # fmt: skip
        target, attr = INCLUDES[(source, param)]
        require_scope(actor, target, "read")
        ids = {getattr(r, attr) for r in rows if getattr(r, attr, None)}
        if ids:
            rt = REGISTRY[target]
            found = list(rt.queryset(actor.user).filter(pk__in=ids))
            out += rt.to_fhir(actor.user, found)
    return out


def revincludes(
    actor: Actor, wanted: list[tuple[str, str, str]], rows: list[Any]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The resources `_revinclude=Source:param` asks for (those of `Source` that
    point at a row of the page), and the patients whose charts they come from."""
    out: list[dict[str, Any]] = []
    patients: list[Any] = []
    for source, _, column in wanted:
        require_scope(actor, source, "read")
        rt = REGISTRY[source]
        found = list(rt.queryset(actor.user).filter(
            **{f"{column}__in": [r.pk for r in rows]})[: REVINCLUDE_LIMIT + 1])  # fmt: skip
        if len(found) > REVINCLUDE_LIMIT:
            raise ValidationFailed(
                f"_revinclude={source} would add more than {REVINCLUDE_LIMIT} "
                f"resources to this page; use a smaller _count or search {source} "
                "directly", field="_revinclude")  # fmt: skip
        out += rt.to_fhir(actor.user, found)
        patients += [getattr(r, "patient_id", None) for r in found]
    return out, patients


def everything(
    actor: Actor, patient_id: Any, since: datetime | None, types: set[str] | None
) -> list[dict[str, Any]]:
    """The patient and what their chart holds that the reader may see, with the
    practitioners and organizations it names (FHIR Patient/$everything)."""
    require_scope(actor, "Patient", "read")
    patient_body, _ = REGISTRY["Patient"].read_one(actor, str(patient_id))
    out = [patient_body] if not types or "Patient" in types else []
    practitioners: set[Any] = set()
    organizations: set[Any] = set()
    total = 0
    for rtype, field, _ in COMPARTMENT:
        if types and rtype not in types or not allows(actor.scopes, rtype, "read"):
            continue  # a system client gets what its scopes allow
        rt = REGISTRY[rtype]
        qs = rt.queryset(actor.user).filter(**{field: patient_id})
        if since is not None and rtype != "Encounter":
            qs = qs.filter(updated_at__gte=since)
        rows = list(qs.order_by("pk")[: EVERYTHING_LIMIT + 1])
        total += len(rows)
        if total > EVERYTHING_LIMIT:
            raise ValidationFailed(
                f"this chart has more than {EVERYTHING_LIMIT} resources; use _type "
                "or _since, or the bulk $export", field="_count")  # fmt: skip
        for r in rows:
            for attr in ("attending_id", "performer_id", "author_id", "recorder_id"):
                if getattr(r, attr, None):
                    practitioners.add(getattr(r, attr))
            if getattr(r, "service_provider_id", None):
                organizations.add(r.service_provider_id)
        out += rt.to_fhir(actor.user, rows)
    for rtype, ids in (
        ("Practitioner", practitioners),
        ("Organization", organizations),
    ):
        if (
            ids
            and (not types or rtype in types)
            and allows(actor.scopes, rtype, "read")
        ):
            rt = REGISTRY[rtype]
            out += rt.to_fhir(
                actor.user, list(rt.queryset(actor.user).filter(pk__in=ids))
            )
    return out


def since_param(value: str | None) -> datetime | None:
    if not value:
        return None
    return dates.parse(value.removeprefix("ge"), "_since").lo
