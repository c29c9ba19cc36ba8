"""Seed the shipped document types (records.doctypes.SEED)."""

from django.db import migrations


def seed(apps, schema_editor):
    from recordroom.records.doctypes import SEED

    DocumentType = apps.get_model("records", "DocumentType")
    for system, code, display, category, labels, signed in SEED:
        DocumentType.objects.get_or_create(
            code=code,
            defaults={
                "system": system,
                "display": display,
                "category": category,
                "default_sensitivity": list(labels),
                "requires_signature": signed,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0002_versions_and_signatures_append_only")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
