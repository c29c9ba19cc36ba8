"""Recognising a visit, condition or procedure that is already here though it comes
by another route (another source name, a resend without ids, a second POST): by its
business identifiers, else by a natural key -- the patient, what and when."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import QuerySet

from recordroom.interop.models import SourceKey
from recordroom.records.models import Encounter

from .values import identifier_key

# Each natural key's fields, and those of which at least one must be known: without
# a time or a visit, two records of one code cannot be told apart.
NATURAL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Encounter": (("patient_id", "facility", "encounter_class", "admit_at",
                   "discharge_at"), ("admit_at",)),
    "Condition": (("patient_id", "code_system", "code", "encounter_id", "onset_at"),
                  ("encounter_id", "onset_at")),
    "Procedure": (("patient_id", "code_system", "code", "encounter_id",
                   "performed_start", "performed_end"), ("encounter_id", "performed_start")),
}  # fmt: skip
# Kept when a resend through another route leaves them out (never blanked).
KEEP_IF_ABSENT = ("identifiers", "identifier_key", "account_number", "reasons",
                  "reason_references")  # fmt: skip


def natural_key(rtype: str, fields: dict[str, Any]) -> tuple[Any, ...] | None:
    names, whens = NATURAL[rtype]
    if not any(fields.get(w) for w in whens):
        return None
    if rtype != "Encounter" and not fields.get("code"):
        return None
    return (rtype, *(getattr(fields.get(n), "pk", fields.get(n)) for n in names))


def identifier_keys(rtype: str, fields: dict[str, Any]) -> list[str]:
    """Business identifiers as keys: a visit's number at its facility, a condition's
    or procedure's identifiers (system|value)."""
    if rtype == "Encounter":
        return [f"{fields['facility'].pk}|{a}" for a in _accounts(fields)]
    return [identifier_key(i) for i in fields.get("identifiers", []) if i["system"]]


def _accounts(fields: dict[str, Any]) -> list[str]:
    sent = [fields.get("account_number", ""), *fields.get("accounts", [])]
    return [a for a in dict.fromkeys(sent) if a]


class Matcher:
    """One per applied call: finds the row a resource already is, and remembers the
    rows of the call (not yet in the database while their type is being written)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.by_identifier: dict[tuple[str, str], UUID] = {}
        self.by_natural: dict[tuple[Any, ...], list[UUID]] = {}
        self.keyed: dict[UUID, str] = {}  # row -> the id this source gave it here
        self.new_patients: set[UUID] = set()  # created here: nothing of theirs yet

    def find(
        self, rtype: str, model: type[models.Model], fields: dict[str, Any], sid: str
    ) -> UUID | None:
        fresh = fields["patient_id"] in self.new_patients
        keys = identifier_keys(rtype, fields)
        for key in keys:
            if (rtype, key) in self.by_identifier:
                return self.by_identifier[(rtype, key)]
        # A visit number is the facility's, not the patient's: always looked up.
        if keys and (not fresh or rtype == "Encounter"):
            hit = self._stored_by_identifier(rtype, model, fields, keys)
            if hit is not None:
                return hit
        natural = natural_key(rtype, fields)
        if natural is None:
            return None
        found = list(self.by_natural.get(natural, []))
        if not fresh:
            found += self._stored_by_natural(rtype, model, fields, keys)
        return next(iter(self._not_another(rtype, list(dict.fromkeys(found)), sid)),
                    None)  # fmt: skip

    def remember(self, rtype: str, fields: dict[str, Any], pk: UUID, sid: str) -> None:
        for key in identifier_keys(rtype, fields):
            self.by_identifier[(rtype, key)] = pk
        natural = natural_key(rtype, fields)
        if natural is not None and pk not in self.by_natural.setdefault(natural, []):
            self.by_natural[natural].append(pk)
        if sid:
            self.keyed[pk] = sid

    def _stored_by_identifier(
        self, rtype: str, model: type[models.Model], fields: dict[str, Any],
        keys: list[str],
    ) -> UUID | None:  # fmt: skip
        qs: QuerySet[Any]
        if rtype == "Encounter":
            qs = Encounter.objects.filter(facility=fields["facility"],
                                          account_number__in=_accounts(fields))  # fmt: skip
        else:
            qs = model._default_manager.filter(
                patient_id=fields["patient_id"], identifier_key__in=keys
            )
        return qs.values_list("pk", flat=True).first()

    def _stored_by_natural(
        self, rtype: str, model: type[models.Model], fields: dict[str, Any],
        keys: list[str],
    ) -> list[UUID]:  # fmt: skip
        names, _ = NATURAL[rtype]
        own = "account_number" if rtype == "Encounter" else "identifier_key"
        mine = _accounts(fields) if rtype == "Encounter" else keys
        rows = model._default_manager.filter(**{n: fields.get(n) for n in names})
        # A row with identifiers other than those sent is another record.
        return [pk for pk, ident in rows.values_list("pk", own)[:20]
                if not (mine and ident and ident not in mine)]  # fmt: skip

    def _not_another(self, rtype: str, found: list[UUID], sid: str) -> list[UUID]:
        """Leave out rows this source sent under another id: one sender's two ids
        are two records, however alike."""
        if not sid or not found:
            return found
        other = {pk for pk in found if self.keyed.get(pk, sid) != sid}
        other |= set(
            SourceKey.objects.filter(source=self.source, resource_type=rtype,
                                     target_id__in=found)
            .exclude(source_id=sid).values_list("target_id", flat=True)
        )  # fmt: skip
        return [pk for pk in found if pk not in other]
