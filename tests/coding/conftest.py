"""ICD-10-CM loaded once per test session (about a minute on a busy machine: see
docs/performance.md), into the test database, outside the tests' transactions, so
that every test reads it and none can change it for the next."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from recordroom.coding.codesets import releases
from recordroom.coding.models import CodeSetVersion, System
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def _icd10cm_loaded(django_db_setup, django_db_blocker):
    from recordroom.coding.loaders import load_icd10cm

    with django_db_blocker.unblock():
        version = CodeSetVersion.objects.filter(system=System.ICD10CM).first()
        if version is None:
            if connection.vendor == "sqlite":  # an index left by a flushed table
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO coding_code_fts(coding_code_fts) VALUES('delete-all')"
                    )
            version = load_icd10cm(actor=factories.SYSTEM).version
    return version


@pytest.fixture
def icd10cm(_icd10cm_loaded, db):
    """The package's ICD-10-CM release (FY2026 April update), with the in-memory
    releases forgotten before and after each test (a test may load others)."""
    releases.forget()
    yield _icd10cm_loaded
    releases.forget()
