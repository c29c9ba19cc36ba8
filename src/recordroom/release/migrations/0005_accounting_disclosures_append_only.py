"""UPDATE and DELETE of accounting-of-disclosures entries are refused by the
database itself: an entry is corrected only by a new one (R-AOD, issue 5)."""

from django.db import migrations

from recordroom.kernel.db import make_append_only


class Migration(migrations.Migration):
    dependencies = [("release", "0004_accounting_models")]
    operations = [make_append_only("release_disclosure")]
