"""Applying FHIR resources to the record: create, update, or leave unchanged.

One `Writer.apply` call is one transaction (a bundle, an NDJSON chunk, one REST
create). References resolve, in order, to an entry of the same call, to what the
same source sent before (its SourceKey), or to our own ids. A resend is matched by
its source key or by identifier (MRN, NPI, visit number), so it never duplicates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from django.db import models, transaction

from recordroom.audit.services import EventSpec, record_many
from recordroom.interop.models import SourceKey
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError
from recordroom.mpi.models import Facility, Patient
from recordroom.mpi.services import visible_patients
from recordroom.records.models import (
    Condition,
    Document,
    Encounter,
    Organization,
    Procedure,
    Provider,
)

from . import inbound
from .apply import Applier, _aliases
from .facility_in import CLI_FACILITY_ADVICE
from .values import R4_TYPES, Rejected, Unresolved, as_uuid

MODELS: dict[str, type[models.Model]] = {
    "Organization": Organization,
    "Practitioner": Provider,
    "Patient": Patient,
    "Encounter": Encounter,
    "Condition": Condition,
    "Procedure": Procedure,
    "DocumentReference": Document,
}
ORDER = {name: i for i, name in enumerate(inbound.STORED_TYPES)}


@dataclass
class Entry:
    resource: Any
    full_url: str = ""
    method: str = "POST"
    url: str = ""
    if_none_exist: str = ""
    location: str = ""
    raw_sha256: str = ""  # the stored input it came in
    found: UUID | None = None  # If-None-Exist matched this row: leave it alone
    refusal: str = ""  # refused before applying (412: If-None-Exist, If-Match)
    if_match: str = ""


@dataclass
class Result:
    index: int
    status: str  # created, updated, unchanged, rejected, skipped
    resource_type: str = ""
    source_id: str = ""
    target_id: UUID | None = None
    reason: str = ""
    expression: str = ""
    unresolved: bool = False  # refused for a reference that may arrive later
    http_status: int = 400  # of a rejected entry, in a batch response


class BundleRejected(RecordroomError):
    """A transaction with a refused entry: nothing was written."""

    status = 400

    def __init__(self, results: list[Result]) -> None:
        bad = [r for r in results if r.status == "rejected"]
        first = bad[0]
        super().__init__(
            f"entry {first.index} ({first.resource_type or '?'}): {first.reason}",
            field=first.expression,
        )
        self.results = results


def digest(resource: dict[str, Any]) -> str:
    return hashlib.sha256(
        orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


@dataclass
class Writer:
    """Writes for one actor from one source, into one receiving facility.

    `facility` files visits and identifiers that do not name one of ours. The
    caches live as long as the writer, so an import resolves across files.
    """

    actor: Actor
    source: str
    facility: Facility | None = None
    raw_sha256: str = ""
    own_ids: bool = False
    # How the sender names the receiving facility, said when none is known.
    facility_advice: str = CLI_FACILITY_ADVICE
    keys: dict[tuple[str, str], UUID] = field(default_factory=dict)
    _facility_of: dict[UUID, Facility | None] = field(default_factory=dict)
    _by_system: dict[str, Facility | None] = field(default_factory=dict)
    _by_code: dict[str, Facility | None] = field(default_factory=dict)

    # --- the Context the inbound readers use -----------------------------------

    def facility_by_system(
        self, system: str, expr: str = "Patient.identifier"
    ) -> Facility | None:
        if system not in self._by_system:
            self._by_system[system] = Facility.objects.filter(mrn_system=system).first()
        return self._in_scope(self._by_system[system], expr)

    def facility_by_code(self, code: str, expr: str) -> Facility | None:
        """A facility the resource names by our code; one not here is refused (the
        visit must not be filed under another facility instead)."""
        if code not in self._by_code:
            self._by_code[code] = Facility.objects.filter(code=code).first()
        if self._by_code[code] is None:
            raise Rejected(f"{expr} names facility {code!r}, which is not one of ours; "
                           "create it first, or name one of ours", expr)  # fmt: skip
        return self._in_scope(self._by_code[code], expr)

    def not_kept(self, ref: str) -> bool:
        """Whether `ref` is an entry of this call of a type Recordroom does not keep."""
        return ref in self._applier.not_kept

    def facility_of(self, organization_id: UUID | None) -> Facility | None:
        if organization_id is None:
            return None
        if organization_id not in self._facility_of:
            org = Organization.objects.filter(pk=organization_id).first()
            self._facility_of[organization_id] = org.facility if org else None
        return self._in_scope(self._facility_of[organization_id],
                              "Encounter.serviceProvider")  # fmt: skip

    def _in_scope(self, facility: Facility | None, expr: str) -> Facility | None:
        """A user writes only into their own facilities (the CLI, with no user,
        into any)."""
        user = self.actor.user
        scope = user.facility_ids() if user is not None else None
        if facility is not None and scope is not None and facility.pk not in scope:
            raise Rejected(f"{expr}: {facility.code} is not one of your facilities",
                           expr)  # fmt: skip
        return facility

    def put_target(
        self, entry: Entry, rtype: str, own: set[UUID] | None = None
    ) -> UUID | None:
        """The row an entry names by our own id: PUT Type/<our id>, or, in an
        import that trusts them (`own_ids`), a resource whose id is ours -- so a
        file exported from here comes back as the same rows, not copies. `own`
        holds the ids of this call already known to be ours (one query per type)."""
        if entry.method == "PUT" and "/" in entry.url:
            kind, _, rid = entry.url.rpartition("/")
            uid = as_uuid(rid) if kind == rtype else None
            return uid if uid is not None and self._ours(rtype, [uid]) else None
        if self.own_ids and own and isinstance(entry.resource, dict):
            uid = as_uuid(str(entry.resource.get("id") or ""))
            return uid if uid in own else None
        return None

    def ours(self, rtype: str, ids: list[UUID]) -> set[UUID]:
        """Which of `ids` are rows of ours of that type, visible to the writer."""
        if rtype not in MODELS or not ids:
            return set()
        qs = (visible_patients(self.actor.user) if rtype == "Patient"
              else MODELS[rtype]._default_manager.all())  # fmt: skip
        found: set[UUID] = set()
        for start in range(0, len(ids), 900):
            found |= set(qs.filter(pk__in=ids[start : start + 900])
                         .values_list("pk", flat=True))  # fmt: skip
        return found

    def _ours(self, rtype: str, ids: list[UUID]) -> bool:
        return bool(self.ours(rtype, ids))

    def resolve(
        self, ref: str | None, expr: str, types: tuple[str, ...], required: bool
    ) -> UUID | None:
        if ref is None:
            if required:
                raise Rejected(f"{expr} is required", expr)
            return None
        app = self._applier
        if ref in app.refused:
            raise Rejected(f"{expr} refers to {ref}, which was refused: "
                           f"{app.refused[ref]}", expr)  # fmt: skip
        hit = app.aliases.get(ref)
        if hit is not None:
            if hit[0] not in types:
                raise Rejected(f"{expr} {ref} is a {hit[0]}, not a "
                               f"{' or '.join(types)}", expr)  # fmt: skip
            return hit[1]
        if ref.startswith("urn:"):
            raise Rejected(f"{expr} {ref} is not an entry of this bundle", expr)
        rtype, rid = ref.split("/", 1)
        found = self.keys.get((rtype, rid))
        if found is None:
            key = SourceKey.objects.filter(source=self.source, resource_type=rtype,
                                           source_id=rid).first()  # fmt: skip
            found = key.target_id if key else None
        if found is None and (uid := as_uuid(rid)) is not None and rtype in MODELS:
            qs = (visible_patients(self.actor.user) if rtype == "Patient"
                  else MODELS[rtype]._default_manager.all())  # fmt: skip
            found = uid if qs.filter(pk=uid).exists() else None
        if found is None:
            raise Unresolved(f"{expr} refers to {ref}, which does not exist here; send "
                             "it first or in the same bundle", expr)  # fmt: skip
        self.keys[(rtype, rid)] = found
        return found

    # --- applying --------------------------------------------------------------

    def apply(self, entries: list[Entry], *, all_or_nothing: bool) -> list[Result]:
        """Apply entries in dependency order; return one Result per entry, in the
        entries' order. With `all_or_nothing` (a transaction bundle, a single
        create) a refused entry refuses them all (BundleRejected)."""
        results: list[Result | None] = [None] * len(entries)
        work: list[tuple[int, Entry, str, str]] = []
        not_kept: set[str] = set()
        found: list[tuple[int, Entry, str, str]] = []
        for i, entry in enumerate(entries):
            res = entry.resource
            rtype = res.get("resourceType") if isinstance(res, dict) else None
            if res is None and entry.method.upper() in ("GET", "HEAD", "DELETE",
                                                        "RESPONSE"):  # fmt: skip
                results[i] = Result(i, "skipped", reason=f"a {entry.method} request "
                                    "entry is not applied here (nothing is deleted)")  # fmt: skip
            elif not isinstance(res, dict) or not isinstance(rtype, str):
                results[i] = Result(i, "rejected", reason="not a FHIR resource (no "
                                    "resourceType)", expression="resourceType")  # fmt: skip
            elif rtype not in R4_TYPES:
                results[i] = Result(i, "rejected", rtype, reason=f"{rtype!r} is not a "
                                    "FHIR R4 resource type", expression="resourceType")  # fmt: skip
            elif rtype not in ORDER:
                results[i] = Result(i, "skipped", rtype, str(res.get("id", "")),
                                    reason=f"{rtype} is not kept by Recordroom")  # fmt: skip
                not_kept.add(entry.full_url or f"{rtype}/{res.get('id', '')}")
            elif entry.refusal:
                results[i] = Result(i, "rejected", rtype, reason=entry.refusal,
                                    http_status=412)  # fmt: skip
            else:
                source_id = str(res.get("id") or entry.full_url or "")
                (found if entry.found else work).append((i, entry, rtype, source_id))
        work.sort(key=lambda w: (ORDER[w[2]], w[0]))
        self._applier = Applier(self, work)
        self._applier.not_kept = not_kept
        for i, entry, rtype, sid in found:
            results[i] = self._matched(i, entry, rtype, sid)
        with transaction.atomic():
            done = self._applier.run()
            for r in done:
                results[r.index] = r
            final = [r for r in results if r is not None]
            if all_or_nothing and any(r.status == "rejected" for r in final):
                transaction.set_rollback(True)
                raise BundleRejected(final)
            self._applier.flush()
            record_many(self._audit_events(final))
        return final

    def _matched(self, i: int, entry: Entry, rtype: str, sid: str) -> Result:
        """An entry whose If-None-Exist found a row: the row is the answer, and
        references to the entry resolve to it; nothing is written."""
        assert entry.found is not None
        for alias in _aliases(entry, rtype, sid):
            self._applier.aliases[alias] = (rtype, entry.found)
        return Result(i, "unchanged", rtype, sid, entry.found,
                      reason="If-None-Exist matched an existing resource")  # fmt: skip

    def _audit_events(self, results: list[Result]) -> list[EventSpec]:
        """One event per row created or updated, naming it, so the audit trail
        holds each resource's provenance (FHIR Provenance is read from it)."""
        return [
            EventSpec(self.actor, actions.INTEROP_WRITE.name,
                      self._applier.patient_of.get(r.index),
                      obj=(MODELS[r.resource_type]._meta.label_lower, str(r.target_id)),
                      detail={"source": self.source, "fhir": r.resource_type,
                              "status": r.status})
            for r in results
            if r.status in ("created", "updated") and r.target_id
        ]  # fmt: skip
