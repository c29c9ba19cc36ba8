"""Charts for the provider inbox's browser test, in the browser test's data folder:
a provider account (dr.web) linked to the attending of three discharged visits, each
with an unsigned progress note (and a discharge summary and H&P missing). Run as
`python -m tests.web.browser_setup_inbox` (prints the notes' ids)."""

from __future__ import annotations

import json
from datetime import timedelta

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from recordroom.records.models import Provider
    from tests import factories
    from tests.completion.charts import ADMIT, file, visit

    from .conftest import PASSWORD

    north = Facility.objects.get(code="NORTH")
    attending = factories.provider("Okonkwo", "Ada")
    user = factories.user("dr.web", "provider", facilities=[north], password=PASSWORD)
    Provider.objects.filter(pk=attending.pk).update(user=user)
    notes = []
    for i, (family, given) in enumerate(
        (("Lindqvist", "Maja"), ("Haddad", "Omar"), ("Ferreira", "Ana"))
    ):
        who = factories.patient(facility=north, family=family, given=given,
                                mrn=f"N50050{i}")  # fmt: skip
        enc = visit(patient=who, facility=north, attending=attending)
        notes.append(file(enc, "11506-3", ADMIT + timedelta(days=1), author=attending,
                          text=f"Progress note {i + 1}: {given} {family}, stable."))  # fmt: skip
    print(json.dumps({"notes": [str(n.pk) for n in notes]}))


if __name__ == "__main__":
    main()
