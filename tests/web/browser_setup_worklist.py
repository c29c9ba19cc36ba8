"""The duplicate worklist for its browser test, in the browser test's data folder:
a finished scan of 45 pairs (tests/mpi/worklist_data.py) and a second specialist
to assign pairs to. Run as `python -m tests.web.browser_setup_worklist`."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from tests import factories
    from tests.mpi.worklist_data import build_worklist

    north, south = (
        Facility.objects.get(code="NORTH"),
        Facility.objects.get(code="SOUTH"),
    )
    run, _ = build_worklist(north, south)
    factories.user("north.web", "him_specialist", facilities=[north])
    print(json.dumps({"run": str(run.pk)}))


if __name__ == "__main__":
    main()
