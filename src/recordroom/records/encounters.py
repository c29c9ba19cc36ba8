"""Changing an encounter after it was recorded: transfer, discharge, cancellation and
their reversals, each one audited with what it was before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recordroom.audit.services import record
from recordroom.kernel import actions, sqlrows, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed

from . import hooks
from .models import (
    Disposition,
    Encounter,
    EncounterClass,
    EncounterStatus,
    PatientClass,
    Provider,
)

S = EncounterStatus
# status -> the statuses it may become (FHIR Encounter.status, the usual ADT flow:
# A01/A05 admit, A03 discharge, A11 cancel admit, A13 cancel discharge)
TRANSITIONS: dict[str, set[str]] = {
    S.PLANNED: {S.IN_PROGRESS, S.FINISHED, S.CANCELLED, S.ENTERED_IN_ERROR},
    S.IN_PROGRESS: {S.FINISHED, S.CANCELLED, S.ENTERED_IN_ERROR},
    S.FINISHED: {S.IN_PROGRESS, S.ENTERED_IN_ERROR},
    S.CANCELLED: {S.PLANNED, S.IN_PROGRESS, S.ENTERED_IN_ERROR},
    S.ENTERED_IN_ERROR: set(),
}
CHANGEABLE = {
    "status",
    "encounter_class",
    "patient_class",
    "location",
    "attending",
    "admitting",
    "admit_at",
    "discharge_at",
    "discharge_disposition",
    "unlisted_providers",
}


# The codes each choice allows, as sets: `X.values` builds a list on every call.
_CLASSES = frozenset(EncounterClass.values)
_PATIENT_CLASSES = frozenset(PatientClass.values) | {""}
_DISPOSITIONS = frozenset(Disposition.values)
_STATUSES = frozenset(S.values)


def update_encounter(
    *, actor: Actor, encounter: Encounter, changes: dict[str, Any]
) -> list[str]:
    """Change an encounter's status, class, location, providers or times.

    Only values that differ are written; nothing changed writes nothing (no audit
    event). Returns the names of the fields changed.

    Raises:
        ValidationFailed: an unknown field, class or disposition, a discharge before
            the admission, or a finished encounter without a discharge time.
        Conflict: the status cannot follow the current one (a finished encounter is
            not cancelled: its discharge is cancelled first).
    """
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))} of an encounter; changeable: "
            f"{', '.join(sorted(CHANGEABLE))}"
        )
    _check_values(changes)
    with unit.atomic():
        locked = _locked(encounter)
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        if not changed:
            return []
        _check_status(locked, changed)
        before = {k: _plain(getattr(locked, k)) for k in changed}
        for key, value in changed.items():
            setattr(locked, key, value)
        _check_times(locked)
        # As save(update_fields=changed), in plain SQL (kernel.sqlrows).
        attnames = [Encounter._meta.get_field(k).attname for k in changed]  # type: ignore[union-attr]
        sqlrows.update(
            Encounter, [locked.pk], **{a: getattr(locked, a) for a in attnames}
        )
        record(
            actor=actor,
            action=actions.ENCOUNTER_UPDATE.name,
            patient=locked.patient_id,
            obj=locked,
            detail={
                "account": locked.account_number,
                "before": before,
                "after": {k: _plain(v) for k, v in changed.items()},
            },
        )
    # The caller's instance now holds what is stored, as refresh_from_db() would
    # make it, from the row in hand (setting a key clears its cached object).
    for field in Encounter._meta.concrete_fields:
        setattr(encounter, field.attname, getattr(locked, field.attname))
    if changed.keys() & _CHART_FIELDS:
        hooks.chart_changed(
            actor=actor, encounter_id=encounter.pk, event=hooks.ENCOUNTER
        )
    return sorted(changed)


# What chart completion's rules look at: a discharge (A03, the UI), its undoing,
# the times deadlines count from, and who is responsible.
_CHART_FIELDS = {
    "status",
    "discharge_at",
    "admit_at",
    "attending",
    "admitting",
    "encounter_class",
}


def _locked(encounter: Encounter) -> Encounter:
    """The encounter as stored, locked for this transaction on PostgreSQL (as
    select_for_update().get(); SQLite's transaction holds the write lock already).

    Plain SQL (kernel.sqlrows): the ORM spent 0.35 ms of CPU building the query;
    the HL7 listener runs this for every discharge and transfer.
    """
    found = sqlrows.fetch_first(
        f"SELECT {sqlrows.columns(Encounter)} FROM {Encounter._meta.db_table} "  # noqa: S608
        f"WHERE id = %s{sqlrows.for_update(Encounter)}",
        [sqlrows.param(Encounter, "id", encounter.pk)],
        Encounter,
    )
    if found is None:
        raise Encounter.DoesNotExist("Encounter matching query does not exist.")
    return found


# field -> (the codes it allows, what it is called, the codes named in a refusal)
_CODED = {
    "encounter_class": (_CLASSES, "encounter class", EncounterClass.values),
    "patient_class": (_PATIENT_CLASSES, "patient class (HL7 table 0004)",
                      PatientClass.values),
}  # fmt: skip


def _check_values(changes: dict[str, Any]) -> None:
    for key, (allowed, what, codes) in _CODED.items():
        value = changes.get(key)
        if value is not None and value not in allowed:
            raise ValidationFailed(
                f"unknown {what} {value!r}; use one of {', '.join(codes)}", field=key
            )
    unlisted = changes.get("unlisted_providers")
    if unlisted is not None and not isinstance(unlisted, dict):
        raise ValidationFailed(
            "unlisted providers are kept by role, as a mapping",
            field="unlisted_providers",
        )
    disposition = changes.get("discharge_disposition")
    if disposition and disposition not in _DISPOSITIONS:
        raise ValidationFailed(
            f"unknown discharge disposition {disposition!r}; use one of "
            + ", ".join(Disposition.values),
            field="discharge_disposition",
        )
    status = changes.get("status")
    if status is not None and status not in _STATUSES:
        raise ValidationFailed(f"unknown encounter status {status!r}", field="status")
    for key in ("attending", "admitting"):
        value = changes.get(key)
        if value is not None and not isinstance(value, Provider):
            raise ValidationFailed(f"{key} must be a provider", field=key)


def _check_status(encounter: Encounter, changed: dict[str, Any]) -> None:
    if "status" not in changed:
        if encounter.status == S.ENTERED_IN_ERROR:
            raise Conflict(
                f"encounter {encounter.account_number} was entered in error and "
                "cannot change",
                field="status",
            )
        return
    before, after = encounter.status, changed["status"]
    if after not in TRANSITIONS[S(before)]:
        hint = (
            "; cancel the discharge first"
            if before == S.FINISHED and after == S.CANCELLED
            else ""
        )
        raise Conflict(
            f"encounter {encounter.account_number} is {before} and cannot become "
            f"{after}{hint}",
            field="status",
        )


def _check_times(encounter: Encounter) -> None:
    discharge: datetime | None = encounter.discharge_at
    if encounter.status == S.FINISHED and discharge is None:
        raise ValidationFailed(
            f"a finished encounter needs its discharge time (account "
            f"{encounter.account_number})",
            field="discharge_at",
        )
    admit: datetime | None = encounter.admit_at
    if discharge is not None and admit is not None and discharge < admit:
        raise ValidationFailed(
            f"discharge {discharge:%Y-%m-%d %H:%M} is before admission "
            f"{admit:%Y-%m-%d %H:%M}",
            field="discharge_at",
        )


def _plain(value: Any) -> Any:
    """A value as the audit detail keeps it: providers by NPI, times in ISO 8601."""
    if isinstance(value, Provider):
        return value.npi or str(value.pk)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
