"""Interface messages keep a hash of their content (MSH-7 and MSH-10 set aside) and
their warnings; duplicates are looked up by sending application, facility and control id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0004_import_run_heartbeat"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="interfacemessage",
            name="ifmsg_sender_ctrl_idx",
        ),
        migrations.AddField(
            model_name="interfacemessage",
            name="content_sha256",
            field=models.CharField(
                blank=True,
                default="",
                help_text="SHA-256 of the message with MSH-7 and MSH-10 set aside: "
                "the same for a resend, different for another message under a reused "
                "control id",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="interfacemessage",
            name="warnings",
            field=models.TextField(
                blank=True,
                default="",
                help_text="what was accepted but is worth a look, one per line (e.g. "
                "an undeclared character set read as Windows-1252)",
            ),
        ),
        migrations.AddIndex(
            model_name="interfacemessage",
            index=models.Index(
                fields=["sending_app", "sending_facility", "control_id"],
                name="ifmsg_app_sender_ctrl_idx",
            ),
        ),
    ]
