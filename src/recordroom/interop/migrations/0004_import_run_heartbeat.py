"""Import runs record their process and a heartbeat, so a killed run is found and failed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0003_export_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="importrun",
            name="host",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="importrun",
            name="pid",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="importrun",
            name="reason",
            field=models.TextField(
                blank=True, default="", help_text="why a failed run failed"
            ),
        ),
    ]
