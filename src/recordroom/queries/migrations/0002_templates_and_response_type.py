from django.db import migrations


def seed(apps, schema_editor):
    """The shipped query templates, and the document type a query's answer is filed
    under when it is its own document."""
    from recordroom.queries.seed import TEMPLATES

    QueryTemplate = apps.get_model("queries", "QueryTemplate")
    DocumentType = apps.get_model("records", "DocumentType")
    for code, name, fmt, purpose, question, options, ground in TEMPLATES:
        QueryTemplate.objects.get_or_create(code=code, defaults={
            "name": name, "format": fmt, "purpose": purpose, "question": question,
            "options": list(options), "yes_no_ground": ground})  # fmt: skip
    DocumentType.objects.get_or_create(
        system="urn:recordroom:document-type", code="QRYRESP",
        defaults={"display": "Provider query response", "category": "clinical-note",
                  "requires_signature": True})  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("queries", "0001_initial"),
        ("records", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
