"""Whether a proposal may file itself: the auto-file rule that applies (the most
specific of source and type, source, type, default), its thresholds, and anything that
flags the document."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from recordroom.audit.services import record
from recordroom.capture.models import AutoFileRule, CaptureSource
from recordroom.capture.types import Decision, Proposal
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.records.models import DocumentType


def rule_for(source: CaptureSource | None, doc_type: str | None) -> AutoFileRule | None:
    """The most specific rule: (source, type), (source, any), (any, type), default."""
    mine = Q(source=None) | Q(source=source) if source is not None else Q(source=None)
    rules = list(AutoFileRule.objects.filter(mine).select_related("doc_type"))
    src = source.pk if source is not None else None

    def rank(rule: AutoFileRule) -> int | None:
        code = rule.doc_type.code if rule.doc_type is not None else None
        if code is not None and code != doc_type:
            return None
        if rule.source_id is not None and rule.source_id != src:
            return None
        return (2 if rule.source_id else 0) + (1 if code else 0)

    ranked = [(r, rule) for rule in rules if (r := rank(rule)) is not None]
    return max(ranked, key=lambda t: (t[0], t[1].pk))[1] if ranked else None


def set_rule(
    *,
    actor: Actor,
    source: CaptureSource | None = None,
    doc_type: DocumentType | None = None,
    enabled: bool = True,
    min_patient: float,
    min_type: float,
) -> AutoFileRule:
    """Set the rule of one (source, type) pair (blank: any), keeping one row per
    pair; audited as capture.configure.

    Raises:
        ValidationFailed: a threshold outside 0..1.
    """
    for name, value in (("min_patient", min_patient), ("min_type", min_type)):
        if not 0.0 <= value <= 1.0:
            raise ValidationFailed(
                f"{name} is a confidence between 0 and 1, got {value}", field=name
            )
    with transaction.atomic():
        rows = list(
            AutoFileRule.objects.select_for_update()
            .filter(source=source, doc_type=doc_type)
            .order_by("pk")
        )
        rule = rows[0] if rows else AutoFileRule(source=source, doc_type=doc_type)
        before = (
            {
                "enabled": rule.enabled,
                "min_patient": rule.min_patient,
                "min_type": rule.min_type,
            }
            if rows
            else None
        )
        for extra in rows[1:]:
            extra.delete()
        rule.enabled, rule.min_patient, rule.min_type = enabled, min_patient, min_type
        rule.save()
        record(
            actor=actor,
            action=actions.CAPTURE_CONFIGURE.name,
            obj=rule,
            detail={
                "rule": "auto-file",
                "source": source.name if source else "",
                "type": doc_type.code if doc_type else "",
                "before": before,
                "after": {
                    "enabled": enabled,
                    "min_patient": min_patient,
                    "min_type": min_type,
                },
            },
        )
    return rule


def decide(proposal: Proposal, *, source: Any) -> Decision:
    """File automatically only when a rule allows it, both confidences reach its
    thresholds and nothing flags the document; else the reasons it waits."""
    reasons: list[str] = list(proposal.flags)
    rule = rule_for(source, proposal.doc_type.code)
    where = f" for {source.name}" if source is not None else ""
    if rule is None:
        reasons.append(f"no auto-file rule applies{where}")
    elif not rule.enabled:
        reasons.append(f"automatic filing is turned off{where}"
                       + (f" for {proposal.doc_type.code}" if rule.doc_type_id else ""))  # fmt: skip
    if proposal.patient.patient_id is None:
        reasons.append("no patient found")
    elif rule is not None and proposal.patient.confidence < rule.min_patient:
        reasons.append(
            f"patient confidence {proposal.patient.confidence:.3f} is below {rule.min_patient:.3f}"
        )
    if proposal.doc_type.code is None:
        reasons.append("document type unknown")
    elif rule is not None and proposal.doc_type.confidence < rule.min_type:
        reasons.append(
            f"type confidence {proposal.doc_type.confidence:.3f} is below {rule.min_type:.3f}"
        )
    return Decision(auto_file=not reasons, reasons=reasons)
