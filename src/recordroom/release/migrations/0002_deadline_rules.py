"""Federal default deadline rules (configuration as data, editable in the admin):
the right of access 30 days plus one 30-day extension (R-ACC-2); the proposed
15 + 15 days (R-ACC-2P, not final law) under its own profile, off by default; every
other requester 30 days with no extension, as a house default to adjust per state."""

from django.db import migrations

ACCESS = ("patient", "representative", "directive")


def seed(apps, schema_editor):
    rule = apps.get_model("release", "DeadlineRule")
    rows = [
        rule(
            requester_type="",
            profile="hipaa",
            days=30,
            extension_days=0,
            rule="house default",
            note="Third-party requests: no federal deadline; "
            "set state rules here (R-STATE-3).",
        ),
    ]
    for kind in ACCESS:
        rows.append(
            rule(
                requester_type=kind,
                profile="hipaa",
                days=30,
                extension_days=30,
                rule="R-ACC-2",
                note="30 days from receipt; one 30-day extension with a "
                "written notice given within the first 30.",
            )
        )
        rows.append(
            rule(
                requester_type=kind,
                profile="proposed-15",
                days=15,
                extension_days=15,
                rule="R-ACC-2P",
                note="Proposed rule (86 FR 6446), not final: used only when "
                "RECORDROOM_ROI_DEADLINE_PROFILE=proposed-15.",
            )
        )
    rule.objects.bulk_create(rows)


def unseed(apps, schema_editor):
    apps.get_model("release", "DeadlineRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("release", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
