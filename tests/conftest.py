"""Shared fixtures: a blob store per test, facilities, users per role, factories."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(scope="session", autouse=True)
def _keys():
    """The test set-up is a first-time setup: it creates the keys a new data folder
    lacks (nothing else does; a start without them is refused)."""
    from recordroom.kernel import keys

    # The suite's data folder is the suite's own and its database is made new, so the
    # keys a later version added (the audit keys) have had nothing to be used by.
    keys.install({spec.setting: spec.make() for spec in keys.missing()})


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
    # The shared chart (chart_patient) is a VIP's with an HIV result: him1 works it
    # under a per-user grant of both, as a privacy officer would give one (tests of
    # the label rules themselves use users without it: tests/records/test_labels.py).
    return factories.grant_labels(
        factories.user("him1", "him_specialist", facilities=[facility]), "VIP", "HIV"
    )


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
