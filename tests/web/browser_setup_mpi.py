"""More data for the MPI dashboard's browser test, added to the browser test's
data folder: a registration at SOUTH that search before create linked to a NORTH
chart. Run as `python -m tests.web.browser_setup_mpi` (prints the chart's id)."""

from __future__ import annotations

import json
from datetime import date

import django


def main() -> None:
    django.setup()
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.linkage.registration import register
    from recordroom.mpi.models import Facility
    from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn

    feed = Actor(channel="api", name="adt-feed")
    outcomes = []
    for code, mrn in (("NORTH", "N400400"), ("SOUTH", "S400400")):
        data = PatientIn(
            names=[NameIn(family="Lindqvist", given="Maja")], sex="female",
            birth_date=date(1972, 11, 30),
            identifiers=[IdentifierIn(kind="MR", value=mrn,
                                      facility=Facility.objects.get(code=code)),
                         IdentifierIn(kind="SS", value="987-65-4321")],
            addresses=[{"line1": "7 Birch Ave", "city": "Duluth", "state": "MN",
                        "postal_code": "55802"}],
        )  # fmt: skip
        outcomes.append(register(actor=feed, data=data, source="api"))
    assert [o.outcome for o in outcomes] == ["created", "linked"], outcomes
    print(json.dumps({"chart": str(outcomes[1].patient.pk)}))


if __name__ == "__main__":
    main()
