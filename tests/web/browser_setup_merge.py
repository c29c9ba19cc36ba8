"""More data for the merge rules' browser test: twins (a merge the rules refuse)
and two records of one man whose SSNs differ by a typo. Run as
`python -m tests.web.browser_setup_merge` (prints both pairs' ids)."""

from __future__ import annotations

import json
from datetime import date

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from tests import factories

    north = Facility.objects.get(code="NORTH")
    born = date(2001, 3, 4)
    mary = factories.patient(
        facility=north, family="Lund", given="Mary", birth_date=born
    )
    mark = factories.patient(
        facility=north, family="Lund", given="Mark", birth_date=born
    )
    tao = factories.patient(facility=north, family="Ng", given="Tao", ssn="900-55-1234")
    tao2 = factories.patient(
        facility=north, family="Ng", given="Tao", ssn="900-55-1243"
    )
    print(json.dumps({"twins": [str(mary.pk), str(mark.pk)],
                      "typo": [str(tao.pk), str(tao2.pk)]}))  # fmt: skip


if __name__ == "__main__":
    main()
