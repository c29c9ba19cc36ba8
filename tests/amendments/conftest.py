"""Amendment fixtures: an HIM specialist, a chart with a real PDF note written by a
provider who has a user account, and a request maker."""

from __future__ import annotations

import pytest

from recordroom.amendments import services
from recordroom.kernel.actor import Actor
from recordroom.records.models import Provider
from tests import factories
from tests.release.conftest import make_request, roi, roi_actor  # noqa: F401
from tests.release.makers import file_doc


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.ROI_CONTACT = "Privacy Officer"
    settings.ROI_CONTACT_PHONE = "(617) 555-0100"


@pytest.fixture
def him_actor(him):
    return Actor(user=him, channel="web")


@pytest.fixture
def author(db, facility):
    prov = factories.provider(family="Osler", given="William")
    user = factories.user("osler", "provider", facilities=[facility])
    Provider.objects.filter(pk=prov.pk).update(user=user)
    prov.refresh_from_db()
    return prov


@pytest.fixture
def author_actor(author):
    return Actor(user=author.user, channel="web")


@pytest.fixture
def note(patient, facility, author):
    doc = file_doc(patient=patient, facility=facility, title="Progress note",
                   code="11506-3", days_ago=20,
                   pages=[["Progress note", "Patient smokes one pack a day."]])  # fmt: skip
    doc.author = author
    doc.save(update_fields=["author"])
    return doc


@pytest.fixture
def make_amendment(him_actor, patient, facility, note):
    def make(**over):
        data = dict(
            actor=him_actor, patient=patient, facility=facility,
            received_on=factories.facility_today(), received_how="mail",
            requested_by="José Núñez", address="12 Elm St\nSalem, MA 01970",
            change="Remove that I smoke: I have never smoked.",
            reason="The note confuses me with my brother.",
            document_ids=[note.pk],
            notify=[{"name": "Dr. Ana Ruiz", "address": "1 Clinic Way\nSalem, MA"}],
        )  # fmt: skip
        data.update(over)
        return services.log_request(**data)

    return make
