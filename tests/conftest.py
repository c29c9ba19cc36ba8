"""Shared fixtures: a blob store per test, facilities, users per role, factories."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _blob_dir(settings, tmp_path):
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def facility(db):
    return factories.facility("NORTH")


@pytest.fixture
def other_facility(db):
    return factories.facility("SOUTH")


@pytest.fixture
def him(db, facility):
    return factories.user("him1", "him_specialist", facilities=[facility])


@pytest.fixture
def patient(db, facility, him):
    return factories.patient(
        facility=facility, family="Núñez", given="José", mrn="N100001"
    )


@pytest.fixture
def chart_patient(db, facility):
    return factories.patient_with_history(facility=facility)


@pytest.fixture
def encounter(db, chart_patient, facility):
    return factories.encounter(
        patient=chart_patient, facility=facility, account="V900123", cls="IMP"
    )
