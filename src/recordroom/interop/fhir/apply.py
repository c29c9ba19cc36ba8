"""The steps of one Writer.apply: per type, find what the resource is to us (new,
known by source key, or matched by identifier), then create or update it. Creates
are collected and bulk-inserted when the type changes (dependencies come first)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import models, transaction

from recordroom.interop.models import SourceKey
from recordroom.kernel.errors import RecordroomError
from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import (
    IdentifierKind,
    NameUse,
    Patient,
    PatientAddress,
    PatientIdentifier,
    PatientName,
    PatientTelecom,
)
from recordroom.mpi.services import (
    build_identifier,
    build_patient,
    change_legal_name,
    identifier_lookup,
    update_patient,
)
from recordroom.records.models import (
    Condition,
    Document,
    DocumentSource,
    DocumentType,
    Encounter,
    Organization,
    Procedure,
    Provider,
)
from recordroom.records.services import file_document

from . import inbound
from .matching import KEEP_IF_ABSENT, NATURAL, Matcher
from .values import Rejected, Unresolved, as_uuid

if TYPE_CHECKING:
    from .writer import Entry, Result, Writer

UNIQUE = (IdentifierKind.MRN, IdentifierKind.ENTERPRISE)
PART_ORDER = (PatientName, PatientIdentifier, PatientAddress, PatientTelecom)


class Applier:
    def __init__(self, writer: Writer, work: list[tuple[int, Entry, str, str]]):
        self.w = writer
        self.work = work
        self.aliases: dict[str, tuple[str, UUID]] = {}
        self.refused: dict[str, str] = {}
        self.patient_of: dict[int, Any] = {}
        self.pending: dict[type[models.Model], list[Any]] = defaultdict(list)
        self.new_keys: dict[tuple[str, str], SourceKey] = {}
        self.binaries: dict[str, tuple[bytes, str]] = {}
        self.claimed: set[tuple[str, str]] = set()  # MRNs taken within this call
        self.own: set[UUID] = set()
        self.matcher = Matcher(writer.source)
        self.not_kept: set[str] = set()  # fullUrls of entries of types not kept

    def run(self) -> list[Result]:
        from .writer import Result, digest

        existing = self._known_keys()
        self.own = self._known_own(existing) if self.w.own_ids else set()
        out: list[Result] = []
        current_type = ""
        for i, entry, rtype, sid in self.work:
            if rtype != current_type:
                self.flush_creates()
                current_type = rtype
            aliases = _aliases(entry, rtype, sid)
            d = digest(entry.resource)
            key = existing.get((rtype, sid))
            target: UUID | None
            try:
                if key is not None and key.digest == d and rtype != "Binary":
                    status, target = "unchanged", key.target_id
                else:
                    status, target = self._write(i, entry, rtype, sid, key)
            # Any refusal of ours (invalid, too large, a conflict, out of scope).
            except RecordroomError as exc:
                for alias in aliases:
                    self.refused[alias] = exc.message
                out.append(Result(i, "rejected", rtype, sid, reason=exc.message,
                                  expression=exc.field or "",
                                  unresolved=isinstance(exc, Unresolved)))  # fmt: skip
                continue
            if target is None:  # a Binary, kept as its document's content
                out.append(Result(i, "skipped", rtype, sid,
                                  reason="kept as the content of its DocumentReference"))  # fmt: skip
                continue
            for alias in aliases:
                self.aliases[alias] = (rtype, target)
            self.w.keys[(rtype, sid)] = target
            if sid and (key is None or key.digest != d or key.target_id != target):
                # Keyed by id: the same resource twice in one call is one row.
                existing[(rtype, sid)] = self.new_keys[(rtype, sid)] = SourceKey(
                    source=self.w.source, resource_type=rtype, source_id=sid,
                    target_id=target, digest=d,
                    raw_sha256=entry.raw_sha256 or self.w.raw_sha256)  # fmt: skip
            out.append(Result(i, status, rtype, sid, target))
        return out

    def _known_keys(self) -> dict[tuple[str, str], SourceKey]:
        sids = list({sid for _, _, _, sid in self.work if sid})
        wanted = {(rtype, sid) for _, _, rtype, sid in self.work}
        found: dict[tuple[str, str], SourceKey] = {}
        for start in range(0, len(sids), 900):
            for key in SourceKey.objects.filter(
                source=self.w.source, source_id__in=sids[start : start + 900]
            ):  # fmt: skip
                if (key.resource_type, key.source_id) in wanted:
                    found[(key.resource_type, key.source_id)] = key
        return found

    def _known_own(self, keyed: dict[tuple[str, str], SourceKey]) -> set[UUID]:
        """Ids in this call that are rows of ours (a file exported from here)."""
        by_type: dict[str, list[UUID]] = defaultdict(list)
        for _, _entry, rtype, sid in self.work:
            if (rtype, sid) not in keyed and (uid := as_uuid(sid)) is not None:
                by_type[rtype].append(uid)
        found: set[UUID] = set()
        for rtype, ids in by_type.items():
            found |= self.w.ours(rtype, ids)
        return found

    def flush_creates(self) -> None:
        for model in (Organization, Provider, Patient, *PART_ORDER, Encounter,
                      Condition, Procedure, Document):  # fmt: skip
            rows = self.pending.pop(model, [])
            if rows:
                model._default_manager.bulk_create(rows, batch_size=500)

    def flush(self) -> None:
        self.flush_creates()
        if self.new_keys:
            SourceKey.objects.bulk_create(
                list(self.new_keys.values()), batch_size=500, update_conflicts=True,
                unique_fields=["source", "resource_type", "source_id"],
                update_fields=["target_id", "digest", "raw_sha256", "updated_at"],
            )  # fmt: skip

    # --- per type ----------------------------------------------------------------

    def _write(
        self, i: int, entry: Entry, rtype: str, sid: str, key: SourceKey | None
    ) -> tuple[str, UUID | None]:
        res = entry.resource
        target = key.target_id if key else self.w.put_target(entry, rtype, self.own)
        if target is not None:
            self.flush_creates()  # it may be a row created earlier in this call
        if rtype == "Binary":
            content = inbound.binary(res)
            for alias in _aliases(entry, rtype, sid):
                self.binaries[alias] = content
            return "skipped", None
        if rtype == "Patient":
            data = inbound.patient(res, self.w, (f"urn:recordroom:source:{self.w.source}",
                                                 sid or entry.full_url))  # fmt: skip
            target = target or self._match_patient(data)
            self.patient_of[i] = target
            if target is not None:
                changed = self._update_patient(target, data)
                return ("updated" if changed else "unchanged"), target
            patient, parts = build_patient(
                data, created_by=self.w.actor.username, created_via="fhir"
            )
            self._claim(p for p in parts if isinstance(p, PatientIdentifier))
            self.pending[Patient].append(patient)
            self.matcher.new_patients.add(patient.pk)
            for part in parts:
                self.pending[type(part)].append(part)
            self.patient_of[i] = patient.pk
            return "created", patient.pk
        if rtype == "DocumentReference":
            return self._document(i, inbound.document_reference(res, self.w), target)
        reader, model, match = SIMPLE[rtype]
        fields = reader(res, self.w)
        named = fields.pop("facility_named", True)
        self.patient_of[i] = fields.get("patient_id")
        if rtype in NATURAL:
            target = target or self.matcher.find(rtype, model, fields, sid)
            # A new row's id is known now, so the rest of the call can find it.
            self.matcher.remember(rtype, fields, target or fields.setdefault("id", uuid7()),
                                  sid)  # fmt: skip
        else:
            target = target or match(fields)
        accounts = fields.pop("accounts", [])
        if target is not None:
            row = model._default_manager.filter(pk=target).first()
            if row is None:
                raise Rejected(f"{rtype}/{sid} was sent before but its row is gone "
                               "(merged or removed); send it with a new id")  # fmt: skip
            # What this route leaves out is kept; a visit that names no facility
            # stays where it is (the receiving facility is for new visits only).
            fields = {k: x for k, x in fields.items() if x or k not in KEEP_IF_ABSENT}
            if not named:
                fields.pop("facility", None)
            if getattr(row, "account_number", "") in accounts:
                fields.pop("account_number", None)  # known by another of its numbers
            if not _differs(row, fields):
                return "unchanged", target
            model._default_manager.filter(pk=target).update(**fields)
            return "updated", target
        row = model(**fields)
        self.pending[model].append(row)
        return "created", row.pk

    def _claim(self, idents: Any) -> None:
        for ident in idents:
            if ident.kind not in UNIQUE:
                continue
            pair = (ident.system, ident.lookup)
            if pair in self.claimed:
                raise Rejected(f"{ident.get_kind_display()} {ident.value} at "
                               f"{ident.system} is sent for two patients",
                               "Patient.identifier")  # fmt: skip
            self.claimed.add(pair)

    def _match_patient(self, data: Any) -> UUID | None:
        for ident in data.identifiers:
            if ident.kind in UNIQUE:
                system = ident.system or ident.facility.mrn_system
                hit = PatientIdentifier.objects.filter(
                    kind__in=UNIQUE, system=system, lookup=identifier_lookup(ident.value)
                ).values_list("patient_id", flat=True).first()  # fmt: skip
                if hit:
                    return hit
        return None

    def _update_patient(self, target: UUID, data: Any) -> bool:
        """Apply what changed, keeping history: an old legal name becomes a
        previous name; identifiers, addresses and phones are added, never lost.
        All or nothing (a savepoint): an identifier taken by another patient must
        not leave the name already changed."""
        with transaction.atomic():
            return self._update_patient_parts(target, data)

    def _update_patient_parts(self, target: UUID, data: Any) -> bool:
        patient = Patient.objects.get(pk=target)
        changes = {k: getattr(data, k) for k in ("birth_date", "sex", "deceased_date")
                   if getattr(data, k) and getattr(data, k) != getattr(patient, k)}  # fmt: skip
        changes.update({k: x for k, x in data.us_core.items() if x != getattr(patient, k)})
        if changes:
            update_patient(actor=self.w.actor, patient=patient, changes=changes)
        legal = next(n for n in data.names if n.use == NameUse.LEGAL)
        current = patient.names.filter(
            use=NameUse.LEGAL, period_end__isnull=True
        ).first()
        if current is None or (current.family, current.given, current.middle) != (
            legal.family, legal.given, legal.middle):  # fmt: skip
            change_legal_name(actor=self.w.actor, patient=patient, new=legal)
            changes["name"] = legal.family
        have = set(patient.identifiers.values_list("kind", "system", "lookup"))
        for ident_in in data.identifiers:
            ident = build_identifier(patient, ident_in)
            if (ident.kind, ident.system, ident.lookup) in have:
                continue
            if ident.kind in UNIQUE and PatientIdentifier.objects.filter(
                    system=ident.system, lookup=ident.lookup).exists():  # fmt: skip
                raise Rejected(f"{ident.get_kind_display()} {ident.value} at "
                               f"{ident.system} belongs to another patient",
                               "Patient.identifier")  # fmt: skip
            ident.save()
            changes["identifier"] = ident.value
        lines = set(patient.addresses.values_list("line1", "postal_code"))
        for a in data.addresses:
            if (a["line1"], a["postal_code"]) not in lines:
                PatientAddress.objects.create(patient=patient, **a)
                changes["address"] = True
        phones = set(patient.telecoms.values_list("value", flat=True))
        for t in data.telecoms:
            if t["value"] not in phones:
                PatientTelecom.objects.create(patient=patient, **t)
                changes["telecom"] = True
        return bool(changes)

    def _document(
        self, i: int, doc: inbound.DocumentIn, target: UUID | None
    ) -> tuple[str, UUID]:
        fields = doc.fields
        self.patient_of[i] = fields["patient_id"]
        doc_type = _doc_type(doc.doc_type)
        if target is not None:
            row = Document.objects.get(pk=target)
            changes = {**fields, "doc_type": doc_type, "sensitivity": doc.labels}
            if not _differs(row, changes):
                return "unchanged", target
            Document.objects.filter(pk=target).update(**changes)
            return "updated", target
        if doc.binary_ref:
            if doc.binary_ref not in self.binaries:
                raise Rejected(f"DocumentReference.content[0].attachment.url "
                               f"{doc.binary_ref} is not a Binary of this bundle",
                               "DocumentReference.content")  # fmt: skip
            doc.content, media = self.binaries[doc.binary_ref]
            doc.media_type = doc.media_type or media
        encounter = (Encounter.objects.select_related("facility")
                     .filter(pk=fields["encounter_id"]).first())  # fmt: skip
        facility = encounter.facility if encounter else self.w.facility
        if facility is None:
            raise Rejected("DocumentReference.context.encounter: no visit or receiving "
                           "facility to file the document under; "
                           f"{self.w.facility_advice}", "DocumentReference.context")  # fmt: skip
        patient = Patient.objects.get(pk=fields["patient_id"])
        author = Provider.objects.filter(pk=fields["author_id"]).first()
        if doc.content is None:
            row = Document.objects.create(
                patient=patient, encounter=encounter, facility=facility,
                doc_type=doc_type, source=DocumentSource.INTERFACE,
                sensitivity=doc.labels, title=fields["title"],
                service_start=fields["service_start"], service_end=fields["service_end"],
                author=author, status=fields["status"],
            )  # fmt: skip
            return "created", row.pk
        ext = {"application/pdf": ".pdf", "text/plain": ".txt"}.get(doc.media_type, "")
        filed = file_document(
            actor=self.w.actor, patient=patient, doc_type=doc_type, data=doc.content,
            filename=doc.filename or f"document{ext or '.bin'}",
            media_type=doc.media_type, facility=facility, encounter=encounter,
            service_start=fields["service_start"], author=author,
            status=fields["status"], source=DocumentSource.INTERFACE,
            sensitivity=doc.labels, title=fields["title"],
        )  # fmt: skip
        return "created", filed.pk


def _differs(row: models.Model, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        current = getattr(row, name)
        if isinstance(value, models.Model):
            value, current = value.pk, getattr(row, f"{name}_id")
        if current != value:
            return True
    return False


def _aliases(entry: Entry, rtype: str, sid: str) -> list[str]:
    out = [f"{rtype}/{sid}"] if sid else []
    if entry.full_url:
        url = entry.full_url
        out.append(url if url.startswith("urn:") else "/".join(url.split("/")[-2:]))
    return out


def _doc_type(concept: dict[str, Any]) -> DocumentType:
    code = concept["code"] or "34133-9"  # LOINC "Summary of episode note"
    found = DocumentType.objects.filter(code=code).first()
    if found is not None:
        return found
    return DocumentType.objects.create(
        system=concept["code_system"] or "http://loinc.org",
        code=code,
        display=(concept["display"] or concept["text"] or code)[:200],
        category=concept["category"],
    )


def _match_provider(fields: dict[str, Any]) -> UUID | None:
    if not fields.get("npi"):
        return None
    return (
        Provider.objects.filter(npi=fields["npi"]).values_list("pk", flat=True).first()
    )


def _match_organization(fields: dict[str, Any]) -> UUID | None:
    """By NPI, else by name and an identifier (with its system) in common."""
    if fields.get("npi"):
        return (Organization.objects.filter(npi=fields["npi"])
                .values_list("pk", flat=True).first())  # fmt: skip
    sent = {(i["system"], i["value"]) for i in fields["identifiers"] if i["system"]}
    if not sent:
        return None
    for pk, idents in Organization.objects.filter(name=fields["name"]).values_list(
        "pk", "identifiers"
    )[:20]:
        if sent & {(i.get("system"), i.get("value")) for i in idents or []}:
            return pk
    return None


SIMPLE: dict[str, tuple[Any, type[models.Model], Any]] = {
    "Organization": (inbound.organization, Organization, _match_organization),
    "Practitioner": (inbound.practitioner, Provider, _match_provider),
    "Encounter": (inbound.encounter, Encounter, None),
    "Condition": (inbound.condition, Condition, None),
    "Procedure": (inbound.procedure, Procedure, None),
}
