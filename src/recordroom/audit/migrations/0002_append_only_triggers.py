"""UPDATE and DELETE on audit events are refused by the database itself (R-SEC-2)."""

from django.db import migrations

from recordroom.kernel.db import make_append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [make_append_only("audit_auditevent")]
