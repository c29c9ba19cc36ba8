"""The default auto-file rule: a document files itself when its patient confidence is
at least 0.98 and its type confidence at least 0.90 (how they were chosen:
docs/admin-guide.md, "Capture: reading, matching and auto-file thresholds")."""

from django.db import migrations

MIN_PATIENT = 0.98
MIN_TYPE = 0.90


def seed(apps, schema_editor):
    rule = apps.get_model("capture", "AutoFileRule")
    if not rule.objects.filter(source=None, doc_type=None).exists():
        rule.objects.create(enabled=True, min_patient=MIN_PATIENT, min_type=MIN_TYPE)


def unseed(apps, schema_editor):
    apps.get_model("capture", "AutoFileRule").objects.filter(
        source=None, doc_type=None, min_patient=MIN_PATIENT, min_type=MIN_TYPE
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("capture", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
