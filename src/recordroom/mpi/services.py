"""Patient index services: register, change demographics, search, scope."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from recordroom.audit.services import record
from recordroom.kernel import actions, crypto, sqlrows, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.kernel.text import search_key

from .display import identifier_label
from .models import (
    US_CORE_FIELDS,
    Facility,
    IdentifierKind,
    NameUse,
    Patient,
    PatientAddress,
    PatientIdentifier,
    PatientName,
    PatientTelecom,
    Sex,
)
from .search_keys import sound_key

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
_SSN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")


# The codes each choice allows, as sets: `X.values` builds a list on every call.
_NAME_USES = frozenset(NameUse.values)
_IDENTIFIER_KINDS = frozenset(IdentifierKind.values)
_SEXES = frozenset(Sex.values)


def identifier_lookup(value: str) -> str:
    """The exact-match key of an identifier: upper case, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def ssn_lookup(ssn: str) -> str:
    return crypto.blind_index(re.sub(r"\D", "", ssn), purpose="ssn")


# --- writing -------------------------------------------------------------------------


@dataclass
class NameIn:
    family: str
    given: str = ""
    middle: str = ""
    suffix: str = ""
    prefix: str = ""
    use: str = NameUse.LEGAL
    period_start: date | None = None
    period_end: date | None = None


@dataclass
class IdentifierIn:
    kind: str
    value: str
    system: str = ""
    facility: Facility | None = None
    period_start: date | None = None
    period_end: date | None = None
    type_code: str = ""  # the sender's type (HL7 table 0203), when it says more


@dataclass
class PatientIn:
    names: list[NameIn]
    birth_date: date | None = None
    sex: str = Sex.UNKNOWN
    gender_identity: str = ""
    deceased_date: date | None = None
    identifiers: list[IdentifierIn] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    telecoms: list[dict[str, Any]] = field(default_factory=list)
    is_vip: bool = False
    is_employee: bool = False
    is_restricted: bool = False
    # US Core demographics by field name (race, ethnicity, birth_sex, ...): only
    # those the sender gave, so an update leaves the others as they are.
    us_core: dict[str, Any] = field(default_factory=dict)


def build_name(patient: Patient, n: NameIn) -> PatientName:
    family = (n.family or "").strip()
    if not search_key(family):
        raise ValidationFailed(
            f"a family name with at least one letter is required, got {n.family!r}",
            field="names.family",
        )
    if n.use not in _NAME_USES:
        raise ValidationFailed(f"unknown name use {n.use!r}", field="names.use")
    return sqlrows.new(
        PatientName,
        patient=patient,
        use=n.use,
        family=family,
        given=n.given.strip(),
        middle=n.middle.strip(),
        suffix=n.suffix.strip(),
        prefix=n.prefix.strip(),
        family_key=(family_key := search_key(family)),
        family_sound=sound_key(family_key),
        given_key=search_key(n.given),
        period_start=n.period_start,
        period_end=n.period_end,
    )


def build_identifier(patient: Patient, i: IdentifierIn) -> PatientIdentifier:
    if i.kind not in _IDENTIFIER_KINDS:
        raise ValidationFailed(
            f"unknown identifier kind {i.kind!r}; use one of {', '.join(IdentifierKind.values)}",
            field="identifiers.kind",
        )
    value = (i.value or "").strip()
    if not value:
        raise ValidationFailed("an identifier needs a value", field="identifiers.value")
    system = i.system or (i.facility.mrn_system if i.facility else "")
    if i.kind == IdentifierKind.MRN and i.facility is None:
        raise ValidationFailed(
            "an MRN needs its facility", field="identifiers.facility"
        )
    row = sqlrows.new(
        PatientIdentifier,
        patient=patient,
        kind=i.kind,
        system=system,
        facility=i.facility,
        period_start=i.period_start,
        period_end=i.period_end,
        type_code=i.type_code[:10],
    )
    if i.kind == IdentifierKind.SSN:
        digits = re.sub(r"\D", "", value)
        if not _SSN.match(value):
            raise ValidationFailed(
                f"an SSN has nine digits (NNN-NN-NNNN), got {len(digits)} digits",
                field="identifiers.value",
            )
        row.system = row.system or SSN_SYSTEM
        row.value = f"***-**-{digits[-4:]}"
        row.last4 = digits[-4:]
        row.lookup = ssn_lookup(digits)
        row.secret = crypto.encrypt(digits.encode(), purpose="ssn")
    else:
        if not system:
            raise ValidationFailed(
                f"identifier {value!r} needs its assigning authority (system)",
                field="identifiers.system",
            )
        row.value = value
        row.lookup = identifier_lookup(value)
    return row


def reveal_ssn(identifier: PatientIdentifier) -> str:
    if identifier.secret is None:
        raise NotFound("this identifier holds no encrypted value")
    return crypto.decrypt(bytes(identifier.secret), purpose="ssn").decode()


def build_patient(
    data: PatientIn, *, created_by: str = "", created_via: str = ""
) -> tuple[Patient, list[Any]]:
    """Validate and build a patient and its parts without saving (bulk loads use it)."""
    if not data.names:
        raise ValidationFailed("a patient needs at least one name", field="names")
    if data.sex not in _SEXES:
        raise ValidationFailed(
            f"unknown sex {data.sex!r}; use one of {', '.join(Sex.values)}", field="sex"
        )
    if data.birth_date and data.birth_date > date.today():
        raise ValidationFailed(
            f"birth date {data.birth_date} is in the future", field="birth_date"
        )
    if data.deceased_date:
        if data.deceased_date > date.today():
            raise ValidationFailed(
                f"deceased date {data.deceased_date} is in the future",
                field="deceased_date",
            )
        if data.birth_date and data.deceased_date < data.birth_date:
            raise ValidationFailed(
                f"deceased date {data.deceased_date} is before the birth date "
                f"{data.birth_date}",
                field="deceased_date",
            )
    patient = sqlrows.new(
        Patient,
        birth_date=data.birth_date,
        sex=data.sex,
        gender_identity=data.gender_identity,
        deceased_date=data.deceased_date,
        is_vip=data.is_vip,
        is_employee=data.is_employee,
        is_restricted=data.is_restricted,
        created_by=created_by[:150],
        created_via=created_via[:16],
        **{k: v for k, v in data.us_core.items() if k in US_CORE_FIELDS},
    )
    parts: list[Any] = [build_name(patient, n) for n in data.names]
    parts += [build_identifier(patient, i) for i in data.identifiers]
    parts += [sqlrows.new(PatientAddress, patient=patient, **a)
              for a in data.addresses]  # fmt: skip
    parts += [sqlrows.new(PatientTelecom, patient=patient, **t)
              for t in data.telecoms]  # fmt: skip
    for part in parts:
        start, end = part.period_start, part.period_end
        if start and end and end < start:
            raise ValidationFailed(
                f"{type(part).__name__.removeprefix('Patient').lower()} period ends "
                f"({end}) before it starts ({start})",
                field="period_end",
            )
    return patient, parts


def register_patient(*, actor: Actor, data: PatientIn) -> Patient:
    """Register a patient with names, identifiers, addresses and telecoms, audited.

    Raises:
        PermissionDenied: an identifier (an MRN) belongs to a facility outside the
            registering user's facilities; nothing is written.
        ValidationFailed: a part is not valid, or an MRN or enterprise id is taken.
    """
    _refuse_facilities_out_of_scope(actor, data.identifiers)
    patient, parts = build_patient(
        data, created_by=actor.username, created_via=actor.channel
    )
    with unit.atomic():
        _refuse_taken_identifiers(
            [p for p in parts if isinstance(p, PatientIdentifier)]
        )
        # One INSERT per table (names, identifiers, addresses, telecoms) in plain
        # SQL, as save() would write each row: the ORM spent about 0.15 ms of CPU
        # building each single-row INSERT (the HL7 listener registers a patient per
        # A04, bench/hl7_adt.py).
        sqlrows.insert([patient])
        sqlrows.insert(parts)
        record(
            actor=actor,
            action=actions.PATIENT_CREATE.name,
            patient=patient,
            obj=patient,
            detail={
                "identifiers": [
                    p.value for p in parts if isinstance(p, PatientIdentifier)
                ]
            },
        )
    return patient


def add_identifiers(
    *, actor: Actor, patient: Patient, identifiers: list[IdentifierIn], why: str = ""
) -> list[PatientIdentifier]:
    """Give an existing patient more identifiers (a new facility's MRN when a
    registration is linked to the record), audited as a demographics change.

    Raises:
        PermissionDenied: an MRN of a facility outside the actor's facilities.
        ValidationFailed: an identifier is not valid or another patient holds it.
    """
    _refuse_facilities_out_of_scope(actor, identifiers)
    rows = [build_identifier(patient, i) for i in identifiers]
    if not rows:
        return []
    with unit.atomic():
        _refuse_taken_identifiers(rows)
        PatientIdentifier.objects.bulk_create(rows)
        record(actor=actor, action=actions.PATIENT_UPDATE.name, patient=patient,
               obj=patient, detail={"identifiers_added": [r.value for r in rows],
                                    "why": why})  # fmt: skip
    return rows


def _refuse_facilities_out_of_scope(
    actor: Actor, identifiers: Iterable[IdentifierIn]
) -> None:
    """A facility's MRNs are registered by its own staff: a user scoped to other
    facilities may not create one (the system, the CLI and interfaces have no scope)."""
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is None:
        return
    for n, ident in enumerate(identifiers):
        facility = ident.facility
        if facility is None or facility.pk in scope:
            continue
        kind = dict(IdentifierKind.choices).get(ident.kind, ident.kind)
        kind = "MRN" if ident.kind == IdentifierKind.MRN else kind
        raise PermissionDenied(
            f"cannot register {kind} {ident.value!r}: facility {facility.code} "
            f"({facility.name}) is outside your facilities; register the patient at "
            f"one of yours or ask an administrator for access to {facility.code}",
            field=f"identifiers.{n}.facility",
        )


def _refuse_taken_identifiers(idents: Iterable[PatientIdentifier]) -> None:
    """A ValidationFailed naming the first MRN or enterprise id that another patient
    holds; one query for all of them."""
    unique = [
        i for i in idents if i.kind in (IdentifierKind.MRN, IdentifierKind.ENTERPRISE)
    ]
    if not unique:
        return
    where, params = [], []
    for ident in unique:
        if ident.patient.pk:
            where.append('("system" = %s AND lookup = %s AND patient_id <> %s)')
            pk = sqlrows.param(PatientIdentifier, "patient_id", ident.patient.pk)
            params += [ident.system, ident.lookup, pk]
        else:
            where.append('("system" = %s AND lookup = %s)')
            params += [ident.system, ident.lookup]
    table = PatientIdentifier._meta.db_table
    with sqlrows.cursor(connection) as cursor:
        cursor.execute(
            f'SELECT "system", lookup FROM {table} WHERE {" OR ".join(where)}',  # noqa: S608
            params,
        )
        taken_keys = set(cursor.fetchall())
    for ident in unique:
        if (ident.system, ident.lookup) in taken_keys:
            raise ValidationFailed(
                f"{identifier_label(ident)} already belongs to another patient",
                field="identifiers.value",
            )


def change_legal_name(
    *, actor: Actor, patient: Patient, new: NameIn, effective: date | None = None
) -> PatientName:
    """Record a new legal name; the old one is kept as a previous name (history)."""
    effective = effective or date.today()
    with unit.atomic():
        old = current_legal_names(patient)
        sqlrows.update(
            PatientName,
            [n.pk for n in old],
            use=NameUse.PREVIOUS,
            period_end=effective,
        )
        new.use, new.period_start = NameUse.LEGAL, effective
        name = build_name(patient, new)
        sqlrows.insert([name])
        record(
            actor=actor,
            action=actions.PATIENT_UPDATE.name,
            patient=patient,
            obj=patient,
            detail={
                "change": "legal name",
                "previous": [n.display for n in old],
                "new": name.display,
            },
        )
    return name


def current_legal_names(patient: Patient) -> list[PatientName]:
    """The patient's current legal names (normally one), in the names' order.

    Plain SQL (kernel.sqlrows): the HL7 listener asks this for every update, and the
    ORM spent 0.5 ms of CPU building the query.
    """
    return [
        name
        for (name,) in sqlrows.fetch(
            f"SELECT {sqlrows.columns(PatientName)} "  # noqa: S608
            f"FROM {PatientName._meta.db_table} "
            'WHERE patient_id = %s AND "use" = %s AND period_end IS NULL '
            "ORDER BY period_end, period_start DESC",
            [sqlrows.param(PatientName, "patient_id", patient.pk), NameUse.LEGAL.value],
            PatientName,
        )
    ]


def update_patient(
    *, actor: Actor, patient: Patient, changes: dict[str, Any]
) -> Patient:
    """Change simple demographic fields (sex, birth date, flags ...), audited field by field."""
    allowed = {
        "birth_date",
        "sex",
        "gender_identity",
        "deceased_date",
        "is_vip",
        "is_employee",
        "is_restricted",
        *US_CORE_FIELDS,
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}; changeable: {', '.join(sorted(allowed))}"
        )
    if "sex" in changes and changes["sex"] not in Sex.values:
        raise ValidationFailed(f"unknown sex {changes['sex']!r}", field="sex")
    with unit.atomic():
        before = {k: getattr(patient, k) for k in changes}
        for key, value in changes.items():
            setattr(patient, key, value)
        patient.save()
        record(
            actor=actor,
            action=actions.PATIENT_UPDATE.name,
            patient=patient,
            obj=patient,
            detail={"before": before, "after": changes},
        )
    return patient


# --- reading -------------------------------------------------------------------------


def visible_patients(user: Any) -> QuerySet[Patient]:
    """Patients a user may see: those with an identifier at a facility in scope."""
    scope = user.facility_ids() if user is not None else None
    qs = Patient.objects.all()
    if scope is None:
        return qs
    # A merged (retired) record is seen by whoever sees its survivor: its
    # identifiers moved there.
    return qs.filter(
        Exists(
            PatientIdentifier.objects.filter(
                patient=OuterRef("pk"), facility_id__in=scope
            )
        )
        | Exists(
            PatientIdentifier.objects.filter(
                patient=OuterRef("merged_into"), facility_id__in=scope
            )
        )
    )


def identifiers_in_scope(user: Any) -> QuerySet[PatientIdentifier]:
    """Identifiers a user may see: enterprise-wide ones (SSN, member id) and those of
    facilities in scope. An MRN at another facility would disclose care there (a
    behavioural-health site, say), so it is not shown."""
    qs = PatientIdentifier.objects.select_related("facility")
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return qs
    return qs.filter(Q(facility__isnull=True) | Q(facility_id__in=scope))


def in_scope(user: Any, patient: Patient) -> bool:
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return True
    owners = (
        [patient.pk, patient.merged_into_id] if patient.merged_into_id else [patient.pk]
    )
    return PatientIdentifier.objects.filter(
        patient_id__in=owners, facility_id__in=scope
    ).exists()


def get_patient(*, user: Any, patient_id: Any) -> Patient:
    """A patient with their history prefetched; NotFound / PermissionDenied by name."""
    try:
        patient = Patient.objects.prefetch_related(
            "names",
            Prefetch("identifiers", queryset=identifiers_in_scope(user)),
            "addresses",
            "telecoms",
        ).get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound(f"no patient with id '{patient_id}'") from None
    if not in_scope(user, patient):
        raise PermissionDenied(
            f"patient {patient_id} has no record at your facilities; ask the HIM manager "
            "for access",
            patient_id=patient.pk,
        )
    return patient
