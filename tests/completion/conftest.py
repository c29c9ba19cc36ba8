import pytest

from tests import factories


@pytest.fixture
def attending(db):
    return factories.provider("Attending", "Alice")


@pytest.fixture
def surgeon(db):
    return factories.provider("Surgeon", "Sam")


@pytest.fixture
def resident(db):
    return factories.provider("Resident", "Ruth")


@pytest.fixture
def person(db, facility):
    return factories.patient(facility=facility, family="Doe", given="Jane")
