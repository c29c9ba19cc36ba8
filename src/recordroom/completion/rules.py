"""Deficiency rules as data: the defaults shipped (citing RULES.md), saving a rule as a
new version, and export/import as YAML (one structure; JSON reads the same)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Facility

from .models import DeficiencyRule, DeficiencyRuleVersion, Event, Kind, Responsible

# The fields a rule is made of, as exported (facility by its code).
FIELDS = (
    "code", "name", "cites", "facility", "encounter_classes", "service", "kind",
    "doc_types", "event", "window_before_hours", "window_after_hours", "due_hours",
    "update_doc_types", "update_within_hours", "author_roles", "required_phrases",
    "procedure_codes", "responsible", "in_house", "active",
)  # fmt: skip

H_AND_P, DISCHARGE_SUMMARY, OPERATIVE_REPORT = "34117-2", "18842-5", "11504-8"
# Local document types the defaults need (seeded with them, editable after).
H_AND_P_UPDATE, PRE_ANESTHESIA, POST_ANESTHESIA, VERBAL_ORDER = (
    "HPUPDATE", "ANESPRE", "ANESPOST", "VORDER",
)  # fmt: skip
LOCAL_TYPES = (
    (H_AND_P_UPDATE, "History and physical update note"),
    (PRE_ANESTHESIA, "Pre-anesthesia evaluation"),
    (POST_ANESTHESIA, "Post-anesthesia evaluation"),
    (VERBAL_ORDER, "Verbal order"),
)
_INPATIENT = ["IMP", "SS", "OBSENC"]
_SIGNED_NOTES = [H_AND_P, DISCHARGE_SUMMARY, OPERATIVE_REPORT, "28570-0", "11506-3",
                 "11488-4", "18761-7", H_AND_P_UPDATE, PRE_ANESTHESIA, POST_ANESTHESIA]  # fmt: skip

DEFAULTS: tuple[dict[str, Any], ...] = (
    {"code": "hp-admission", "name": "History and physical within 24 hours after "
     "admission, or 30 days before with an update note", "cites": "R-RC-3",
     "encounter_classes": _INPATIENT, "kind": Kind.MISSING_DOCUMENT,
     "doc_types": [H_AND_P], "event": Event.ADMISSION, "window_before_hours": 720,
     "due_hours": 24, "update_doc_types": [H_AND_P_UPDATE], "update_within_hours": 24,
     "responsible": Responsible.ATTENDING, "in_house": True},
    {"code": "operative-report", "name": "Operative report immediately after surgery",
     "cites": "R-RC-4", "kind": Kind.MISSING_DOCUMENT,
     "doc_types": [OPERATIVE_REPORT], "event": Event.PROCEDURE_END,
     "window_before_hours": 24, "due_hours": 0, "responsible": Responsible.SURGEON,
     "in_house": True},
    {"code": "pre-anesthesia", "name": "Pre-anesthesia evaluation within 48 hours "
     "before surgery", "cites": "R-RC-5", "kind": Kind.MISSING_DOCUMENT,
     "doc_types": [PRE_ANESTHESIA], "event": Event.PROCEDURE_START,
     "window_before_hours": 48, "window_after_hours": 0, "due_hours": 0,
     "responsible": Responsible.SURGEON, "in_house": True},
    {"code": "post-anesthesia", "name": "Post-anesthesia evaluation within 48 hours "
     "after surgery", "cites": "R-RC-5", "kind": Kind.MISSING_DOCUMENT,
     "doc_types": [POST_ANESTHESIA], "event": Event.PROCEDURE_END,
     "window_before_hours": 0, "due_hours": 48, "responsible": Responsible.SURGEON,
     "in_house": True},
    {"code": "discharge-summary", "name": "Discharge summary after discharge (set the "
     "days your medical staff bylaws allow)", "cites": "R-RC-6",
     "encounter_classes": _INPATIENT, "kind": Kind.MISSING_DOCUMENT,
     "doc_types": [DISCHARGE_SUMMARY], "event": Event.DISCHARGE, "due_hours": 30 * 24,
     "responsible": Responsible.ATTENDING},
    {"code": "discharge-summary-diagnoses", "name": "A discharge summary names the "
     "discharge diagnoses and the disposition", "cites": "R-RC-6",
     "kind": Kind.INCOMPLETE, "doc_types": [DISCHARGE_SUMMARY],
     "event": Event.DISCHARGE, "due_hours": 30 * 24,
     "required_phrases": ["discharge diagnos|final diagnos", "disposition"],
     "responsible": Responsible.AUTHOR},
    {"code": "signature", "name": "Notes authenticated by their author", "cites":
     "R-RC-1", "kind": Kind.SIGNATURE, "doc_types": _SIGNED_NOTES,
     "event": Event.DISCHARGE, "due_hours": 30 * 24, "responsible": Responsible.AUTHOR},
    {"code": "cosignature", "name": "Notes by residents, students and advanced "
     "practice providers co-signed by the attending", "cites": "R-RC-1",
     "kind": Kind.COSIGNATURE, "doc_types": _SIGNED_NOTES, "event": Event.DISCHARGE,
     "due_hours": 30 * 24, "author_roles": ["resident", "student", "app"],
     "responsible": Responsible.ATTENDING},
    {"code": "verbal-order", "name": "Verbal orders authenticated by the ordering "
     "practitioner (VERBAL_ORDER_AUTH_HOURS: 48)", "cites": "R-RC-2",
     "kind": Kind.VERBAL_ORDER, "doc_types": [VERBAL_ORDER], "event": Event.DOCUMENT,
     "due_hours": 48, "responsible": Responsible.AUTHOR, "in_house": True},
    {"code": "dictation", "name": "Dictated notes transcribed and made final",
     "cites": "R-RC-1", "kind": Kind.DICTATION, "doc_types": _SIGNED_NOTES,
     "event": Event.DISCHARGE, "due_hours": 30 * 24,
     "responsible": Responsible.AUTHOR},
)  # fmt: skip


def snapshot(rule: DeficiencyRule) -> dict[str, Any]:
    """The rule as data, the way it is exported and versioned."""
    data = {name: getattr(rule, name) for name in FIELDS if name != "facility"}
    data["facility"] = rule.facility.code if rule.facility is not None else ""
    return {name: data[name] for name in FIELDS}


def check_rule(rule: DeficiencyRule) -> None:
    problems = []
    if rule.kind not in Kind.values:
        problems.append(f"unknown kind {rule.kind!r}")
    if rule.event not in Event.values:
        problems.append(f"unknown event {rule.event!r}")
    if rule.responsible not in Responsible.values:
        problems.append(f"unknown responsible party {rule.responsible!r}")
    if rule.kind == Kind.MISSING_DOCUMENT and not rule.doc_types:
        problems.append("a missing-document rule names its document types")
    if rule.kind == Kind.MISSING_DOCUMENT and rule.event == Event.DOCUMENT:
        problems.append("a missing-document rule counts from a visit's event")
    if rule.kind == Kind.INCOMPLETE and not rule.required_phrases:
        problems.append("an incomplete-content rule names its required phrases")
    if rule.kind == Kind.COSIGNATURE and not rule.author_roles:
        problems.append("a co-signature rule names the authors' standings")
    for name in ("encounter_classes", "doc_types", "update_doc_types", "author_roles",
                 "required_phrases", "procedure_codes"):  # fmt: skip
        value = getattr(rule, name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{name} is a list of texts")
    if problems:
        raise ValidationFailed(f"rule {rule.code}: " + "; ".join(problems))


def save_rule(*, actor: Actor, rule: DeficiencyRule, reason: str = "") -> bool:
    """Save a rule; a change makes a new version, the previous one kept with who
    and when. Returns whether anything changed (nothing changed writes nothing)."""
    check_rule(rule)
    with transaction.atomic():
        data = snapshot(rule)
        last = None
        if rule.pk is not None:
            last = rule.versions.order_by("-version").first()
        if last is not None and last.data == data:
            return False
        rule.version = last.version + 1 if last is not None else 1
        rule.save()
        DeficiencyRuleVersion.objects.create(
            rule=rule, version=rule.version, data=data, changed_by=actor.username,
            changed_at=timezone.now(), reason=reason[:300],
        )  # fmt: skip
        record(
            actor=actor,
            action=actions.COMPLETION_RULE.name,
            obj=rule,
            detail={"code": rule.code, "version": rule.version, "reason": reason,
                    "previous": last.data if last is not None else None},
        )  # fmt: skip
    return True


# --- YAML -------------------------------------------------------------------------------


def export_rules(*, facility: Facility | None = None) -> str:
    """Every rule (or a facility's and the shared ones) as YAML."""
    rules = DeficiencyRule.objects.select_related("facility")
    if facility is not None:
        rules = rules.filter(Q(facility=facility) | Q(facility=None))
    return dump({"rules": [snapshot(r) for r in rules.order_by("code")]})


def dump(data: dict[str, Any]) -> str:
    """The one place the format is chosen (PyYAML; its safe subset only)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"not valid YAML: {exc}") from None


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def import_rules(*, actor: Actor, text: str, reason: str = "imported") -> ImportResult:
    """Create or change rules by their code (each change a new version); all or
    nothing: one bad rule refuses the whole file, naming it."""
    data = load(text)
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValidationFailed("the file holds a list under 'rules:'")
    result = ImportResult()
    with transaction.atomic():
        for item in items:
            rule, created = _rule_from(item)
            if save_rule(actor=actor, rule=rule, reason=reason):
                (result.created if created else result.changed).append(rule.code)
            else:
                result.unchanged.append(rule.code)
    return result


def _rule_from(item: Any) -> tuple[DeficiencyRule, bool]:
    if not isinstance(item, dict) or not item.get("code"):
        raise ValidationFailed(f"each rule is a mapping with a code, not {item!r}")
    unknown = set(item) - set(FIELDS)
    if unknown:
        raise ValidationFailed(
            f"rule {item['code']}: unknown fields {', '.join(sorted(unknown))}; "
            f"use {', '.join(FIELDS)}"
        )
    rule = DeficiencyRule.objects.filter(code=item["code"]).first()
    created = rule is None
    rule = rule or DeficiencyRule(code=item["code"])
    for name, value in item.items():
        if name == "facility":
            rule.facility = _facility(item["code"], value)
        elif name != "code":
            setattr(rule, name, value)
    return rule, created


def _facility(code: str, value: Any) -> Facility | None:
    if not value:
        return None
    found = Facility.objects.filter(code=str(value)).first()
    if found is None:
        raise ValidationFailed(f"rule {code}: no facility {value!r}")
    return found
