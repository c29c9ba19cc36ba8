"""Document versions and signatures are never changed or deleted (R-SEC-3)."""

from django.db import migrations

from recordroom.kernel.db import make_append_only


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [make_append_only("records_documentversion", "records_signature")]
