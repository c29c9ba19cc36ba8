"""Release-of-information fixtures: an ROI specialist, a patient with a history of
real PDF documents, and a request builder."""

from __future__ import annotations

import pytest

from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import Facility
from recordroom.release.requests import RequestIn, log_request
from tests import factories


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def roi_actor(roi):
    return Actor(user=roi, channel="web")


@pytest.fixture
def reviewer_actor(db, facility):
    user = factories.user("roi2", "roi_specialist", facilities=[facility])
    return Actor(user=user, channel="web")


def request_in(patient, **over) -> RequestIn:
    # received today on the facility's calendar (not the machine's: R-ACC-2 counts
    # from the facility's date)
    today = clock.today(Facility.objects.get(code=over.get("facility_code", "NORTH")))
    base = dict(
        patient_id=patient.pk, facility_code="NORTH", requester_type="patient",
        requester_name="Jane Doe", received_on=today, channel="mail",
        format="pdf", delivery="download", requester_email="jane@example.org",
        entire_record=True,
        # a third party gets the entire record only with a reason (R-MIN-6);
        # tests of that rule pass their own
        entire_record_reason="the claim concerns the whole course of care",
    )  # fmt: skip
    base.update(over)
    return RequestIn(**base)


@pytest.fixture
def make_request(roi_actor):
    def make(patient, **over):
        return log_request(actor=roi_actor, data=request_in(patient, **over))

    return make
