"""ICD-10-CM loaded once per test session (about a minute on a busy machine: see
docs/performance.md), into the test database, outside the tests' transactions, so
that every test reads it and none can change it for the next.

It is stored as `load_icd10cm` stores it, without its audit event: an audit row
cannot be removed, and one left outside the tests' transactions would be seen by
every test of the audit trail after these (the audited load is tested by
test_codesets.py with smaller files and refused reloads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from recordroom.coding.codesets import releases
from recordroom.coding.models import CodeSetVersion, System

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def _icd10cm_loaded(django_db_setup, django_db_blocker):
    from django.db import transaction
    from simple_icd_10_cm import simple_icd_10_cm as cm

    from recordroom.coding import loaders

    with django_db_blocker.unblock():
        version = CodeSetVersion.objects.filter(system=System.ICD10CM).first()
        if version is None:
            if connection.vendor == "sqlite":  # an index left by a flushed table
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO coding_code_fts(coding_code_fts) VALUES('delete-all')"
                    )
            _name, year, month = loaders._package_release()
            start, end = loaders.fiscal_year_dates(year, month)
            with transaction.atomic():
                version = loaders._new_version(
                    system=System.ICD10CM,
                    label="FY2026 April update",
                    effective_from=start,
                    effective_to=end,
                    source="simple-icd-10-cm (test session)",
                )
                loaders._store(version, loaders._cm_rows(version, list(cm._chapter_list)))
    return version


@pytest.fixture
def icd10cm(_icd10cm_loaded, db):
    """The package's ICD-10-CM release (FY2026 April update), with the in-memory
    releases forgotten before and after each test (a test may load others)."""
    releases.forget()
    yield _icd10cm_loaded
    releases.forget()
