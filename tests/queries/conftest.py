"""Query fixtures: a discharged visit with a real PDF progress note (text indexed), a
hemoglobin result, a CDI specialist, and an attending who has a user account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from recordroom.kernel.actor import Actor
from recordroom.queries import services
from recordroom.records.models import Provider
from recordroom.records.results import ObservationIn, ResultIn, file_result
from tests import factories
from tests.release.makers import file_doc

NOTE = ["Progress note", "Hemoglobin dropped after surgery.",
        "Transfused two units of packed red cells.", "Heart failure, on furosemide."]  # fmt: skip


@pytest.fixture
def cdi(db, facility):
    return factories.user("cdi1", "cdi_specialist", facilities=[facility])


@pytest.fixture
def cdi_actor(cdi):
    return Actor(user=cdi, channel="web")


@pytest.fixture
def doctor(db, facility):
    prov = factories.provider(family="Osler", given="William")
    user = factories.user("osler", "provider", facilities=[facility])
    Provider.objects.filter(pk=prov.pk).update(user=user)
    prov.refresh_from_db()
    return prov


@pytest.fixture
def doctor_actor(doctor):
    return Actor(user=doctor.user, channel="web")


@pytest.fixture
def visit(patient, facility, doctor):
    enc = factories.encounter(patient=patient, facility=facility, account="V-Q1")
    enc.attending = doctor
    enc.save(update_fields=["attending"])
    return enc


@pytest.fixture
def note(patient, facility, visit, doctor):
    doc = file_doc(patient=patient, facility=facility, title="Progress note",
                   code="11506-3", days_ago=8, encounter=visit, pages=[NOTE])  # fmt: skip
    doc.author = doctor
    doc.save(update_fields=["author"])
    return doc


@pytest.fixture
def hemoglobin(patient, facility, visit):
    at = datetime.now(UTC) - timedelta(days=8)
    filed = file_result(actor=factories.SYSTEM, data=ResultIn(
        patient=patient, facility=facility, encounter=visit, code="58410-2",
        display="CBC panel", effective_at=at, filler_number="F-Q1", source="LAB",
        performer_name="North Lab", observations=[ObservationIn(
            code="718-7", display="Hemoglobin", value_type="NM",
            value_number=Decimal("7.1"), units="g/dL", reference_range="13.5-17.5",
            abnormal_flags=["L"], effective_at=at)]))  # fmt: skip
    return filed.report.observations.get()


@pytest.fixture
def make_query(cdi_actor, visit, doctor, note, hemoglobin):
    def make(**over):
        data = dict(
            actor=cdi_actor, encounter=visit, provider=doctor, format="multiple",
            purpose="imprecise",
            question="Based on the clinical indicators below, please clarify the "
                     "type of anemia being monitored and treated, if any.",
            options=["Acute blood loss anemia", "Anemia of chronic disease"],
            document=note,
            indicators=[services.IndicatorIn(observation_id=hemoglobin.pk),
                        services.IndicatorIn(document_id=note.pk, kind="treatment",
                                             quote="Transfused two units of packed "
                                                   "red cells")])  # fmt: skip
        data.update(over)
        return services.raise_query(**data)

    return make
