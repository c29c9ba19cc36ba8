"""Turn planned records into model rows and audit events, and write one batch.

Rows are built with the services' own builders and checks (`mpi.services.build_patient`,
`check_labels`, the encounter checks of `record_encounter`) and inserted with one
prepared statement per table (`bulk.insert`); each created patient, encounter,
document and signature gets its audit event in the same transaction (DESIGN.md rule 3).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.labels import check_labels
from recordroom.mpi.models import (
    Patient,
    PatientAddress,
    PatientIdentifier,
    PatientName,
    PatientTelecom,
)
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, build_patient
from recordroom.records.models import (
    Disposition,
    Document,
    DocumentVersion,
    Encounter,
    EncounterClass,
    Signature,
    SignatureMeaning,
    VersionKind,
)

from . import bulk
from .clinical import SIGNED_TYPES, ZONE, DocPlan, EncounterPlan
from .people import RecordPlan
from .places import BY_CODE
from .render import DocJob
from .setup import Scenery

_INSERT_ORDER: tuple[Any, ...] = (
    Patient, PatientName, PatientIdentifier, PatientAddress, PatientTelecom, Encounter,
    Encounter.consultants.through, Document, DocumentVersion, Signature,
)  # fmt: skip
_CLASS = dict(EncounterClass.choices)
_DISPOSITION = dict(Disposition.choices)


@dataclass
class Counts:
    patients: int = 0
    encounters: int = 0
    documents: int = 0
    signatures: int = 0
    unsigned: int = 0
    scanned: int = 0
    duplicates: int = 0
    twins: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _local(moment: Any) -> str:
    return moment.astimezone(ZONE).strftime("%m/%d/%Y %H:%M") if moment else ""


def _dob(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def doc_jobs(seed: int, plans: list[RecordPlan], scenery: Scenery) -> list[DocJob]:
    """What to render for every document of these records, in a fixed order."""
    jobs: list[DocJob] = []
    for rec in plans:
        for enc, doc in _docs_of(rec):
            facility = BY_CODE[enc.facility if enc else doc.facility]
            day = doc.service_start.astimezone(ZONE).date()
            extra: dict[str, Any] = {}
            if enc is not None:
                extra = {
                    "account": enc.account, "admit": _local(enc.admit),
                    "discharge": _local(enc.discharge),
                    "encounter": f"{_CLASS[enc.cls]}, {enc.location}",
                    "disposition": _DISPOSITION.get(enc.disposition, "").lower(),
                    "attending": enc.attending.display,
                }  # fmt: skip
            doc_type = scenery.doc_types[doc.code]
            jobs.append(DocJob(
                key=f"{seed}:{rec.person}:{rec.ordinal}:{doc.index}", code=doc.code,
                title=doc_type.display, facility=facility.name,
                facility_line=f"{facility.address}  Tel {facility.phone}",
                patient=_name_on(rec, day), birth_date=_dob(rec.birth_date), sex=rec.sex,
                age=(day - rec.birth_date).days // 365,
                mrn=rec.mrns.get(facility.code) or next(iter(rec.mrns.values())),
                service=_local(doc.service_start),
                author=doc.author.display if doc.author else "",
                problem=enc.problem.key if enc else "annual",
                labels=(*doc.labels, *doc_type.default_sensitivity),
                preliminary=doc.status == "preliminary", scanned=doc.scanned, **extra,
            ))  # fmt: skip
    return jobs


def _name_on(rec: RecordPlan, day: date) -> str:
    """The name the patient went by that day (papers from before a marriage carry
    the earlier surname, as real ones do)."""
    name = next(
        (n for n in rec.names
         if n.use != "alias" and (n.period_start or date.min) <= day
         and (n.period_end is None or day < n.period_end)),
        rec.legal,
    )  # fmt: skip
    given = " ".join(p for p in (name.given, name.middle) if p)
    return f"{name.family.upper()}, {given}"


def _docs_of(rec: RecordPlan) -> list[tuple[EncounterPlan | None, DocPlan]]:
    pairs: list[tuple[EncounterPlan | None, DocPlan]] = [
        (enc, doc) for enc in rec.encounters for doc in enc.docs
    ]
    return pairs + [(None, doc) for doc in rec.loose_docs]


def _patient_in(rec: RecordPlan, scenery: Scenery) -> PatientIn:
    idents = [
        IdentifierIn(kind="MR", value=value, facility=scenery.facilities[code])
        for code, value in rec.mrns.items()
    ]
    if rec.ssn:
        idents.append(IdentifierIn(kind="SS", value=rec.ssn))
    if rec.member:
        idents.append(
            IdentifierIn(kind="MB", value=rec.member[1], system=rec.member[0])
        )
    return PatientIn(
        names=[NameIn(family=n.family, given=n.given, middle=n.middle, suffix=n.suffix,
                      use=n.use, period_start=n.period_start, period_end=n.period_end)
               for n in rec.names],
        birth_date=rec.birth_date, sex=rec.sex, gender_identity=rec.gender_identity,
        deceased_date=rec.deceased_date, identifiers=idents,
        addresses=[dict(a) for a in rec.addresses], telecoms=[dict(t) for t in rec.telecoms],
        is_vip=rec.is_vip, is_employee=rec.is_employee, is_restricted=rec.is_restricted,
    )  # fmt: skip


@dataclass
class _Batch:
    rows: dict[type, list[Any]] = field(default_factory=lambda: defaultdict(list))
    events: list[EventSpec] = field(default_factory=list)


def count_plans(plans: list[RecordPlan]) -> Counts:
    c = Counts()
    for rec in plans:
        c.patients += 1
        c.duplicates += rec.relation.startswith("duplicate:")
        c.twins += rec.relation == "twin"
        c.encounters += len(rec.encounters)
        for _enc, doc in _docs_of(rec):
            c.documents += 1
            c.scanned += doc.scanned
            c.signatures += doc.signed_at is not None
            c.unsigned += doc.code in SIGNED_TYPES and doc.signed_at is None
    return c


def write_batch(
    *, actor: Actor, plans: list[RecordPlan], stored: list[tuple[str, int]],
    scenery: Scenery,
) -> list[Patient]:  # fmt: skip
    """Insert one batch of records (with their stored documents) in one transaction."""
    batch = _Batch()
    patients: list[Patient] = []
    results = iter(stored)
    for rec in plans:
        patients.append(_add_record(batch, actor, rec, results, scenery))
    with transaction.atomic():
        for model in _INSERT_ORDER:
            bulk.insert(model, batch.rows[model])
        record_many(batch.events)
    return patients


# Who registered a record (the MPI dashboard's duplicate rate by creator): most come
# over the ADT interface; the emergency department's walk-in desk plants more than its
# share of the duplicates, as it does in real registration audits.
CREATORS = (("ADT interface", "hl7"), ("ed-registration", "ui"),
            ("clinic-frontdesk", "ui"), ("partner FHIR feed", "fhir"))  # fmt: skip
FIRST_WEIGHTS, DUPLICATE_WEIGHTS = (6, 2, 1, 1), (3, 5, 1, 1)


def _creator(rec: RecordPlan) -> tuple[str, str]:
    weights = DUPLICATE_WEIGHTS if rec.ordinal else FIRST_WEIGHTS
    slot = (rec.person * 7919 + rec.ordinal * 104_729) % sum(weights)
    for creator, weight in zip(CREATORS, weights, strict=True):
        if slot < weight:
            return creator
        slot -= weight
    return CREATORS[0]


def _add_record(
    batch: _Batch, actor: Actor, rec: RecordPlan, results: Any, scenery: Scenery
) -> Patient:
    creator, via = _creator(rec)
    patient, parts = build_patient(
        _patient_in(rec, scenery), created_by=creator, created_via=via
    )
    batch.rows[Patient].append(patient)
    for part in parts:
        batch.rows[type(part)].append(part)
    idents = [p.value for p in parts if isinstance(p, PatientIdentifier)]
    batch.events.append(EventSpec(
        actor, actions.PATIENT_CREATE.name, patient, patient,
        detail={"identifiers": idents, "source": "demo"},
    ))  # fmt: skip
    encounters: dict[int, Encounter] = {}
    for enc in rec.encounters:
        encounters[enc.ordinal] = _add_encounter(batch, actor, patient, enc, scenery)
    for enc_plan, doc in _docs_of(rec):
        encounter = encounters[enc_plan.ordinal] if enc_plan else None
        facility = scenery.facilities[enc_plan.facility if enc_plan else doc.facility]
        sha, size = next(results)
        _add_document(
            batch, actor, patient, encounter, facility, doc, sha, size, scenery
        )
    return patient


def _add_encounter(
    batch: _Batch, actor: Actor, patient: Patient, enc: EncounterPlan, scenery: Scenery
) -> Encounter:
    providers = scenery.providers
    if enc.cls not in EncounterClass.values or (
        enc.discharge and enc.discharge < enc.admit
    ):
        raise ValidationFailed(  # the checks record_encounter makes
            f"demo encounter {enc.account} is invalid: class {enc.cls!r}, admitted "
            f"{enc.admit:%Y-%m-%d %H:%M}, discharged {enc.discharge}"
        )
    encounter = bulk.new(
        Encounter, patient_id=patient.pk, facility_id=scenery.facilities[enc.facility].pk,
        account_number=enc.account, encounter_class=enc.cls, status=enc.status,
        admit_at=enc.admit, discharge_at=enc.discharge, location=enc.location,
        discharge_disposition=enc.disposition if enc.discharge else "",
        attending_id=providers[enc.attending.npi].pk,
        admitting_id=providers[enc.admitting.npi].pk if enc.admitting else None,
        sensitivity=check_labels(list(enc.labels)),
    )  # fmt: skip
    batch.rows[Encounter].append(encounter)
    through = Encounter.consultants.through
    for consultant in enc.consultants:
        batch.rows[through].append(
            bulk.new(
                through,
                encounter_id=encounter.pk,
                provider_id=providers[consultant.npi].pk,
            )
        )
    batch.events.append(EventSpec(
        actor, actions.ENCOUNTER_CREATE.name, patient, encounter,
        detail={"account": enc.account, "class": enc.cls},
    ))  # fmt: skip
    return encounter


def _add_document(
    batch: _Batch, actor: Actor, patient: Patient, encounter: Encounter | None,
    facility: Any, doc: DocPlan, sha: str, size: int, scenery: Scenery,
) -> None:  # fmt: skip
    doc_type = scenery.doc_types[doc.code]
    labels = check_labels([*doc_type.default_sensitivity, *doc.labels])
    author = scenery.providers[doc.author.npi] if doc.author else None
    document = bulk.new(
        Document, patient_id=patient.pk, encounter_id=encounter.pk if encounter else None,
        facility_id=facility.pk, doc_type_id=doc_type.pk, title=doc_type.display,
        service_start=doc.service_start, author_id=author.pk if author else None,
        status=doc.status, source=doc.source, sensitivity=labels,
    )  # fmt: skip
    slug = doc_type.display.lower().replace(" ", "-").replace(",", "")
    version = bulk.new(
        DocumentVersion, document_id=document.pk, number=1, kind=VersionKind.ORIGINAL.value,
        sha256=sha, size=size, media_type="application/pdf", created_at=doc.created_at,
        created_by=actor.username,
        filename=f"{slug[:150]}-{doc.service_start.astimezone(ZONE):%Y%m%d}.pdf",
    )  # fmt: skip
    batch.rows[Document].append(document)
    batch.rows[DocumentVersion].append(version)
    batch.events.append(EventSpec(
        actor, actions.DOCUMENT_CREATE.name, patient, document,
        detail={"type": doc_type.code, "version": str(version.pk), "sha256": sha,
                "source": doc.source, "sensitivity": labels},
    ))  # fmt: skip
    if doc.signed_at is None:
        return
    assert author is not None
    signature = bulk.new(
        Signature, version_id=version.pk, signer_id=author.pk,
        meaning=SignatureMeaning.AUTHOR.value, signed_at=doc.signed_at, sha256=sha,
    )  # fmt: skip
    batch.rows[Signature].append(signature)
    batch.events.append(EventSpec(
        actor, actions.DOCUMENT_SIGN.name, patient, signature,
        detail={"version": 1, "meaning": SignatureMeaning.AUTHOR, "sha256": sha,
                "bytes": size},
    ))  # fmt: skip
