"""Inbound merges under the same rules as a person's: a merge sent by another
system (HL7 ADT^A40) that the rules would refuse, or whose two records disagree on
birth date and name, is held for review -- with an overlay sign on the chart --
until a specialist approves it (the merge runs) or rejects it (R-INT-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rapidfuzz.distance import JaroWinkler

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, PermissionDenied, ValidationFailed

from .merge import merge_patients
from .merge_rules import judge, same_given
from .models import (
    HeldMerge,
    HeldMergeStatus,
    OverlayFlag,
    OverlayStatus,
    Patient,
    PatientMerge,
)
from .services import in_scope

HELD_MERGE = "held-merge"  # the overlay sign's kind


@dataclass(frozen=True)
class Inbound:
    """Who asked for a merge from outside, for the hold and its audit event."""

    source: str  # hl7
    sender: str
    control_id: str


def inbound_reasons(survivor: Patient, retired: Patient) -> list[str]:
    """Why an inbound merge of these two records needs a person's review (empty:
    apply it). A rule nobody may override (a record already retired) is left to
    the merge itself, which refuses it."""
    reasons = [b.text for b in judge(survivor, retired).guards]
    born = birth_disagreement(survivor.birth_date, retired.birth_date)
    if born and not names_alike(survivor, retired):
        reasons.append(f"{born}, and no name of one record is like a name of the "
                       "other: two people, or an overlay in the making")  # fmt: skip
    return reasons


def birth_disagreement(a: date | None, b: date | None) -> str:
    """'birth dates 1960-03-01 and 1981-07-14' when they are further apart than
    RECORDROOM_HL7_MERGE_BIRTH_DAYS and not one mistyped; else ''."""
    if a is None or b is None or a == b:
        return ""
    if abs((a - b).days) <= settings.HL7_MERGE_BIRTH_DAYS or _date_typo(a, b):
        return ""
    return f"birth dates {a.isoformat()} and {b.isoformat()}"


def _date_typo(a: date, b: date) -> bool:
    """One digit, two neighbouring digits swapped, or day and month swapped."""
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return True
    x, y = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    diff = [i for i in range(8) if x[i] != y[i]]
    if len(diff) == 1:
        return True
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]])  # fmt: skip


def names_alike(a: Patient, b: Patient) -> bool:
    """Whether any name of one record (legal, previous, alias) is like a name of
    the other: surnames at least RECORDROOM_HL7_MERGE_NAME_SIMILARITY alike, and
    first names the same name (nickname, initial, typo) or as alike."""
    least = settings.HL7_MERGE_NAME_SIMILARITY
    for x in a.names.all():
        for y in b.names.all():
            if JaroWinkler.similarity(x.family_key, y.family_key) < least:
                continue
            if same_given(x.given_key, y.given_key) or (
                JaroWinkler.similarity(x.given_key, y.given_key) >= least
            ):
                return True
    return False


def hold_merge(
    *, actor: Actor, survivor: Patient, retired: Patient, reasons: list[str],
    inbound: Inbound,
) -> tuple[HeldMerge, bool]:  # fmt: skip
    """Hold an inbound merge for review, in the caller's transaction; a repeat of
    one already pending holds nothing new. Returns the hold and whether it is new."""
    held = HeldMerge.objects.filter(survivor=survivor, retired=retired,
                                    status=HeldMergeStatus.PENDING).first()  # fmt: skip
    if held is not None:
        return held, False
    held = HeldMerge.objects.create(
        survivor=survivor, retired=retired, source=inbound.source,
        sender=inbound.sender[:200], control_id=inbound.control_id[:200],
        reasons=reasons, held_at=timezone.now(),
    )  # fmt: skip
    summary = (f"Inbound merge held for review: {inbound.source.upper()} "
               f"{inbound.control_id} from {inbound.sender} would merge another "
               f"record into this chart: {'; '.join(reasons)}")  # fmt: skip
    flag, made = OverlayFlag.objects.get_or_create(
        patient=survivor, kind=HELD_MERGE, status=OverlayStatus.OPEN,
        defaults={"summary": summary[:500], "evidence": {"held_merges": []}},
    )  # fmt: skip
    flag.evidence = {**flag.evidence, "held_merges": [*flag.evidence.get(
        "held_merges", []), str(held.pk)]}  # fmt: skip
    flag.save(update_fields=["evidence"])
    detail = {"held_merge": str(held.pk), "survivor": str(survivor.pk),
              "retired": str(retired.pk), "reasons": reasons, "source": inbound.source,
              "sender": inbound.sender, "control_id": inbound.control_id,
              "overlay_flag": str(flag.pk)}  # fmt: skip
    record_many([EventSpec(actor, actions.MPI_MERGE_HOLD.name, p, obj=held,
                           detail=detail) for p in (survivor, retired)])  # fmt: skip
    return held, True


def approve_held_merge(
    *, actor: Actor, held: HeldMerge, reason: str, override: str = ""
) -> PatientMerge:
    """Run the held merge (as `actor`, through the merge rules: a guard still
    needs a manager's override) and close the hold and its sign.

    Raises:
        ValidationFailed: no reason.
        Conflict: the hold was decided already, or a rule refuses the merge.
        PermissionDenied: a record outside the actor's facilities, or an override
            the actor's role may not give.
    """
    if not reason.strip():
        raise ValidationFailed("say why the inbound merge is right", field="reason")
    with transaction.atomic():
        held = _pending(held)
        merge = merge_patients(
            actor=actor, survivor=held.survivor, retired=held.retired,
            source=held.source, override=override,
            reason=f"held {held.source.upper()} merge {held.control_id} from "
                   f"{held.sender}, approved: {reason.strip()}",
        )  # fmt: skip
        _decide(actor, held, HeldMergeStatus.MERGED, reason, merge)
    return merge


def reject_held_merge(*, actor: Actor, held: HeldMerge, note: str) -> None:
    """Keep the two records apart: the hold is closed, and its sign with it.

    Raises:
        ValidationFailed: no note.
        Conflict: the hold was decided already.
        PermissionDenied: a record outside the actor's facilities.
    """
    if not note.strip():
        raise ValidationFailed("say why the records are not merged", field="note")
    with transaction.atomic():
        held = _pending(held)
        for p in (held.survivor, held.retired):
            if not in_scope(actor.user, p):
                raise PermissionDenied(f"patient {p.pk} has no record at your "
                                       "facilities", patient_id=p.pk)  # fmt: skip
        _decide(actor, held, HeldMergeStatus.REJECTED, note, None)


def _pending(held: HeldMerge) -> HeldMerge:
    held = (HeldMerge.objects.select_for_update().select_related("survivor", "retired")
            .get(pk=held.pk))  # fmt: skip
    if held.status != HeldMergeStatus.PENDING:
        raise Conflict(f"this inbound merge was {held.get_status_display().lower()} "
                       f"by {held.decided_by} on {held.decided_at:%Y-%m-%d}")  # fmt: skip
    return held


def _decide(
    actor: Actor, held: HeldMerge, status: str, note: str, merge: PatientMerge | None
) -> None:
    now = timezone.now()
    HeldMerge.objects.filter(pk=held.pk).update(
        status=status, decided_at=now, decided_by=actor.username[:150],
        note=note.strip()[:500], merge=merge)  # fmt: skip
    if not HeldMerge.objects.filter(survivor=held.survivor_id,
                                    status=HeldMergeStatus.PENDING).exists():  # fmt: skip
        verdict = "approved and merged" if merge else "rejected"
        OverlayFlag.objects.filter(
            patient=held.survivor_id, kind=HELD_MERGE, status=OverlayStatus.OPEN
        ).update(status=OverlayStatus.DISMISSED, resolved_at=now,
                 resolved_by=actor.username[:150],
                 note=f"inbound merge {verdict}: {note.strip()}"[:500])  # fmt: skip
    detail = {"held_merge": str(held.pk), "decision": status, "note": note.strip(),
              **({"merge": str(merge.pk)} if merge else {})}  # fmt: skip
    record_many([EventSpec(actor, actions.MPI_MERGE_HOLD_DECIDE.name, p, obj=held,
                           detail=detail) for p in (held.survivor_id, held.retired_id)])  # fmt: skip
