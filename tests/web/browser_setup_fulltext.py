"""Data for the search-inside-documents browser test, added to the browser test's data
folder: a two-page consult in José Núñez's chart, and every version's text indexed
(as `recordroom worker` would). Run as `python -m tests.web.browser_setup_fulltext`."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility, PatientIdentifier
    from recordroom.records import fulltext
    from tests.records.test_fulltext import add, pdf

    north = Facility.objects.get(code="NORTH")
    patient = PatientIdentifier.objects.get(value="N100001").patient
    doc = add(patient, north, "Cardiology consult", 3, pdf([
        ["Cardiology consultation", "Reason: palpitations"],
        ["Echocardiogram: mild mitral regurgitation", "Plan: repeat in one year"],
    ]))  # fmt: skip
    done = fulltext.reindex()
    print(json.dumps({"document": str(doc.pk), "pages": done.pages}))


if __name__ == "__main__":
    main()
