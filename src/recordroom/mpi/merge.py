"""Merging a duplicate record into its survivor, and undoing it exactly.

A merge moves every registered row (relations.py) from the retired record to the
survivor, moves the retired record's identifiers (its old MRNs end, so an old MRN
still finds the chart), adds its names to the survivor as aliases, and marks the
retired record `merged_into` the survivor -- kept, never deleted. What moved is
written on the PatientMerge row, so `unmerge` puts back exactly that.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, PermissionDenied, ValidationFailed

from .merge_rules import judge, merge_blockers
from .models import (
    IdentifierKind,
    NameUse,
    Patient,
    PatientIdentifier,
    PatientMerge,
    PatientName,
)
from .relations import relations
from .services import in_scope

__all__ = ["CHOOSABLE", "merge_blockers", "merge_patients", "may_override", "unmerge"]

# Demographic fields whose surviving value the specialist chooses.
CHOOSABLE = ("birth_date", "sex", "gender_identity", "deceased_date")
# The model permission (granted to the HIM manager role) to merge past a guard.
OVERRIDE_PERMISSION = "mpi.override_merge_rules"


def may_override(user: Any) -> bool:
    """Whether the user's roles allow merging past a guard (never a superuser flag
    alone: roles are the only source of rights)."""
    from django.contrib.auth.models import Permission

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    app, codename = OVERRIDE_PERMISSION.split(".")
    return Permission.objects.filter(group__user=user, content_type__app_label=app,
                                     codename=codename).exists()  # fmt: skip


def merge_patients(
    *,
    actor: Actor,
    survivor: Patient,
    retired: Patient,
    reason: str,
    source: str = "ui",
    take: tuple[str, ...] = (),
    override: str = "",
) -> PatientMerge:
    """Merge `retired` into `survivor`; `take` names the demographic fields whose
    value comes from the retired record. `override` is a manager's reason to merge
    past the guards (twins, junior/senior, two SSNs); it is kept on the merge and
    in its audit event.

    Raises:
        ValidationFailed: no reason, or an unknown field in `take`.
        PermissionDenied: either record is outside the actor's facilities, or an
            override by someone whose role may not override.
        Conflict: a rule forbids this merge and no override was given.
    """
    if not reason.strip():
        raise ValidationFailed("say why these records are one person", field="reason")
    unknown = set(take) - set(CHOOSABLE)
    if unknown:
        raise ValidationFailed(f"cannot choose {', '.join(sorted(unknown))}; choosable: "
                               f"{', '.join(CHOOSABLE)}", field="take")  # fmt: skip
    for p in (survivor, retired):
        if not in_scope(actor.user, p):
            raise PermissionDenied(f"patient {p.pk} has no record at your facilities",
                                   patient_id=p.pk)  # fmt: skip
    with transaction.atomic():
        survivor = Patient.objects.select_for_update().get(pk=survivor.pk)
        retired = Patient.objects.select_for_update().get(pk=retired.pk)
        overridden = _check_rules(actor, survivor, retired, override)
        moved: dict[str, list[str]] = {}
        for rel in relations():
            rows = rel.model._default_manager.filter(**{rel.field: retired})
            ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
            if ids:
                rows.update(**{rel.field: survivor})
                moved[rel.label] = ids
        restore = {
            "fields": {f: _jsonable(getattr(survivor, f)) for f in (*CHOOSABLE, "updated_at")},
            "retired_updated_at": _jsonable(retired.updated_at),
            "identifiers": _move_identifiers(survivor, retired),
            "aliases": _copy_names(survivor, retired),
        }  # fmt: skip
        changes = {f: getattr(retired, f) for f in take}
        Patient.objects.filter(pk=survivor.pk).update(
            **changes, updated_at=timezone.now()
        )
        Patient.objects.filter(pk=retired.pk).update(merged_into=survivor,
                                                     updated_at=timezone.now())  # fmt: skip
        merge = PatientMerge.objects.create(
            survivor=survivor, retired=retired, merged_at=timezone.now(),
            merged_by=actor.username, source=source, reason=reason.strip()[:500],
            moved=moved, restore=restore, overridden=overridden,
            override_reason=override.strip()[:500] if overridden else "",
        )  # fmt: skip
        detail = {"merge": str(merge.pk), "survivor": str(survivor.pk),
                  "retired": str(retired.pk), "source": source, "reason": reason,
                  "moved": {k: len(v) for k, v in moved.items()}, "took": list(take)}  # fmt: skip
        if overridden:
            detail["override"] = {"rules": overridden, "reason": override.strip()}
        record_many([EventSpec(actor, actions.PATIENT_MERGE.name, p, obj=merge,
                               detail=detail) for p in (survivor, retired)])  # fmt: skip
    return merge


def _check_rules(
    actor: Actor, survivor: Patient, retired: Patient, override: str
) -> list[str]:
    """The guards this merge overrides (empty: none stood in its way); raises when a
    rule forbids it and it may not be overridden."""
    verdict = judge(survivor, retired)
    if verdict.hard:
        raise Conflict("not merged: " + "; ".join(b.text for b in verdict.hard))
    guards = [b.text for b in verdict.guards]
    if not guards:
        return []
    if not override.strip():
        raise Conflict("not merged: " + "; ".join(guards) + " (an HIM manager may "
                       "override this with a reason)")  # fmt: skip
    if not may_override(actor.user):
        raise PermissionDenied("not merged: " + "; ".join(guards) + "; only an HIM "
                               "manager may override the merge rules")  # fmt: skip
    return guards


def _move_identifiers(survivor: Patient, retired: Patient) -> list[dict[str, Any]]:
    """Move the retired record's identifiers (an MRN or enterprise id ends today:
    it is an old number of the survivor now); one the survivor already has stays."""
    have = set(survivor.identifiers.values_list("kind", "system", "lookup"))
    today = date.today()
    out = []
    for ident in retired.identifiers.all():
        if (ident.kind, ident.system, ident.lookup) in have:
            continue
        out.append({"id": ident.pk, "period_end": _jsonable(ident.period_end)})
        end = ident.period_end
        if end is None and ident.kind in (
            IdentifierKind.MRN,
            IdentifierKind.ENTERPRISE,
        ):
            end = today
        PatientIdentifier.objects.filter(pk=ident.pk).update(patient=survivor,
                                                             period_end=end)  # fmt: skip
    return out


def _copy_names(survivor: Patient, retired: Patient) -> list[int]:
    """The retired record's names, as aliases of the survivor (searchable)."""
    have = set(survivor.names.values_list("family_key", "given_key"))
    made = []
    for n in retired.names.all():
        if (n.family_key, n.given_key) in have:
            continue
        have.add((n.family_key, n.given_key))
        alias = PatientName.objects.create(
            patient=survivor, use=NameUse.ALIAS, family=n.family, given=n.given,
            middle=n.middle, prefix=n.prefix, suffix=n.suffix,
            family_key=n.family_key, given_key=n.given_key,
        )  # fmt: skip
        made.append(alias.pk)
    return made


def unmerge(*, actor: Actor, merge: PatientMerge, reason: str) -> None:
    """Put back exactly what `merge` moved and changed.

    Raises:
        ValidationFailed: no reason.
        PermissionDenied: either record is outside the actor's facilities.
        Conflict: the merge was already undone, or the retired record was merged
            again since (undo that one first).
    """
    if not reason.strip():
        raise ValidationFailed("say why the merge is undone", field="reason")
    for pid in (merge.survivor_id, merge.retired_id):
        if not in_scope(actor.user, Patient.objects.get(pk=pid)):
            raise PermissionDenied(f"patient {pid} has no record at your facilities")
    with transaction.atomic():
        merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at:
            raise Conflict(
                f"merge {merge.pk} was already undone on {merge.undone_at:%Y-%m-%d}"
            )
        retired = Patient.objects.select_for_update().get(pk=merge.retired_id)
        if retired.merged_into_id != merge.survivor_id:
            raise Conflict(
                f"record {retired.pk} is no longer merged into {merge.survivor_id}"
            )
        by_label = {rel.label: rel for rel in relations()}
        for label, ids in merge.moved.items():
            rel = by_label[label]
            rel.model._default_manager.filter(pk__in=ids).update(**{rel.field: retired})
        for item in merge.restore["identifiers"]:
            PatientIdentifier.objects.filter(pk=item["id"]).update(
                patient=retired, period_end=item["period_end"])  # fmt: skip
        PatientName.objects.filter(pk__in=merge.restore["aliases"],
                                   patient_id=merge.survivor_id).delete()  # fmt: skip
        Patient.objects.filter(pk=merge.survivor_id).update(**merge.restore["fields"])
        Patient.objects.filter(pk=retired.pk).update(
            merged_into=None, updated_at=merge.restore["retired_updated_at"]
        )
        PatientMerge.objects.filter(pk=merge.pk).update(
            undone_at=timezone.now(), undone_by=actor.username, undo_reason=reason[:500]
        )
        detail = {"merge": str(merge.pk), "reason": reason}
        record_many([EventSpec(actor, actions.PATIENT_UNMERGE.name, pid, obj=merge,
                               detail=detail) for pid in (merge.survivor_id, retired.pk)])  # fmt: skip


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
