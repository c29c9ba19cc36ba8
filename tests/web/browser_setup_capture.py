"""The indexing queue for its browser test, in the browser test's data folder: one
scanned batch of four pages cut into a clean proposal (pages 1-2, José Núñez at 0.99,
a discharge summary) and a doubtful one (pages 3-4, 0.62). Run as
`python -m tests.web.browser_setup_capture`."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility, Patient
    from recordroom.records.models import DocumentType
    from tests.capture.queue_data import batch, document, mrn_value, source

    north = Facility.objects.get(code="NORTH")
    patient = Patient.objects.get(identifiers__value="N100001")
    kind = DocumentType.objects.get(code="18842-5")
    scanned = batch(
        ["Discharge summary\nMRN N100001", "Page two", "Outside records\nMRN N1000O1",
         "Outside records, page two"],
        src=source("Scanner 1", north), facility=north,
    )  # fmt: skip
    clean = document(scanned, [1, 2], patient=patient, confidence=0.99, doc_type=kind,
                     type_confidence=0.82, values=[mrn_value(1, "N100001")],
                     reasons=["type confidence 0.82 below 0.90"])  # fmt: skip
    doubtful = document(scanned, [3, 4], patient=patient, confidence=0.62,
                        doc_type=kind, values=[mrn_value(3, "N1000O1")])  # fmt: skip
    print(json.dumps({"clean": str(clean.pk), "doubtful": str(doubtful.pk)}))


if __name__ == "__main__":
    main()
