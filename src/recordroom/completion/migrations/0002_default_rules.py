"""The default deficiency rules (R-RC-1 to R-RC-6), each with its version 1, and the
local document types they name (H&P update note, anesthesia evaluations, verbal
order). Frozen here: later changes to the defaults are new migrations or admin edits."""

from typing import Any

from django.db import migrations

LOCAL = "urn:recordroom:document-type"
TYPES = [
    ("HPUPDATE", "History and physical update note"),
    ("ANESPRE", "Pre-anesthesia evaluation"),
    ("ANESPOST", "Post-anesthesia evaluation"),
    ("VORDER", "Verbal order"),
]

RULES: list[dict[str, Any]] = [
    {
        "code": "hp-admission",
        "name": "History and physical within 24 hours after admission, or 30 days before "
        "with an update note",
        "cites": "R-RC-3",
        "facility": "",
        "encounter_classes": ["IMP", "SS", "OBSENC"],
        "service": "",
        "kind": "missing-document",
        "doc_types": ["34117-2"],
        "event": "admission",
        "window_before_hours": 720,
        "window_after_hours": None,
        "due_hours": 24,
        "update_doc_types": ["HPUPDATE"],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "attending",
        "in_house": True,
        "active": True,
    },
    {
        "code": "operative-report",
        "name": "Operative report immediately after surgery",
        "cites": "R-RC-4",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "missing-document",
        "doc_types": ["11504-8"],
        "event": "procedure-end",
        "window_before_hours": 24,
        "window_after_hours": None,
        "due_hours": 0,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "surgeon",
        "in_house": True,
        "active": True,
    },
    {
        "code": "pre-anesthesia",
        "name": "Pre-anesthesia evaluation within 48 hours before surgery",
        "cites": "R-RC-5",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "missing-document",
        "doc_types": ["ANESPRE"],
        "event": "procedure-start",
        "window_before_hours": 48,
        "window_after_hours": 0,
        "due_hours": 0,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "surgeon",
        "in_house": True,
        "active": True,
    },
    {
        "code": "post-anesthesia",
        "name": "Post-anesthesia evaluation within 48 hours after surgery",
        "cites": "R-RC-5",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "missing-document",
        "doc_types": ["ANESPOST"],
        "event": "procedure-end",
        "window_before_hours": 0,
        "window_after_hours": None,
        "due_hours": 48,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "surgeon",
        "in_house": True,
        "active": True,
    },
    {
        "code": "discharge-summary",
        "name": "Discharge summary after discharge (set the days your medical staff "
        "bylaws allow)",
        "cites": "R-RC-6",
        "facility": "",
        "encounter_classes": ["IMP", "SS", "OBSENC"],
        "service": "",
        "kind": "missing-document",
        "doc_types": ["18842-5"],
        "event": "discharge",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 720,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "attending",
        "in_house": False,
        "active": True,
    },
    {
        "code": "discharge-summary-diagnoses",
        "name": "A discharge summary names the discharge diagnoses and the disposition",
        "cites": "R-RC-6",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "incomplete-content",
        "doc_types": ["18842-5"],
        "event": "discharge",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 720,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": ["discharge diagnos|final diagnos", "disposition"],
        "procedure_codes": [],
        "responsible": "author",
        "in_house": False,
        "active": True,
    },
    {
        "code": "signature",
        "name": "Notes authenticated by their author",
        "cites": "R-RC-1",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "signature",
        "doc_types": [
            "34117-2",
            "18842-5",
            "11504-8",
            "28570-0",
            "11506-3",
            "11488-4",
            "18761-7",
            "HPUPDATE",
            "ANESPRE",
            "ANESPOST",
        ],
        "event": "discharge",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 720,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "author",
        "in_house": False,
        "active": True,
    },
    {
        "code": "cosignature",
        "name": "Notes by residents, students and advanced practice providers co-signed "
        "by the attending",
        "cites": "R-RC-1",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "cosignature",
        "doc_types": [
            "34117-2",
            "18842-5",
            "11504-8",
            "28570-0",
            "11506-3",
            "11488-4",
            "18761-7",
            "HPUPDATE",
            "ANESPRE",
            "ANESPOST",
        ],
        "event": "discharge",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 720,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": ["resident", "student", "app"],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "attending",
        "in_house": False,
        "active": True,
    },
    {
        "code": "verbal-order",
        "name": "Verbal orders authenticated by the ordering practitioner "
        "(VERBAL_ORDER_AUTH_HOURS: 48)",
        "cites": "R-RC-2",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "verbal-order",
        "doc_types": ["VORDER"],
        "event": "document",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 48,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "author",
        "in_house": True,
        "active": True,
    },
    {
        "code": "dictation",
        "name": "Dictated notes transcribed and made final",
        "cites": "R-RC-1",
        "facility": "",
        "encounter_classes": [],
        "service": "",
        "kind": "dictation",
        "doc_types": [
            "34117-2",
            "18842-5",
            "11504-8",
            "28570-0",
            "11506-3",
            "11488-4",
            "18761-7",
            "HPUPDATE",
            "ANESPRE",
            "ANESPOST",
        ],
        "event": "discharge",
        "window_before_hours": None,
        "window_after_hours": None,
        "due_hours": 720,
        "update_doc_types": [],
        "update_within_hours": 24,
        "author_roles": [],
        "required_phrases": [],
        "procedure_codes": [],
        "responsible": "author",
        "in_house": False,
        "active": True,
    },
]


def forwards(apps, schema_editor):
    from django.utils import timezone

    DocumentType = apps.get_model("records", "DocumentType")
    Rule = apps.get_model("completion", "DeficiencyRule")
    Version = apps.get_model("completion", "DeficiencyRuleVersion")
    for code, display in TYPES:
        DocumentType.objects.get_or_create(
            code=code,
            defaults={
                "system": LOCAL,
                "display": display,
                "category": "clinical-note",
                "requires_signature": True,
            },
        )
    now = timezone.now()
    for data in RULES:
        fields = {k: v for k, v in data.items() if k not in ("code", "facility")}
        rule, created = Rule.objects.get_or_create(code=data["code"], defaults=fields)
        if created:
            Version.objects.create(
                rule=rule,
                version=1,
                data=data,
                changed_by="migration",
                changed_at=now,
                reason="default rule shipped with Recordroom",
            )


def backwards(apps, schema_editor):
    Rule = apps.get_model("completion", "DeficiencyRule")
    Rule.objects.filter(
        code__in=[r["code"] for r in RULES], deficiencies__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("completion", "0001_initial"), ("records", "0008_hl7_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
