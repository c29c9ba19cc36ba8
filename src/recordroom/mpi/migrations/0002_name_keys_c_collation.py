"""Name search keys sort by bytes on PostgreSQL too, for prefix range scans."""

from django.db import migrations

from recordroom.kernel.db import search_key_collation


class Migration(migrations.Migration):
    dependencies = [("mpi", "0001_initial")]
    operations = [
        search_key_collation(
            ("mpi_patientname", "family_key"), ("mpi_patientname", "given_key")
        )
    ]
