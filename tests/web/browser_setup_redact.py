"""Data for the redaction preview's browser test, added to the browser test's data
folder: an ROI specialist at NORTH and a request whose one selected document has a
letter page and an A5 landscape page. Run as `python -m tests.web.browser_setup_redact`
(prints the request's and the item's ids)."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from recordroom.release import scope
    from recordroom.release.requests import log_request
    from tests import factories
    from tests.release.conftest import request_in
    from tests.release.makers import file_doc
    from tests.web.test_release_preview import two_sizes

    north = Facility.objects.get(code="NORTH")
    user = factories.user("roi.web", "roi_specialist", facilities=[north])
    patient = factories.patient(facility=north, family="Quintero", given="Lucía",
                                mrn="N300301")  # fmt: skip
    file_doc(patient=patient, facility=north, title="Discharge summary",
             data=two_sizes())  # fmt: skip
    req = log_request(actor=factories.actor(user), data=request_in(patient))
    (item,) = scope.select_documents(actor=factories.actor(user), req=req)
    print(json.dumps({"request": str(req.pk), "item": item.pk}))


if __name__ == "__main__":
    main()
