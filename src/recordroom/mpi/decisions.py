"""What a specialist decided about two records short of merging them: not a
duplicate (remembered until their identifying data changes), the same person kept
apart (linked), or deferred with a note."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed

from .models import PairDecision, PairDecisionKind, Patient
from .services import in_scope


def fingerprint(a: Patient, b: Patient) -> str:
    """Of both records' identifying data: names, birth date, sex, identifiers."""
    parts = []
    for p in sorted((a, b), key=lambda p: str(p.pk)):
        names = sorted(p.names.values_list("family_key", "given_key"))
        idents = sorted(p.identifiers.values_list("kind", "system", "lookup"))
        parts.append(repr((str(p.pk), names, str(p.birth_date), p.sex, idents)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _ordered(a: Patient, b: Patient) -> tuple[Patient, Patient]:
    return (a, b) if str(a.pk) < str(b.pk) else (b, a)


def decide_pair(
    *, actor: Actor, a: Patient, b: Patient, decision: str, note: str = ""
) -> PairDecision:
    """Record a decision on two records (it replaces an earlier one).

    Raises:
        ValidationFailed: an unknown decision, the same record twice, or no note
            where one is needed (not a duplicate, deferred).
        PermissionDenied: a record outside the actor's facilities.
    """
    if decision not in PairDecisionKind.values:
        raise ValidationFailed(f"unknown decision {decision!r}; use one of "
                               f"{', '.join(PairDecisionKind.values)}", field="decision")  # fmt: skip
    if a.pk == b.pk:
        raise ValidationFailed("a decision needs two different records", field="right")
    if decision != PairDecisionKind.LINKED and not note.strip():
        raise ValidationFailed("say why (it is shown to whoever meets this pair next)",
                               field="note")  # fmt: skip
    for p in (a, b):
        if not in_scope(actor.user, p):
            raise PermissionDenied(f"patient {p.pk} has no record at your facilities",
                                   patient_id=p.pk)  # fmt: skip
    left, right = _ordered(a, b)
    with transaction.atomic():
        PairDecision.objects.filter(left=left, right=right, current=True).update(
            current=False
        )
        row = PairDecision.objects.create(
            left=left, right=right, decision=decision, note=note.strip()[:500],
            fingerprint=fingerprint(left, right), decided_at=timezone.now(),
            decided_by=actor.username)  # fmt: skip
        detail = {"decision": decision, "note": note, "other": None}
        record_many([EventSpec(actor, actions.MPI_PAIR_DECISION.name, p, obj=row,
                               detail={**detail, "other": str(o.pk)})
                     for p, o in ((left, right), (right, left))])  # fmt: skip
    return row


def standing(a: Any, b: Any) -> PairDecision | None:
    """The current decision on two records, if it still holds: a "not a duplicate"
    lapses when either record's identifying data has changed since."""
    left_id, right_id = sorted((a, b), key=str)
    row = (PairDecision.objects.filter(left_id=left_id, right_id=right_id, current=True)
           .select_related("left", "right").first())  # fmt: skip
    if row is None:
        return None
    if (
        row.decision == PairDecisionKind.NOT_DUPLICATE
        and row.fingerprint != fingerprint(row.left, row.right)
    ):
        return None
    return row


def linked_to(patient: Patient) -> list[Any]:
    """Records decided to be the same person, kept apart (FHIR link seealso)."""
    rows = PairDecision.objects.filter(decision=PairDecisionKind.LINKED, current=True)
    return [r.right_id for r in rows.filter(left=patient)] + [
        r.left_id for r in rows.filter(right=patient)
    ]
