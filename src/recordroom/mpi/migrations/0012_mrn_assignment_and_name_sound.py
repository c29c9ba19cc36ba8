"""MRN assignment settings per facility (mpi.mrn), and each name's surname sound
(metaphone) for tolerant search, filled for the names already stored."""

import re

import jellyfish
from django.db import migrations, models

BATCH = 2000


def _sound(family_key):
    # as mpi.search_keys.sound_key at the time of this migration
    compact = re.sub(r"[^a-z]", "", family_key or "")
    if not compact:
        return ""
    try:
        return (jellyfish.metaphone(compact) or "")[:40].upper()
    except (ValueError, IndexError):
        return ""


def fill_sounds(apps, schema_editor):
    PatientName = apps.get_model("mpi", "PatientName")
    last = 0
    while True:
        rows = list(
            PatientName.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "family_key")[:BATCH]
        )
        if not rows:
            return
        for row in rows:
            row.family_sound = _sound(row.family_key)
        PatientName.objects.bulk_update(rows, ["family_sound"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("mpi", "0011_held_merges_and_overrides"),
    ]

    operations = [
        migrations.AddField(
            model_name="facility",
            name="mrn_check_digit",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("luhn", "Luhn (mod 10)"),
                    ("mod11", "Mod 11 (as the NHS number)"),
                ],
                default="none",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="facility",
            name="mrn_next",
            field=models.PositiveBigIntegerField(
                default=1, help_text="The number the next registration here is given"
            ),
        ),
        migrations.AddField(
            model_name="facility",
            name="mrn_prefix",
            field=models.CharField(blank=True, default="", max_length=10),
        ),
        migrations.AddField(
            model_name="facility",
            name="mrn_source",
            field=models.CharField(
                choices=[
                    ("here", "Assigned here at registration"),
                    ("external", "From another system (typed or sent)"),
                ],
                default="external",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="facility",
            name="mrn_width",
            field=models.PositiveSmallIntegerField(
                default=8,
                help_text="Digits of the number, zero padded (check digit apart)",
            ),
        ),
        migrations.AddField(
            model_name="patientname",
            name="family_sound",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=40
            ),
        ),
        migrations.RunPython(fill_sounds, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="patientname",
            index=models.Index(
                fields=["family_sound", "given_key", "patient"],
                name="name_sound_given_pat_idx",
            ),
        ),
    ]
